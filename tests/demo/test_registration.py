"""The demo's discovery document, keys, and its Dynamic Registration with the tool."""

import jwt

from lms_plugin.demo.dynamic_registration import REGISTRATION_SCOPE
from lms_plugin.demo.keys import sign
from lms_plugin.demo.models import AccessToken
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.registration import register_over_http
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration
from tests.browser import LiveServer
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


def test_key_survives_a_restart(tmp_path):
    first = make_demo_app(tmp_path).test_client()
    kid = first.get("/demo/jwks").json["keys"][0]["kid"]
    close_databases()
    second = make_demo_app(tmp_path).test_client()
    assert second.get("/demo/jwks").json["keys"][0]["kid"] == kid
    close_databases()


def test_an_unregistered_demo_says_how_to_start_it(tmp_path):
    client = make_demo_app(tmp_path, register=False).test_client()
    page = client.get("/demo/")
    assert page.status_code == 503
    assert "lms-plugin demo" in page.get_data(as_text=True)
    close_databases()


def _registrations():
    with demo_database.connection_context():
        return [(r.issuer, r.client_id, r.deployment_id) for r in Registration.select()]


def test_dynamic_registration_over_http_is_idempotent(tmp_path):
    """The tool's own DR code registers with the demo over HTTP, once."""
    app = make_demo_app(tmp_path, register=False, DEMO_BASE_URL=None)
    with LiveServer(app) as server, app.app_context():
        first = register_over_http(server.url)
        issuer = f"{server.url}/demo"
        assert _registrations() == [(issuer, first.client_id, first.deployment_id)]
        tool = LtiRegistration.get(LtiRegistration.client_id == first.client_id)
        assert (tool.issuer, tool.source) == (issuer, "dynamic")
        assert tool.auth_login_url == f"{issuer}/auth"
        assert tool.auth_token_url == f"{issuer}/token"
        assert tool.key_set_url == f"{issuer}/jwks"
        assert [d.deployment_id for d in tool.deployments] == [first.deployment_id]
        assert first.tool_jwks_url == f"{server.url}/lti/jwks"
        assert first.redirect_uri_list == [f"{server.url}/lti/launch"]
        with demo_database.connection_context():  # the one-time token was spent
            assert (
                not AccessToken.select()
                .where(AccessToken.scopes == REGISTRATION_SCOPE)
                .exists()
            )

        again = register_over_http(server.url)  # a restart: nothing new
        assert again.client_id == first.client_id
        assert LtiRegistration.select().count() == 1

        LtiRegistration.delete().execute()  # the tool's database was reset
        renewed = register_over_http(server.url)
        assert renewed.client_id != first.client_id
        assert _registrations() == [(issuer, renewed.client_id, renewed.deployment_id)]
        [tool] = LtiRegistration.select()
        assert tool.client_id == renewed.client_id and tool.is_active
        assert LtiDeployment.get().deployment_id == renewed.deployment_id
        assert app.test_client().get("/demo/", base_url=server.url).status_code == 200
    close_databases()


def test_a_lost_demo_registration_retires_the_old_client(tmp_path):
    app = make_demo_app(tmp_path, register=False, DEMO_BASE_URL=None)
    with LiveServer(app) as server, app.app_context():
        first = register_over_http(server.url)
        with demo_database.connection_context():
            Registration.delete().execute()  # the demo's database was reset
        second = register_over_http(server.url)
        active = {
            r.client_id: r.is_active
            for r in LtiRegistration.select().order_by(LtiRegistration.id)
        }
        assert active == {first.client_id: False, second.client_id: True}
    close_databases()
