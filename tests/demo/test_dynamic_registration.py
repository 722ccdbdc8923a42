"""The platform side of LTI Dynamic Registration: /demo/register."""

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from lms_plugin.demo.dynamic_registration import TOOL_CONFIGURATION
from lms_plugin.demo.dynamic_registration import registration_token
from lms_plugin.demo.dynamic_registration import tool_registration_url
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from tests.demo.support import ISSUER
from tests.demo.support import NRPS
from tests.demo.support import SCORE

TOOL = "http://127.0.0.1:9000"


def tool_request(**overrides) -> dict:
    """A client registration request shaped like the tool's (DR §3.5.2)."""
    body = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{TOOL}/lti/login",
        "redirect_uris": [f"{TOOL}/lti/launch"],
        "client_name": "Mentorship modules",
        "jwks_uri": f"{TOOL}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{SCORE} {NRPS} https://example.org/scope/unsupported",
        TOOL_CONFIGURATION: {
            "domain": "127.0.0.1:9000",
            "target_link_uri": f"{TOOL}/lti/launch",
            "messages": [{"type": "LtiDeepLinkingRequest"}],
        },
    }
    body.update(overrides)
    return body


@pytest.fixture
def token(demo_app, demo_client):
    demo_client.get("/demo/")
    with demo_app.app_context(), demo_database.connection_context():
        return registration_token()


def register(client, body, token):
    return client.post(
        "/demo/register", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_discovery_names_the_registration_endpoint(demo_client):
    doc = demo_client.get("/demo/.well-known/openid-configuration").json
    assert doc["registration_endpoint"] == f"{ISSUER}/register"


def test_tool_registers_and_the_token_is_spent(demo_client, token):
    response = register(demo_client, tool_request(), token)
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["client_id"].startswith("demo-")
    assert answer["scope"] == f"{SCORE} {NRPS}"  # unsupported scope not granted
    deployment_id = answer[TOOL_CONFIGURATION]["deployment_id"]
    with demo_database.connection_context():
        [row] = Registration.select()
    assert (row.issuer, row.client_id, row.deployment_id) == (
        ISSUER,
        answer["client_id"],
        deployment_id,
    )
    assert row.tool_login_url == f"{TOOL}/lti/login"
    assert row.tool_jwks_url == f"{TOOL}/lti/jwks"
    assert row.redirect_uri_list == [f"{TOOL}/lti/launch"]
    again = register(demo_client, tool_request(), token)
    assert again.status_code == 401


def test_registration_needs_a_registration_token(demo_client, token):
    assert demo_client.post("/demo/register", json=tool_request()).status_code == 401
    assert register(demo_client, tool_request(), "made-up").status_code == 401


@pytest.mark.parametrize(
    "overrides, text",
    [
        ({"application_type": "native"}, "application_type"),
        ({"grant_types": ["implicit"]}, "grant_types"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "auth_method"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"jwks_uri": "https://elsewhere.example/jwks"}, "not on the tool's domain"),
        ({"initiate_login_uri": "javascript:alert(1)"}, "not an http(s) URL"),
        ({TOOL_CONFIGURATION: {"target_link_uri": f"{TOOL}/x"}}, "domain"),
    ],
)
def test_bad_registration_requests_change_nothing(demo_client, token, overrides, text):
    with demo_database.connection_context():
        before = [r.client_id for r in Registration.select()]
    response = register(demo_client, tool_request(**overrides), token)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_client_metadata"
    assert text in response.json["error_description"]
    with demo_database.connection_context():
        assert [r.client_id for r in Registration.select()] == before


def test_tool_registration_url(demo_app):
    with demo_app.app_context(), demo_database.connection_context():
        url = tool_registration_url(f"{TOOL}/lti/register", ISSUER)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{TOOL}/lti/register"
    query = parse_qs(parts.query)
    assert query["openid_configuration"] == [
        f"{ISSUER}/.well-known/openid-configuration"
    ]
    assert len(query["registration_token"][0]) > 30
