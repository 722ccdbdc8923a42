"""The platform side of LTI Dynamic Registration (1EdTech LTI DR 1.0, §3.5–3.6).

``registration_token`` issues the one-time bearer token a platform hands the tool
with its OpenID configuration URL; ``/demo/register`` receives the tool's client
registration request, checks it and answers with the client_id and deployment_id
it registered. The demo keeps one registration per issuer: a new one replaces it.
"""

import datetime
import json
import secrets
from urllib.parse import urlencode
from urllib.parse import urlsplit

from lms_plugin.demo.models import AccessToken
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.models import utcnow
from lms_plugin.demo.oauth import SUPPORTED_SCOPES
from lms_plugin.demo.oauth import ServiceError
from lms_plugin.demo.oauth import token_hash

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
#: The scope recorded on registration tokens (never granted by /demo/token).
REGISTRATION_SCOPE = "demo:dynamic-registration"
TOKEN_LIFETIME = datetime.timedelta(hours=1)


def registration_token() -> str:
    """A new one-time registration token (valid for an hour)."""
    token = secrets.token_urlsafe(32)
    AccessToken.create(
        token_hash=token_hash(token),
        client_id="",
        scopes=REGISTRATION_SCOPE,
        expires_at=utcnow() + TOKEN_LIFETIME,
    )
    return token


def tool_registration_url(tool_register_url: str, issuer: str) -> str:
    """The URL the platform opens to start Dynamic Registration with the tool."""
    query = urlencode(
        {
            "openid_configuration": f"{issuer}/.well-known/openid-configuration",
            "registration_token": registration_token(),
        }
    )
    return f"{tool_register_url}?{query}"


def use_registration_token(authorization: str) -> None:
    """Spend the bearer registration token of this request; 401 if it is not one."""
    scheme, _, token = authorization.partition(" ")
    access = AccessToken.get_or_none(
        (AccessToken.token_hash == token_hash(token.strip()))
        & (AccessToken.scopes == REGISTRATION_SCOPE)
    )
    if scheme.lower() != "bearer" or access is None or access.expires_at <= utcnow():
        raise ServiceError(
            "invalid_token", "a valid registration token is required", 401
        )
    access.delete_instance()


def register_tool(body, issuer: str) -> dict:
    """Register the tool described by ``body``; return the registration answer."""
    request = _checked(body)
    config = request[TOOL_CONFIGURATION]
    granted = [s for s in request.get("scope", "").split() if s in SUPPORTED_SCOPES]
    fields = {
        "client_id": f"demo-{secrets.token_hex(8)}",
        "deployment_id": f"1:{secrets.token_hex(12)}",
        "tool_login_url": request["initiate_login_uri"],
        "tool_launch_url": config["target_link_uri"],
        "redirect_uris": json.dumps(request["redirect_uris"]),
        "tool_jwks_url": request["jwks_uri"],
    }
    with demo_database.atomic():
        Registration.delete().where(Registration.issuer == issuer).execute()
        Registration.create(issuer=issuer, **fields)
    return {
        **request,
        "client_id": fields["client_id"],
        "scope": " ".join(granted),
        TOOL_CONFIGURATION: {**config, "deployment_id": fields["deployment_id"]},
    }


def _bad(message: str) -> ServiceError:
    return ServiceError("invalid_client_metadata", message, 400)


def _checked(body) -> dict:
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    expected = {
        "application_type": lambda v: v == "web",
        "response_types": lambda v: isinstance(v, list) and "id_token" in v,
        "grant_types": lambda v: (
            isinstance(v, list) and {"implicit", "client_credentials"} <= set(v)
        ),
        "token_endpoint_auth_method": lambda v: v == "private_key_jwt",
        "redirect_uris": lambda v: (
            isinstance(v, list) and v and all(isinstance(u, str) for u in v)
        ),
        TOOL_CONFIGURATION: lambda v: isinstance(v, dict),
    }
    for name, valid in expected.items():
        if not valid(body.get(name)):
            raise _bad(f"{name} is missing or not as LTI Dynamic Registration requires")
    config = body[TOOL_CONFIGURATION]
    domain = config.get("domain")
    if not isinstance(domain, str) or not domain:
        raise _bad("lti-tool-configuration.domain is required")
    urls = [
        body.get("initiate_login_uri"),
        body.get("jwks_uri"),
        config.get("target_link_uri"),
        *body["redirect_uris"],
    ]
    for url in urls:
        _check_on_domain(url, domain)
    return body


def _check_on_domain(url, domain: str) -> None:
    parsed = urlsplit(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https"):
        raise _bad(f"{url!r} is not an http(s) URL")
    if parsed.netloc != domain:
        raise _bad(f"{url} is not on the tool's domain {domain}")
