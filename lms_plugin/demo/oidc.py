"""LTI 1.3 launches from the platform side: login initiation, then the id_token.

``start_launch`` records what a launch is for and returns the third-party
initiated login parameters the browser posts to the tool's ``/lti/login``.
``authorize`` answers the tool's OIDC authentication request (Security Framework
§5.1.1.2): it checks the request and returns the signed id_token to form-post.
"""

import datetime
import secrets
import time
from collections.abc import Mapping

from lms_plugin.demo import keys
from lms_plugin.demo.models import ROLE_URIS
from lms_plugin.demo.models import LaunchIntent
from lms_plugin.demo.models import Person
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import utcnow
from lms_plugin.demo.seed import the_course
from lms_plugin.errors import LmsError

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_SERVICE = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

#: Moodle's id_token lifetime; a tool must cope with it.
ID_TOKEN_LIFETIME = 60
#: How long a launch's lti_message_hint stays usable (deep linking takes a while).
INTENT_LIFETIME = datetime.timedelta(minutes=30)


class AuthRequestError(LmsError):
    """The tool's OIDC authentication request is not one the platform can answer."""

    title = "Launch refused by the demo LMS"


def start_launch(
    registration: Registration,
    issuer: str,
    person: Person,
    link: ResourceLink | None,
    document_target: str = "iframe",
) -> dict:
    """Record a launch for ``person`` and return its login initiation parameters."""
    is_deep_link = link is None
    intent = LaunchIntent.create(
        hint=secrets.token_urlsafe(24),
        person=person,
        message_type=DEEP_LINKING_REQUEST if is_deep_link else RESOURCE_LINK_REQUEST,
        resource_link=link,
        document_target=document_target,
        deep_link_data=secrets.token_urlsafe(24) if is_deep_link else None,
        expires_at=utcnow() + INTENT_LIFETIME,
    )
    return {
        "iss": issuer,
        "login_hint": person.sub,
        "target_link_uri": target_link_uri(registration, link),
        "lti_message_hint": intent.hint,
        "client_id": registration.client_id,
        "lti_deployment_id": registration.deployment_id,
    }


def target_link_uri(registration: Registration, link: ResourceLink | None) -> str:
    """Where the launch should land in the tool."""
    return (link.url if link else "") or registration.tool_launch_url


def authorize(
    params: Mapping, registration: Registration, issuer: str, person: Person
) -> tuple[str, str, str]:
    """Check an OIDC auth request; return (redirect_uri, id_token, state)."""
    _check_client(params, registration)
    _check_protocol(params)
    intent = _check_user(params, person)
    claims = id_token_claims(registration, issuer, intent, params["nonce"])
    return params["redirect_uri"], keys.sign(claims), params.get("state", "")


def _check_client(params: Mapping, registration: Registration) -> None:
    if params.get("client_id") != registration.client_id:
        raise AuthRequestError(
            f"Unknown client_id {params.get('client_id')!r}.",
            detail="unauthorized_client",
        )
    if params.get("redirect_uri") not in registration.redirect_uri_list:
        raise AuthRequestError(
            f"redirect_uri {params.get('redirect_uri')!r} is not registered for "
            "this tool.",
            detail="invalid_request",
        )


#: Parameter → the one value the LTI profile of OIDC allows.
_FIXED = {
    "response_type": "id_token",
    "response_mode": "form_post",
    "prompt": "none",
}


def _check_protocol(params: Mapping) -> None:
    if "openid" not in params.get("scope", "").split():
        raise AuthRequestError("scope must include 'openid'.", detail="invalid_scope")
    for name, value in _FIXED.items():
        if params.get(name) != value:
            raise AuthRequestError(
                f"{name} must be {value!r}, not {params.get(name)!r}.",
                detail="invalid_request",
            )
    if not params.get("nonce"):
        raise AuthRequestError("nonce is required.", detail="invalid_request")


def _check_user(params: Mapping, person: Person) -> LaunchIntent:
    if params.get("login_hint") != person.sub:
        raise AuthRequestError(
            "This launch was started by a different user than the one now using "
            "the demo LMS. Go back to the course and launch again.",
            detail="login_required",
            status_code=403,
        )
    intent = LaunchIntent.get_or_none(
        LaunchIntent.hint == (params.get("lti_message_hint") or "")
    )
    if intent is None or intent.person_id != person.id:
        raise AuthRequestError("Unknown lti_message_hint.", detail="invalid_request")
    if intent.expires_at < utcnow():
        raise AuthRequestError(
            "This launch expired. Go back to the course and launch again.",
            detail="invalid_request",
        )
    return intent


def id_token_claims(
    registration: Registration, issuer: str, intent: LaunchIntent, nonce: str
) -> dict:
    """Every claim of the id_token for ``intent``."""
    person, link = intent.person, intent.resource_link
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": registration.client_id,
        "azp": registration.client_id,
        "sub": person.sub,
        "exp": now + ID_TOKEN_LIFETIME,
        "iat": now,
        "nonce": nonce,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        LTI + "message_type": intent.message_type,
        LTI + "version": "1.3.0",
        LTI + "deployment_id": registration.deployment_id,
        LTI + "target_link_uri": target_link_uri(registration, link),
        LTI + "roles": ROLE_URIS[person.role],
        LTI + "context": _context_claim(),
        LTI + "tool_platform": _platform_claim(issuer),
        LTI + "launch_presentation": {
            "document_target": intent.document_target,
            "return_url": f"{issuer}/",
            "locale": "en-US",
        },
        LTI + "custom": link.custom_dict if link else {},
        AGS_ENDPOINT: _ags_claim(issuer, link),
        NRPS_SERVICE: {
            "context_memberships_url": f"{issuer}/api/memberships",
            "service_versions": ["2.0"],
        },
    }
    if link is not None:
        claims[LTI + "resource_link"] = {
            "id": link.link_id,
            "title": link.title,
            "description": link.text,
        }
    else:
        claims[DL_SETTINGS] = _deep_linking_claim(issuer, intent)
    return claims


def _context_claim() -> dict:
    course = the_course()
    return {
        "id": course.context_id,
        "label": course.label,
        "title": course.title,
        "type": [COURSE_OFFERING],
    }


def _platform_claim(issuer: str) -> dict:
    return {
        "guid": f"{issuer}#demo-lms",
        "name": "Demo LMS",
        "product_family_code": "lms_plugin-demo",
        "version": "1.0",
        "url": f"{issuer}/",
    }


def _ags_claim(issuer: str, link: ResourceLink | None) -> dict:
    claim = {"scope": AGS_SCOPES, "lineitems": f"{issuer}/api/lineitems"}
    line_item = link.line_item if link else None
    if line_item is not None:
        claim["lineitem"] = f"{issuer}/api/lineitems/{line_item.id}"
    return claim


def _deep_linking_claim(issuer: str, intent: LaunchIntent) -> dict:
    return {
        "deep_link_return_url": f"{issuer}/deep-link-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "auto_create": True,
        "title": "Add modules to the course",
        "data": intent.deep_link_data,
    }
