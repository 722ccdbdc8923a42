"""A test LTI platform: its own RSA keys, a JWKS (inline and over real HTTP), real
signed id_tokens, and helpers that run login → launch through the Flask test client.

Nothing here switches verification off: every token the tool accepts was signed
with the platform's private key and checked against its public key.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration

#: Marks a claim to leave out of a token.
DROP = object()

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
INSTITUTION_STUDENT = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
)


def make_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(private_key) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_jwt(header: dict, body: dict, sign=lambda signing_input: b"") -> str:
    """A JWT assembled by hand, for tokens PyJWT refuses to make (alg none, ...)."""
    signing_input = (
        b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())
    )
    return signing_input + "." + b64url(sign(signing_input.encode()))


class TestPlatform:
    """An LTI 1.3 platform with its own keys that signs real id_tokens."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        issuer="https://platform.example.edu",
        client_id="tool-client-1",
        deployment_id="1:deployment",
    ):
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.key = make_rsa_key()
        self.kid = "platform-key-1"
        self.auth_login_url = issuer + "/api/lti/authorize_redirect"
        self.auth_token_url = issuer + "/login/oauth2/token"

    def jwk(self, key=None, kid=None) -> dict:
        jwk = RSAAlgorithm.to_jwk((key or self.key).public_key(), as_dict=True)
        jwk.update(kid=kid or self.kid, alg="RS256", use="sig")
        return jwk

    def jwks(self) -> dict:
        return {"keys": [self.jwk()]}

    def rotate(self) -> None:
        """Switch to a new signing key (the platform's JWKS changes with it)."""
        self.key = make_rsa_key()
        self.kid = self.kid + "-next"

    def register(self, *, inline=True, key_set_url=None, **fields) -> LtiRegistration:
        """Store this platform's registration (and deployment) in the tool's DB."""
        with database.connection_context():
            row = LtiRegistration.create(
                issuer=self.issuer,
                client_id=fields.pop("client_id", self.client_id),
                auth_login_url=self.auth_login_url,
                auth_token_url=self.auth_token_url,
                key_set=json.dumps(self.jwks()) if inline else None,
                key_set_url=key_set_url,
                **fields,
            )
            LtiDeployment.create(registration=row, deployment_id=self.deployment_id)
        return row

    def claims(self, nonce, *, message_type=c.MESSAGE_RESOURCE_LINK, **overrides):
        """A valid id_token body for ``nonce``; ``overrides`` replace or DROP claims."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "platform-user-1",
            "iat": now,
            "exp": now + 60,
            "name": "Ada Learner",
            "given_name": "Ada",
            "family_name": "Learner",
            "email": "ada@example.edu",
            c.CLAIM_MESSAGE_TYPE: message_type,
            c.CLAIM_VERSION: c.LTI_VERSION,
            c.CLAIM_DEPLOYMENT_ID: self.deployment_id,
            c.CLAIM_TARGET_LINK_URI: "http://localhost/lti/launch",
            c.CLAIM_ROLES: [LEARNER],
            c.CLAIM_CONTEXT: {
                "id": "course-1",
                "label": "NUR101",
                "title": "Nursing 101",
                "type": [
                    "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
                ],
            },
        }
        if nonce is not DROP:
            body["nonce"] = nonce
        if message_type is DROP:
            del body[c.CLAIM_MESSAGE_TYPE]
        if message_type != c.MESSAGE_DEEP_LINKING:
            body[c.CLAIM_RESOURCE_LINK] = {"id": "link-1", "title": "Mentorship 1"}
        else:
            body[c.CLAIM_DEEP_LINKING_SETTINGS] = {
                "deep_link_return_url": self.issuer + "/deep_linking/return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            }
        for name, value in overrides.items():
            name = CLAIM_ALIASES.get(name, name)
            if value is DROP:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    def sign(self, body: dict, *, kid=None, key=None, headers=None) -> str:
        """Sign ``body`` with RS256 (our key and kid unless told otherwise)."""
        header = {"kid": kid or self.kid} if headers is None else headers
        # The key object, not its PEM: parsing a PEM costs ~0.3 s per token.
        return jwt.encode(body, key or self.key, algorithm="RS256", headers=header)

    def sign_none(self, body: dict) -> str:
        return raw_jwt({"alg": "none", "kid": self.kid, "typ": "JWT"}, body)

    def sign_hs256_with_public_key(self, body: dict) -> str:
        secret = public_pem(self.key)
        header = {"alg": "HS256", "kid": self.kid, "typ": "JWT"}
        return raw_jwt(
            header, body, lambda data: hmac.new(secret, data, hashlib.sha256).digest()
        )


#: Short names for claim URLs in ``claims(**overrides)``.
CLAIM_ALIASES = {
    "message_type": c.CLAIM_MESSAGE_TYPE,
    "version": c.CLAIM_VERSION,
    "deployment_id": c.CLAIM_DEPLOYMENT_ID,
    "roles": c.CLAIM_ROLES,
    "context": c.CLAIM_CONTEXT,
    "resource_link": c.CLAIM_RESOURCE_LINK,
    "custom": c.CLAIM_CUSTOM,
    "ags": c.CLAIM_AGS_ENDPOINT,
}


def login_params(platform: TestPlatform, **extra) -> dict:
    params = {
        "iss": platform.issuer,
        "login_hint": "login-hint-1",
        "target_link_uri": "http://localhost/lti/launch",
        "lti_message_hint": "message-hint-1",
        "client_id": platform.client_id,
        "lti_deployment_id": platform.deployment_id,
    }
    params.update(extra)
    return params


def start_login(client, platform, *, method="GET", **extra) -> tuple[str, str]:
    """Initiate login; return the (state, nonce) the tool sent to the platform."""
    params = login_params(platform, **extra)
    if method == "GET":
        response = client.get("/lti/login", query_string=params)
    else:
        response = client.post("/lti/login", data=params)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.location)
    assert location.geturl().startswith(platform.auth_login_url)
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == "http://localhost/lti/launch"
    assert query["login_hint"] == "login-hint-1"
    assert query["lti_message_hint"] == "message-hint-1"
    return query["state"], query["nonce"]


def post_launch(client, state: str, id_token: str, **extra):
    data = {"id_token": id_token, "state": state, **extra}
    return client.post("/lti/launch", data=data)


def landing_of(response) -> str:
    """The landing of an accepted launch, with its one-time ticket taken off."""
    assert response.status_code == 303, response.get_data(as_text=True)
    parts = urlsplit(response.location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in query if name != "lti_ticket"]
    assert len(kept) == len(query) - 1, f"no launch ticket in {response.location}"
    return urlunsplit(("", "", parts.path, urlencode(kept), ""))


def launch(client, platform, *, method="GET", **overrides):
    """The full flow: login, then POST a freshly signed id_token. Returns the answer."""
    state, nonce = start_login(client, platform, method=method)
    id_token = platform.sign(platform.claims(nonce, **overrides))
    return post_launch(client, state, id_token)


class PlatformServer:
    """The platform's HTTP side on 127.0.0.1: JWKS, token endpoint, paged roster."""

    def __init__(self, platform: TestPlatform):
        self.platform = platform
        self.hits: dict[str, int] = {}
        self.token_requests: list[dict] = []
        self.pages: dict[str, tuple[dict, str | None]] = {}
        self.refused_tokens: set[str] = set()
        self.bearers: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path == "/jwks":
                    return self._json(server.platform.jwks())
                bearer = self.headers.get("Authorization", "")
                server.bearers.append(bearer)
                if bearer.removeprefix("Bearer ") in server.refused_tokens:
                    return self.send_error(401)
                if self.path in server.pages:
                    body, next_path = server.pages[self.path]
                    link = f'<{server.url}{next_path}>; rel="next"'
                    return self._json(body, link=link if next_path else None)
                self.send_error(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                posted = parse_qs(self.rfile.read(length).decode())
                form = {k: v[0] for k, v in posted.items()}
                server.token_requests.append(form)
                number = len(server.token_requests)
                self._json({"access_token": f"token-{number}", "expires_in": 3600})

            def _json(self, body, link=None):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if link:
                    self.send_header("Link", link)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
