"""Platform public keys: the registration's inline JWKS, or its JWKS URL cached.

A fetched key set is stored in :class:`PlatformKeySet` and shared by all workers.
An id_token whose ``kid`` is not in the cached set triggers one refetch (platforms
rotate keys), at most once per ``LTI_JWKS_REFETCH_AFTER`` seconds per URL so a
stream of made-up kids cannot turn every launch into a fetch.
"""

import datetime
import json
import logging

from flask import current_app
from jwt.algorithms import RSAAlgorithm

from lms_plugin import outbound
from lms_plugin.clock import utcnow
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import PlatformKeySet

log = logging.getLogger(__name__)

USER_AGENT = "lms_plugin (LTI 1.3 tool)"
FETCH_TIMEOUT = 10  # seconds in all
MAX_KEY_SET_BYTES = 1_000_000


class PlatformKeyError(Exception):
    """No usable platform key for this token; the message says why."""


def platform_public_key(registration: LtiRegistration, kid: str):
    """Return the RSA public key ``kid`` of the platform behind ``registration``."""
    if registration.key_set:
        jwk = _find(json.loads(registration.key_set), kid)
        if jwk or not registration.key_set_url:
            return _to_key(jwk, kid, "the registration's inline key set")
    url = registration.key_set_url
    if not url:
        raise PlatformKeyError("the registration has neither a key set nor its URL")
    cached = PlatformKeySet.get_or_none(PlatformKeySet.url == url)
    jwk = _find(json.loads(cached.jwks), kid) if cached else None
    if jwk is None and _may_fetch(cached):
        jwk = _find(fetch_key_set(url), kid)
    return _to_key(jwk, kid, url)


def _may_fetch(cached: PlatformKeySet | None) -> bool:
    if cached is None:
        return True
    wait = datetime.timedelta(seconds=current_app.config["LTI_JWKS_REFETCH_AFTER"])
    return utcnow() - cached.fetched_at >= wait


def fetch_key_set(url: str) -> dict:
    """Fetch a platform JWKS, store it for every worker, and return it."""
    log.info("fetching platform key set %s", url)
    try:
        key_set = outbound.get_json(
            url, USER_AGENT, deadline=FETCH_TIMEOUT, max_bytes=MAX_KEY_SET_BYTES
        )
    except (outbound.OutboundError, ValueError) as error:
        # The reason goes to the log; the launch page says less.
        log.warning("platform key set %s not fetched: %s", url, error)
        raise PlatformKeyError(f"could not fetch the key set at {url}") from None
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise PlatformKeyError(f"{url} did not answer a JWKS ({{'keys': [...]}})")
    PlatformKeySet.upsert(
        {"url": url}, {"jwks": json.dumps(key_set), "fetched_at": utcnow()}
    )
    return key_set


def _find(key_set: dict, kid: str) -> dict | None:
    for jwk in key_set.get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return jwk
    return None


def _to_key(jwk: dict | None, kid: str, where: str):
    if jwk is None:
        raise PlatformKeyError(f"no key with kid {kid!r} in {where}")
    if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
        raise PlatformKeyError(f"key {kid!r} in {where} is not an RS256 RSA key")
    try:
        return RSAAlgorithm.from_jwk(jwk)
    except (ValueError, KeyError, TypeError) as error:
        raise PlatformKeyError(
            f"key {kid!r} in {where} is unreadable: {error}"
        ) from None
