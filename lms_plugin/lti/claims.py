"""Claim names of LTI 1.3 id_tokens, as named constants.

LTI Core: https://www.imsglobal.org/spec/lti/v1p3/#required-message-claims
Deep Linking: https://www.imsglobal.org/spec/lti-dl/v2p0
AGS: https://www.imsglobal.org/spec/lti-ags/v2p0 · NRPS: https://www.imsglobal.org/spec/lti-nrps/v2p0
"""

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"

CLAIM_MESSAGE_TYPE = _LTI + "message_type"
CLAIM_VERSION = _LTI + "version"
CLAIM_DEPLOYMENT_ID = _LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = _LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = _LTI + "resource_link"
CLAIM_ROLES = _LTI + "roles"
CLAIM_CONTEXT = _LTI + "context"
CLAIM_TOOL_PLATFORM = _LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = _LTI + "launch_presentation"
CLAIM_CUSTOM = _LTI + "custom"
CLAIM_LIS = _LTI + "lis"

CLAIM_DEEP_LINKING_SETTINGS = (
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
)
CLAIM_AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
#: Canvas's placement of a launch ("course_navigation", "link_selection", ...).
CLAIM_CANVAS_PLACEMENT = "https://www.instructure.com/placement"

MESSAGE_RESOURCE_LINK = "LtiResourceLinkRequest"
MESSAGE_DEEP_LINKING = "LtiDeepLinkingRequest"
LTI_VERSION = "1.3.0"

# Deep Linking 2.0 response (https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-response-message)
MESSAGE_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
