"""Every table of the tool, in dependency order.

``MODELS`` is what ``create_tables`` and the migrations test use; each submodule
holds one area (``lti``, ``content``, ``progress``, ``passback``) with its hot
queries as model methods; ``sections`` reads a module's pages with a learner's
state in each, and ``learning`` what the learner's pages read (a module with its
current version and the learner's standing). Queries are prepared once
(:class:`lms_plugin.db.Prepared`) and return whole rows or named tuples.
"""

from lms_plugin.models.content import CONTENT_MODELS
from lms_plugin.models.lti import LTI_MODELS
from lms_plugin.models.passback import PASSBACK_MODELS
from lms_plugin.models.progress import PROGRESS_MODELS

MODELS: list = [*LTI_MODELS, *CONTENT_MODELS, *PROGRESS_MODELS, *PASSBACK_MODELS]
