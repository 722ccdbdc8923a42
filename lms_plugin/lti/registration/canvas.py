"""The Canvas developer-key JSON ("LTI 1.3 configuration") for this tool.

Canvas: ``doc/api/lti_dev_key_config.md``. An admin creates an LTI key with
Method "Enter URL" pointing at ``/lti/config/canvas.json`` and pastes the
redirect URI; Canvas reads everything else from this document.
"""

from urllib.parse import urlsplit

from lms_plugin.lti.registration.tool_registration import CUSTOM_PARAMETERS
from lms_plugin.lti.registration.tool_registration import DEEP_LINKING
from lms_plugin.lti.registration.tool_registration import PLACEMENTS
from lms_plugin.lti.registration.tool_registration import RESOURCE_LINK
from lms_plugin.lti.registration.tool_registration import SCOPES
from lms_plugin.lti.registration.tool_registration import TOOL_DESCRIPTION
from lms_plugin.lti.registration.tool_registration import TOOL_ID
from lms_plugin.lti.registration.tool_registration import TOOL_NAME
from lms_plugin.lti.registration.tool_registration import tool_urls

#: Size of the Deep Linking picker Canvas opens for link/assignment selection.
SELECTION_SIZE = {"selection_width": 1000, "selection_height": 720}


def canvas_developer_key(base: str) -> dict:
    """The developer-key JSON Canvas imports, with every URL under ``base``."""
    urls = tool_urls(base)
    launch = urls["Redirect (launch) URL"]
    icon = f"{base.rstrip('/')}/static/icon.svg"
    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls["OIDC login initiation URL"],
        "target_link_uri": launch,
        "public_jwk_url": urls["Public JWKS URL"],
        "scopes": list(SCOPES),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urlsplit(base).netloc,
                "tool_id": TOOL_ID,
                "privacy_level": "public",
                "settings": {
                    "text": TOOL_NAME,
                    "icon_url": icon,
                    **SELECTION_SIZE,
                    "placements": _placements(launch, icon),
                },
            }
        ],
        "custom_fields": dict(CUSTOM_PARAMETERS),
    }


def _placements(launch: str, icon: str) -> list[dict]:
    placements = []
    for message_type in (RESOURCE_LINK, DEEP_LINKING):
        for name in PLACEMENTS["canvas"][message_type]:
            placements.append(
                {
                    "placement": name,
                    "message_type": message_type,
                    "target_link_uri": launch,
                    "text": TOOL_NAME,
                    "icon_url": icon,
                }
            )
    for placement in placements:
        if placement["placement"] == "course_navigation":
            # Off until a teacher enables it in Settings > Navigation.
            placement["default"] = "disabled"
            placement["visibility"] = "members"
        else:
            placement.update(SELECTION_SIZE)
    return placements
