"""The demo platform's RSA key pair: generated on first start, kept in its database.

It signs the id_tokens the platform sends; ``/demo/jwks`` publishes the public half.
"""

import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms_plugin.demo.models import PlatformKey
from lms_plugin.lti.registration.keys import jwk_thumbprint


def ensure_key() -> PlatformKey:
    """Return the platform key, generating it on first start."""
    key = PlatformKey.select().order_by(PlatformKey.id).first()
    if key:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=jwk_thumbprint(jwk), alg="RS256", use="sig")
    return PlatformKey.create(
        kid=jwk["kid"], private_pem=pem, public_jwk=json.dumps(jwk)
    )


def public_jwks() -> dict:
    """The platform's JWKS document."""
    return {"keys": [json.loads(ensure_key().public_jwk)]}


def sign(payload: dict) -> str:
    """Sign ``payload`` with the platform key (RS256, with its kid)."""
    key = ensure_key()
    return jwt.encode(
        payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid}
    )
