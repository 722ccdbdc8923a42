"""Helpers for the demo LMS tests: a demo-mode app, test tool keys served as a
JWKS over a local HTTP server, signed client assertions and deep-link responses."""

import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lms_plugin import create_app
from lms_plugin.db import database
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.oauth import ASSERTION_TYPE
from lms_plugin.lti.registration.platforms import PlatformSettings
from lms_plugin.lti.registration.platforms import save_platform

BASE = "http://localhost"
ISSUER = f"{BASE}/demo"
TOKEN_URL = f"{ISSUER}/token"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


class TestKey:
    """An RSA key pair playing the tool's signing key."""

    __test__ = False

    def __init__(self, kid: str):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.kid = kid
        self.jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid=kid, alg="RS256", use="sig")

    def sign(self, claims: dict, **headers) -> str:
        return jwt.encode(
            claims, self.pem, algorithm="RS256", headers={"kid": self.kid, **headers}
        )


class JwksServer:
    """The tool's JWKS served over real HTTP on a loopback port."""

    def __init__(self, keys: list[TestKey]):
        self.keys = keys
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                body = json.dumps({"keys": [k.jwk for k in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}/lti/jwks"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()


def make_demo_app(tmp_path, register=True, **overrides):
    """The tool in demo mode on SQLite in ``tmp_path``.

    With ``register`` and a DEMO_BASE_URL, both sides' registration rows are
    written directly, as set-up for tests driving the demo with a test client
    (no server to register over HTTP; ``test_registration`` covers that path).
    """
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tool.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DEMO_MODE": True,
        "DEMO_BASE_URL": BASE,
        # A delivery thread would outlive the test and poll the next test's
        # database; publishing the whole course is tested on its own.
        "PASSBACK_THREAD": False,
        "AUTO_PUBLISH": False,
    }
    config.update(overrides)
    app = create_app(config)
    if register and config["DEMO_BASE_URL"]:
        with app.app_context():
            register_rows(config["DEMO_BASE_URL"])
    return app


def register_rows(base_url: str) -> Registration:
    """Both sides' registration rows for the demo at ``base_url`` (idempotent)."""
    issuer = f"{base_url}/demo"
    with demo_database.connection_context():
        registration = Registration.get_or_none(Registration.issuer == issuer)
        if registration is None:
            registration = Registration.create(
                issuer=issuer,
                client_id=f"demo-{uuid.uuid4().hex[:16]}",
                deployment_id=f"1:{uuid.uuid4().hex}",
                tool_login_url=f"{base_url}/lti/login",
                tool_launch_url=f"{base_url}/lti/launch",
                redirect_uris=json.dumps([f"{base_url}/lti/launch"]),
                tool_jwks_url=f"{base_url}/lti/jwks",
            )
    with database.connection_context():
        save_platform(
            PlatformSettings(
                issuer=issuer,
                client_id=registration.client_id,
                auth_login_url=f"{issuer}/auth",
                auth_token_url=f"{issuer}/token",
                key_set_url=f"{issuer}/jwks",
                deployment_ids=[registration.deployment_id],
                name="Demo LMS (test set-up)",
                platform_family="lms_plugin-demo",
                source="manual",
            )
        )
    return registration


def close_databases():
    for db in (demo_database, database):
        if db.obj is not None and not db.is_closed():
            db.close()


def current_registration(client) -> Registration:
    """The demo's registration with the tool (the home page answers with it)."""
    assert client.get("/demo/").status_code == 200
    with demo_database.connection_context():
        return Registration.get(Registration.issuer == ISSUER)


def client_assertion(key: TestKey, client_id: str, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return key.sign({k: v for k, v in claims.items() if v is not None})


def token_form(assertion: str, scopes: list[str]) -> dict:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": " ".join(scopes),
    }


def bearer(client, key: TestKey, scopes: list[str]) -> dict:
    """Headers with a bearer token obtained from /demo/token."""
    registration = current_registration(client)
    form = token_form(client_assertion(key, registration.client_id), scopes)
    response = client.post("/demo/token", data=form)
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def hidden_fields(page: str) -> dict:
    """The hidden inputs of an auto-submitting form page."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def form_action(page: str) -> str:
    return html.unescape(
        re.search(r'<form id="demo-autopost"[^>]*action="([^"]+)"', page)[1]
    )


def pick(client, sub: str) -> None:
    """Switch the demo's current user through its CSRF-protected form."""
    page = client.get("/demo/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post("/demo/user", data={"csrf_token": token, "sub": sub})
    assert response.status_code == 302
