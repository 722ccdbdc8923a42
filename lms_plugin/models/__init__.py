"""Every table of the tool, in dependency order.

``MODELS`` is what ``create_tables`` and the migrations test use; each submodule
holds one area (``lti``, ``content``, ``progress``, ``passback``).
"""

from lms_plugin.models.lti import LTI_MODELS

MODELS: list = [*LTI_MODELS]

from lms_plugin.models.content import CONTENT_MODELS  # noqa: E402

MODELS += CONTENT_MODELS

from lms_plugin.models.progress import PROGRESS_MODELS  # noqa: E402

MODELS += PROGRESS_MODELS
