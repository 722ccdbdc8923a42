"""The tool's own RSA signing keys: generated into the database, rotated in stages.

Rotation has three stages, so that a platform or proxy holding ``/lti/jwks`` for
its cache lifetime (``LTI_JWKS_MAX_AGE``, the JWKS response's ``max-age``) never
meets a signature it cannot verify:

1. ``next``: the new key is published in the JWKS at once, but does not sign
   until ``activates_at`` (at least one JWKS cache lifetime later);
2. ``current``: from then on it signs (client assertions, deep-linking
   responses), and the key it replaces becomes
3. ``retiring``: still published until its ``expires_at`` (the grace period)
   so platforms can verify what it signed, then ``expired``.

Every stage follows from the stored times; nothing has to run when a stage
changes. Private keys live only in the database, never in git.
"""

import base64
import datetime
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.models.lti import ToolKey

KEY_SIZE = 2048


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint, used as the kid."""
    canonical = json.dumps(
        {name: jwk[name] for name in ("e", "kty", "n")},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _key_material() -> dict:
    """A new RSA key pair as the columns of a :class:`ToolKey` (kid, PEM, JWK)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=jwk_thumbprint(jwk), alg="RS256", use="sig")
    return {"kid": jwk["kid"], "private_pem": pem, "public_jwk": json.dumps(jwk)}


def generate_key() -> ToolKey:
    """Create, store and return a new RSA signing key (signing at once)."""
    return ToolKey.create(**_key_material())


def _signs(now: datetime.datetime):
    """The condition of keys that may sign at ``now``."""
    return (ToolKey.activates_at.is_null() | (ToolKey.activates_at <= now)) & (
        ToolKey.retired_at.is_null() | (ToolKey.retired_at > now)
    )


def signing_key() -> ToolKey:
    """Return the key that signs now, generating the first one on first use."""
    key = (
        ToolKey.select()
        .where(_signs(utcnow()))
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        .first()
    )
    return key or generate_key()


def published_keys() -> list[ToolKey]:
    """Keys to publish: next and current keys, and retired keys still in grace."""
    now = utcnow()
    return list(
        ToolKey.select()
        .where(
            ToolKey.retired_at.is_null()
            | ToolKey.expires_at.is_null()
            | (ToolKey.expires_at > now)
        )
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
    )


def public_jwks() -> dict:
    """The JWKS document of the tool (signing key generated if there is none)."""
    signing_key()
    return {"keys": [json.loads(key.public_jwk) for key in published_keys()]}


class RotationPending(Exception):
    """A next key is published already and has not begun signing."""

    def __init__(self, key: ToolKey):
        super().__init__(
            f"key {key.kid} is already next: it signs from "
            f"{key.activates_at:%Y-%m-%d %H:%M:%S} UTC (rotate again after that, "
            "or with --now)"
        )
        self.key = key


def rotate_keys(grace_days: float, publish_for: float = 0) -> ToolKey:
    """Publish a new key that signs ``publish_for`` seconds from now; return it.

    The keys signing until then keep signing until the new key takes over, then
    stay published for ``grace_days``. ``publish_for`` should be at least the
    JWKS cache lifetime (``LTI_JWKS_MAX_AGE``); 0 makes the new key sign at once
    (a key that must stop signing now). With no key yet, the new one signs at once.
    Raises :class:`RotationPending` while an earlier rotation's key is still next,
    unless ``publish_for`` is 0: then the new key signs at once and every other
    key, that one too, is retiring.
    """
    material = _key_material()  # slow: before the transaction and the clock
    now = utcnow()
    with database.atomic():
        pending = (
            ToolKey.select()
            .where(ToolKey.activates_at > now)
            .order_by(ToolKey.activates_at)
            .first()
        )
        if pending is not None and publish_for > 0:
            raise RotationPending(pending)
        signing = ToolKey.select().where(_signs(now)).exists()
        takes_over = now + datetime.timedelta(seconds=publish_for if signing else 0)
        grace = datetime.timedelta(days=grace_days)
        ToolKey.update(retired_at=takes_over, expires_at=takes_over + grace).where(
            ToolKey.retired_at.is_null() | (ToolKey.retired_at > takes_over)
        ).execute()
        return ToolKey.create(**material, created_at=now, activates_at=takes_over)


def key_status(key: ToolKey, current_kid: str, now: datetime.datetime) -> str:
    """next, current, retiring, expired (or published: an older key still signing)."""
    if key.activates_at is not None and key.activates_at > now:
        return f"next: signs from {key.activates_at:%Y-%m-%d %H:%M:%S} UTC"
    if key.kid == current_kid:
        if key.retired_at is not None:
            return f"current: until {key.retired_at:%Y-%m-%d %H:%M:%S} UTC"
        return "current"
    if key.expires_at is None:
        return "published"
    if key.expires_at <= now:
        return "expired"
    return f"retiring: published until {key.expires_at:%Y-%m-%d %H:%M} UTC"


def describe_keys() -> list[dict]:
    """Every stored key with its status, newest first (for ``keys list``)."""
    now = utcnow()
    current = signing_key().kid
    return [
        {
            "kid": key.kid,
            "created_at": key.created_at,
            "status": key_status(key, current, now),
        }
        for key in ToolKey.select().order_by(
            ToolKey.created_at.desc(), ToolKey.id.desc()
        )
    ]
