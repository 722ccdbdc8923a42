"""The demo's discovery document, keys, and its registration with the tool."""

import jwt

from lms_plugin.demo.keys import sign
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.models import open_database
from lms_plugin.demo.registration import register_with_tool
from lms_plugin.demo.seed import seed
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration
from tests.demo.support import ISSUER
from tests.demo.support import close_databases
from tests.demo.support import make_demo_app

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def test_openid_configuration(demo_client):
    doc = demo_client.get("/demo/.well-known/openid-configuration").json
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/auth"
    assert doc["token_endpoint"] == f"{ISSUER}/token"
    assert doc["jwks_uri"] == f"{ISSUER}/jwks"
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "openid" in doc["scopes_supported"]
    messages = {m["type"] for m in doc[PLATFORM_CONFIG]["messages_supported"]}
    assert messages == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}


def test_jwks_verifies_what_the_platform_signs(demo_app, demo_client):
    jwks = demo_client.get("/demo/jwks").json
    [key] = jwks["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key
    with demo_app.app_context():
        token = sign({"hello": "tool"})
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"])
    assert claims == {"hello": "tool"}


def test_key_and_registration_survive_a_restart(tmp_path):
    first = make_demo_app(tmp_path).test_client()
    kid = first.get("/demo/jwks").json["keys"][0]["kid"]
    first.get("/demo/")
    close_databases()
    second = make_demo_app(tmp_path).test_client()
    assert second.get("/demo/jwks").json["keys"][0]["kid"] == kid
    second.get("/demo/")
    with demo_database.connection_context():
        assert Registration.select().count() == 1
    assert LtiRegistration.select().count() == 1
    assert LtiDeployment.select().count() == 1
    close_databases()


def test_register_with_tool_is_idempotent_on_the_tool_database(app, tmp_path):
    """On SQLite and PostgreSQL: the tool's rows are made once, re-made if lost."""
    open_database(tmp_path / "demo.sqlite3")
    try:
        with demo_database.connection_context():
            seed()
            first = register_with_tool("http://127.0.0.1:8000")
            again = register_with_tool("http://127.0.0.1:8000")
        assert (again.client_id, again.deployment_id) == (
            first.client_id,
            first.deployment_id,
        )
        tool = LtiRegistration.get(LtiRegistration.client_id == first.client_id)
        assert tool.issuer == "http://127.0.0.1:8000/demo"
        assert tool.auth_login_url == "http://127.0.0.1:8000/demo/auth"
        assert tool.auth_token_url == "http://127.0.0.1:8000/demo/token"
        assert tool.key_set_url == "http://127.0.0.1:8000/demo/jwks"
        [deployment] = tool.deployments
        assert deployment.deployment_id == first.deployment_id
        assert first.tool_jwks_url == "http://127.0.0.1:8000/lti/jwks"
        assert first.redirect_uri_list == ["http://127.0.0.1:8000/lti/launch"]

        LtiRegistration.delete().execute()  # the tool's database was reset
        with demo_database.connection_context():
            register_with_tool("http://127.0.0.1:8000")
        assert LtiRegistration.select().count() == 1
        assert LtiDeployment.get().deployment_id == first.deployment_id
    finally:
        demo_database.close()
