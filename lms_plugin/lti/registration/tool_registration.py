"""What the tool tells a platform about itself, and the URLs an admin pastes.

The client registration request of LTI Dynamic Registration (DR §3.5.2,
:func:`build_tool_registration`): the tool's name, URLs, scopes, identity claims,
custom parameters and, per platform family, the messages and placements it
offers. The same vocabulary makes the Canvas developer-key JSON (``canvas.py``),
the confirmation page (``views.py``) and ``lms-plugin platform urls``
(:func:`tool_urls`). No network here: ``dynamic.py`` sends the document.
"""

from urllib.parse import urlsplit

from lms_plugin.lti.registration.platform_configuration import PlatformConfiguration

TOOL_NAME = "Mentorship modules"
TOOL_DESCRIPTION = (
    "Professional-development modules for healthcare trainees: mentorship, "
    "feedback and clinical teaching, with completion and grades sent to the LMS."
)
#: Canvas correlates one tool across developer keys and accounts by this id.
TOOL_ID = "lms_plugin"

#: The registration's LTI part (DR §3.5.2), and Canvas's extensions to it.
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_TOOL_ID = "https://canvas.instructure.com/lti/tool_id"
CANVAS_COURSE_NAV_DEFAULT = (
    "https://canvas.instructure.com/lti/course_navigation/default_enabled"
)

#: AGS (grades, line items) and NRPS (course roster), in the spec's scope URIs.
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: What each scope lets the tool do, for the confirmation page.
SCOPE_LABELS = {
    SCOPES[0]: "Create and update grade columns",
    SCOPES[1]: "Read grade columns",
    SCOPES[2]: "Read results",
    SCOPES[3]: "Send scores",
    SCOPES[4]: "Read the course roster",
}

#: Identity claims the tool asks for: names for instructors' progress pages,
#: email so a trainee can be told apart from a namesake.
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")

#: Custom parameters sent on every launch: the course's copy history lets the
#: tool recognise a copied course's links (LTI 1.3 core, Appendix E).
CUSTOM_PARAMETERS = {"context_id_history": "$Context.id.history"}

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"

#: Placements per platform family and message type. Canvas: course navigation
#: opens the course's modules; Modules ("link_selection") and Assignments
#: ("assignment_selection", graded) pick one by Deep Linking. Moodle offers its
#: activity chooser as "AddContentMenu" and turns our deep-linking message into
#: its "ContentItemSelectionRequest" tool URL.
PLACEMENTS = {
    "canvas": {
        RESOURCE_LINK: ["course_navigation"],
        DEEP_LINKING: ["link_selection", "assignment_selection"],
    },
    "moodle": {DEEP_LINKING: ["AddContentMenu"]},
}

PLACEMENT_LABELS = {
    "course_navigation": "Course navigation",
    "link_selection": "Modules > Add > External Tool",
    "assignment_selection": "Assignments > External Tool submission",
    "AddContentMenu": "Activity chooser (Deep Linking)",
}


def tool_urls(base: str) -> dict[str, str]:
    """The tool's URLs an LMS administrator pastes in, under ``base``."""
    base = base.rstrip("/")
    return {
        "OIDC login initiation URL": f"{base}/lti/login",
        "Redirect (launch) URL": f"{base}/lti/launch",
        "Target link URI": f"{base}/lti/launch",
        "Deep linking URL": f"{base}/lti/launch",
        "Public JWKS URL": f"{base}/lti/jwks",
        "Dynamic Registration URL": f"{base}/lti/register",
        "Canvas developer key JSON URL": f"{base}/lti/config/canvas.json",
    }


def requested_scopes(platform: PlatformConfiguration) -> list[str]:
    """Our scopes, narrowed to those the platform says it supports (if it says)."""
    if platform.scopes_supported is None:
        return list(SCOPES)
    return [scope for scope in SCOPES if scope in platform.scopes_supported]


def build_tool_registration(base: str, platform: PlatformConfiguration) -> dict:
    """The tool's client registration request body (DR §3.5.2) for ``platform``."""
    urls = tool_urls(base)
    launch = urls["Redirect (launch) URL"]
    tool_configuration = {
        "domain": urlsplit(base).netloc,
        "target_link_uri": launch,
        "description": TOOL_DESCRIPTION,
        "claims": list(CLAIMS),
        "custom_parameters": dict(CUSTOM_PARAMETERS),
        "messages": _messages(platform.product_family_code, launch),
    }
    if platform.product_family_code == "canvas":
        tool_configuration[CANVAS_PRIVACY_LEVEL] = "public"
        tool_configuration[CANVAS_TOOL_ID] = TOOL_ID
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["OIDC login initiation URL"],
        "redirect_uris": [launch],
        "client_name": TOOL_NAME,
        "jwks_uri": urls["Public JWKS URL"],
        "logo_uri": f"{base.rstrip('/')}/static/icon.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(platform)),
        TOOL_CONFIGURATION: tool_configuration,
    }


def _messages(family: str, launch: str) -> list[dict]:
    placements = PLACEMENTS.get(family, {})
    messages = []
    for message_type in (RESOURCE_LINK, DEEP_LINKING):
        message = {"type": message_type, "target_link_uri": launch, "label": TOOL_NAME}
        if placements.get(message_type):
            message["placements"] = list(placements[message_type])
        messages.append(message)
    if family == "canvas":
        # Teachers switch course navigation on per course (Settings > Navigation).
        messages[0][CANVAS_COURSE_NAV_DEFAULT] = False
    return messages
