"""Every table of the tool, in dependency order.

``MODELS`` is what ``create_tables`` and the migrations test use; each submodule
holds one area (``lti``, ``content``, ``progress``, ``passback``) with its hot
queries; ``sections`` reads a module's pages with a learner's state in each.
"""

from lms_plugin.models.content import CONTENT_MODELS
from lms_plugin.models.lti import LTI_MODELS
from lms_plugin.models.passback import PASSBACK_MODELS
from lms_plugin.models.progress import PROGRESS_MODELS

MODELS: list = [*LTI_MODELS, *CONTENT_MODELS, *PROGRESS_MODELS, *PASSBACK_MODELS]
