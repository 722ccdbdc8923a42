"""Verifying what the tool signs, against the tool's JWKS fetched over HTTP.

The JWKS is cached in the demo database and refetched when a token names a kid the
cache lacks (the tool rotated its key), at most once per ``REFETCH_AFTER`` seconds
so a stream of made-up kids cannot turn the platform into a request amplifier.
"""

import datetime
import json

import jwt

from lms_plugin import outbound
from lms_plugin.demo.models import ToolKeySet
from lms_plugin.demo.models import utcnow
from lms_plugin.errors import LmsError

REFETCH_AFTER = 10.0
FETCH_TIMEOUT = 5.0  # seconds in all
MAX_JWKS_BYTES = 1_000_000
USER_AGENT = "lms_plugin-demo-lms/1.0"


class ToolJwtError(LmsError):
    """A JWT from the tool failed verification."""

    status_code = 400
    title = "Invalid token from the tool"


def verify_tool_jwt(token: str, jwks_url: str, **options) -> dict:
    """Verify an RS256 JWT signed by the tool; ``options`` go to ``jwt.decode``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise ToolJwtError(f"not a JWT: {error}") from None
    if header.get("alg") != "RS256":
        raise ToolJwtError(f"alg must be RS256, not {header.get('alg')!r}")
    key = _public_key(jwks_url, header.get("kid"))
    try:
        return jwt.decode(token, key, algorithms=["RS256"], **options)
    except jwt.PyJWTError as error:
        raise ToolJwtError(f"verification failed: {error}") from None


def _public_key(jwks_url: str, kid: str | None):
    """The tool's key for ``kid``, refetching the JWKS once if it is unknown."""
    cached = ToolKeySet.get_or_none(ToolKeySet.url == jwks_url)
    if cached is None:
        cached = _fetch(jwks_url)
    key = _find(json.loads(cached.jwks), kid)
    if key is None and _may_refetch(cached):
        key = _find(json.loads(_fetch(jwks_url).jwks), kid)
    if key is None:
        raise ToolJwtError(f"no key with kid {kid!r} in the tool's JWKS at {jwks_url}")
    return jwt.PyJWK(key).key


def _find(jwks: dict, kid: str | None) -> dict | None:
    keys = [k for k in jwks.get("keys", []) if k.get("kty") == "RSA"]
    if kid is None:
        # Without a kid only an unambiguous key set will do.
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.get("kid") == kid), None)


def _may_refetch(cached: ToolKeySet) -> bool:
    age = utcnow() - cached.fetched_at
    return age >= datetime.timedelta(seconds=REFETCH_AFTER)


def _fetch(jwks_url: str) -> ToolKeySet:
    """GET the tool's JWKS and store it."""
    try:
        jwks = outbound.get_json(
            jwks_url, USER_AGENT, deadline=FETCH_TIMEOUT, max_bytes=MAX_JWKS_BYTES
        )
    except (outbound.OutboundError, ValueError) as error:
        raise ToolJwtError(
            f"could not fetch the tool's JWKS from {jwks_url}: {error}",
            status_code=502,
        ) from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ToolJwtError(f"the tool's JWKS at {jwks_url} has no keys list")
    document = json.dumps(jwks)
    ToolKeySet.insert(url=jwks_url, jwks=document, fetched_at=utcnow()).on_conflict(
        conflict_target=[ToolKeySet.url],
        update={ToolKeySet.jwks: document, ToolKeySet.fetched_at: utcnow()},
    ).execute()
    return ToolKeySet.get(ToolKeySet.url == jwks_url)
