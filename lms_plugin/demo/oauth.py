"""OAuth 2.0 for LTI services: the token endpoint and bearer-token checks.

The tool authenticates with a private_key_jwt client assertion (RFC 7523) signed
by a key in its JWKS; the platform answers with an opaque bearer token, stored
as a SHA-256 with its scopes and expiry.
"""

import datetime
import hashlib
import secrets
from collections.abc import Mapping

from flask import request
from peewee import IntegrityError

from lms_plugin.demo.models import AccessToken
from lms_plugin.demo.models import LaunchIntent
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import SeenJwtId
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.models import utcnow
from lms_plugin.demo.oidc import AGS_SCOPES
from lms_plugin.demo.oidc import NRPS_SCOPE
from lms_plugin.demo.tool_keys import ToolJwtError
from lms_plugin.demo.tool_keys import verify_tool_jwt
from lms_plugin.errors import LmsError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SUPPORTED_SCOPES = frozenset([*AGS_SCOPES, NRPS_SCOPE])
TOKEN_LIFETIME = 3600
#: Clock skew tolerated on the client assertion's iat/exp.
LEEWAY = 60


class ServiceError(LmsError):
    """An OAuth2 or LTI service error, answered as JSON with an error code."""

    def __init__(self, error: str, description: str, status_code: int = 400):
        super().__init__(description, status_code=status_code)
        self.error = error


def issue_token(form: Mapping, registration: Registration, token_url: str) -> dict:
    """Verify a client-credentials request and return the token response."""
    if form.get("grant_type") != "client_credentials":
        raise ServiceError(
            "unsupported_grant_type", "grant_type must be client_credentials"
        )
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise ServiceError(
            "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}"
        )
    claims = _verify_assertion(
        form.get("client_assertion", ""), registration, token_url
    )
    scopes = _granted_scopes(form.get("scope", ""))
    purge_expired()
    _use_jti(claims)
    token = secrets.token_urlsafe(32)
    AccessToken.create(
        token_hash=token_hash(token),
        client_id=registration.client_id,
        scopes=" ".join(scopes),
        expires_at=utcnow() + datetime.timedelta(seconds=TOKEN_LIFETIME),
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": " ".join(scopes),
    }


def _verify_assertion(assertion: str, registration: Registration, token_url: str):
    if not assertion:
        raise ServiceError("invalid_request", "client_assertion is required")
    try:
        claims = verify_tool_jwt(
            assertion,
            registration.tool_jwks_url,
            audience=token_url,
            issuer=registration.client_id,
            leeway=LEEWAY,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
        )
    except ToolJwtError as error:
        status = 503 if error.status_code >= 500 else 401
        raise ServiceError("invalid_client", error.message, status) from None
    if claims["sub"] != registration.client_id:
        raise ServiceError("invalid_client", "sub must equal iss (the client_id)", 401)
    return claims


def _granted_scopes(requested: str) -> list[str]:
    scopes = sorted(set(requested.split()))
    if not scopes:
        raise ServiceError("invalid_scope", "scope is required")
    unknown = [scope for scope in scopes if scope not in SUPPORTED_SCOPES]
    if unknown:
        raise ServiceError("invalid_scope", f"unsupported scope(s): {unknown}")
    return scopes


def _use_jti(claims: dict) -> None:
    """Record the assertion's jti; a second use is a replay."""
    expires = datetime.datetime.fromtimestamp(claims["exp"], datetime.UTC)
    try:
        with demo_database.atomic():
            SeenJwtId.create(
                value=f"jti:{claims['iss']}:{claims['jti']}",
                expires_at=expires.replace(tzinfo=None)
                + datetime.timedelta(seconds=LEEWAY),
            )
    except IntegrityError:
        raise ServiceError(
            "invalid_grant", "this client assertion (jti) was already used"
        ) from None


def token_hash(token: str) -> str:
    """How a token is stored: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def require_scope(registration: Registration, *accepted: str) -> AccessToken:
    """The request's bearer token, if it is valid and holds one of ``accepted``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ServiceError("invalid_token", "a Bearer access token is required", 401)
    access = AccessToken.get_or_none(
        AccessToken.token_hash == token_hash(token.strip())
    )
    if access is None or access.client_id != registration.client_id:
        raise ServiceError("invalid_token", "unknown access token", 401)
    if access.expires_at <= utcnow():
        raise ServiceError("invalid_token", "the access token has expired", 401)
    if not set(access.scopes.split()) & set(accepted):
        raise ServiceError(
            "insufficient_scope",
            f"this call needs one of the scopes {list(accepted)}",
            403,
        )
    return access


def purge_expired() -> None:
    """Forget expired tokens, jtis/nonces and launches past their lifetime."""
    now = utcnow()
    AccessToken.delete().where(AccessToken.expires_at <= now).execute()
    SeenJwtId.delete().where(SeenJwtId.expires_at <= now).execute()
    # A day's grace keeps an expired launch explainable ("expired", not "unknown").
    stale = now - datetime.timedelta(days=1)
    LaunchIntent.delete().where(LaunchIntent.expires_at <= stale).execute()
