"""The tool's own RSA signing keys: generated into the database, rotated with grace.

The newest unretired key signs (client assertions, deep-linking responses). A key
rotated out stays published in ``/lti/jwks`` until its ``expires_at`` so platforms
can still verify what it signed. Private keys live only in the database, never in git.
"""

import base64
import datetime
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms_plugin.db import database
from lms_plugin.models.lti import ToolKey
from lms_plugin.models.lti import utcnow

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


def generate_key() -> ToolKey:
    """Create, store and return a new RSA signing key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=jwk_thumbprint(jwk), alg="RS256", use="sig")
    return ToolKey.create(kid=jwk["kid"], private_pem=pem, public_jwk=json.dumps(jwk))


def signing_key() -> ToolKey:
    """Return the key that signs now, generating the first one on first use."""
    key = (
        ToolKey.select()
        .where(ToolKey.retired_at.is_null())
        .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        .first()
    )
    return key or generate_key()


def published_keys() -> list[ToolKey]:
    """Keys to publish: every unretired key and retired keys still in grace."""
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


def rotate_keys(grace_days: float) -> ToolKey:
    """Add a new signing key; keep the old ones published for ``grace_days``."""
    now = utcnow()
    with database.atomic():
        ToolKey.update(
            retired_at=now, expires_at=now + datetime.timedelta(days=grace_days)
        ).where(ToolKey.retired_at.is_null()).execute()
        return generate_key()


def describe_keys() -> list[dict]:
    """Every stored key with its status, newest first (for ``keys list``)."""
    now = utcnow()
    current = signing_key().kid
    rows = []
    for key in ToolKey.select().order_by(ToolKey.created_at.desc(), ToolKey.id.desc()):
        if key.kid == current:
            status = "signing"
        elif key.expires_at is None:
            status = "published"
        elif key.expires_at <= now:
            status = "expired"
        else:
            status = f"grace until {key.expires_at:%Y-%m-%d %H:%M} UTC"
        rows.append({"kid": key.kid, "created_at": key.created_at, "status": status})
    return rows
