"""Launches from the platform side: login initiation, the OIDC auth endpoint and
the id_token it signs."""

import datetime

import jwt
import pytest

from lms_plugin.demo.models import LaunchIntent
from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import demo_database
from tests.demo.support import BASE
from tests.demo.support import DL
from tests.demo.support import ISSUER
from tests.demo.support import LTI
from tests.demo.support import current_registration
from tests.demo.support import form_action
from tests.demo.support import hidden_fields
from tests.demo.support import pick

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LEARNER = "demo-learner-avery"
INSTRUCTOR = "demo-instructor-morgan"


def initiate(client, path="/demo/links/demo-link-welcome/start") -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.data
    page = response.get_data(as_text=True)
    assert form_action(page) == f"{BASE}/lti/login"
    assert 'type="submit"' in page  # works without JavaScript
    return hidden_fields(page)


def auth_params(client, login: dict, **overrides) -> dict:
    """What the tool sends to the platform after login initiation."""
    registration = current_registration(client)
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": registration.redirect_uri_list[0],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "state": "state-123",
        "nonce": "nonce-456",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def id_token_of(client, response) -> dict:
    assert response.status_code == 200, response.data
    page = response.get_data(as_text=True)
    fields = hidden_fields(page)
    assert form_action(page) == f"{BASE}/lti/launch"
    assert fields["state"] == "state-123"
    [key] = client.get("/demo/jwks").json["keys"]
    header = jwt.get_unverified_header(fields["id_token"])
    assert header == {"alg": "RS256", "kid": key["kid"], "typ": "JWT"}
    registration = current_registration(client)
    return jwt.decode(
        fields["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=registration.client_id,
        issuer=ISSUER,
    )


def launch(client, path="/demo/links/demo-link-welcome/start", **overrides) -> dict:
    login = initiate(client, path)
    return id_token_of(
        client,
        client.get("/demo/auth", query_string=auth_params(client, login, **overrides)),
    )


def test_login_initiation_carries_the_lti_parameters(demo_client):
    login = initiate(demo_client)
    registration = current_registration(demo_client)
    assert login["iss"] == ISSUER
    assert login["login_hint"] == LEARNER
    assert login["target_link_uri"] == f"{BASE}/lti/launch"
    assert login["client_id"] == registration.client_id
    assert login["lti_deployment_id"] == registration.deployment_id
    assert len(login["lti_message_hint"]) > 20


def test_resource_link_launch_id_token(demo_client):
    claims = launch(demo_client)
    registration = current_registration(demo_client)
    assert claims["sub"] == LEARNER
    assert claims["azp"] == registration.client_id
    assert claims["nonce"] == "nonce-456"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["name"] == "Avery Okafor" and claims["email"].endswith(".example")
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == registration.deployment_id
    assert claims[LTI + "target_link_uri"] == f"{BASE}/lti/launch"
    assert claims[LTI + "resource_link"]["id"] == "demo-link-welcome"
    assert claims[LTI + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
    ]
    assert claims[LTI + "context"]["id"] == "demo-course-nur510"
    assert claims[LTI + "tool_platform"]["product_family_code"] == "lms_plugin-demo"
    assert claims[LTI + "launch_presentation"] == {
        "document_target": "iframe",
        "return_url": f"{ISSUER}/",
        "locale": "en-US",
    }
    assert claims[LTI + "custom"] == {}
    assert claims[AGS]["lineitems"] == f"{ISSUER}/api/lineitems"
    assert "lineitem" not in claims[AGS]  # this link has no gradebook column
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in claims[AGS]["scope"]
    assert claims[NRPS] == {
        "context_memberships_url": f"{ISSUER}/api/memberships",
        "service_versions": ["2.0"],
    }
    assert DL + "deep_linking_settings" not in claims


def test_graded_link_launch_names_its_line_item_and_custom(demo_client):
    current_registration(demo_client)
    with demo_database.connection_context():
        link = ResourceLink.create(
            link_id="graded", title="Graded", custom='{"module": "m01"}'
        )
        item = LineItem.create(label="Graded", score_maximum=10, resource_link=link)
    claims = launch(demo_client, "/demo/links/graded/start")
    assert claims[AGS]["lineitem"] == f"{ISSUER}/api/lineitems/{item.id}"
    assert claims[LTI + "custom"] == {"module": "m01"}
    assert claims[LTI + "resource_link"]["title"] == "Graded"


def test_instructor_roles_and_new_window_target(demo_client):
    pick(demo_client, INSTRUCTOR)
    claims = launch(
        demo_client, "/demo/links/demo-course-navigation/start?target=window"
    )
    assert claims["sub"] == INSTRUCTOR
    assert (
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        in claims[LTI + "roles"]
    )
    assert claims[LTI + "launch_presentation"]["document_target"] == "window"
    assert claims[LTI + "resource_link"]["id"] == "demo-course-navigation"


def test_deep_linking_launch(demo_client):
    pick(demo_client, INSTRUCTOR)
    claims = launch(demo_client, "/demo/deep-link/start")
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    assert LTI + "resource_link" not in claims
    settings = claims[DL + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == f"{ISSUER}/deep-link-return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is True
    with demo_database.connection_context():
        assert LaunchIntent.get(LaunchIntent.deep_link_data == settings["data"])


def test_learners_cannot_start_deep_linking(demo_client):
    assert demo_client.get("/demo/deep-link").status_code == 403
    assert demo_client.get("/demo/deep-link/start").status_code == 403


def test_auth_accepts_post(demo_client):
    login = initiate(demo_client)
    response = demo_client.post("/demo/auth", data=auth_params(demo_client, login))
    assert id_token_of(demo_client, response)["sub"] == LEARNER


@pytest.mark.parametrize(
    "overrides, status, text",
    [
        ({"client_id": "someone-else"}, 400, "Unknown client_id"),
        ({"redirect_uri": "https://evil.example/launch"}, 400, "not registered"),
        ({"scope": "profile"}, 400, "openid"),
        ({"response_type": "code"}, 400, "response_type"),
        ({"response_mode": "query"}, 400, "response_mode"),
        ({"prompt": None}, 400, "prompt"),
        ({"nonce": None}, 400, "nonce is required"),
        ({"login_hint": "demo-learner-jordan"}, 403, "different user"),
        ({"lti_message_hint": "made-up"}, 400, "lti_message_hint"),
    ],
)
def test_auth_refuses_bad_requests(demo_client, overrides, status, text):
    login = initiate(demo_client)
    params = auth_params(demo_client, login, **overrides)
    response = demo_client.get("/demo/auth", query_string=params)
    assert response.status_code == status
    assert text in response.get_data(as_text=True)
    assert 'name="id_token"' not in response.get_data(as_text=True)


def test_auth_refuses_an_expired_launch(demo_client):
    login = initiate(demo_client)
    with demo_database.connection_context():
        LaunchIntent.update(expires_at=datetime.datetime(2000, 1, 1)).execute()
    params = auth_params(demo_client, login)
    response = demo_client.get("/demo/auth", query_string=params)
    assert response.status_code == 400
    assert b"expired" in response.data


def test_auth_refuses_a_hint_of_another_users_launch(demo_client):
    login = initiate(demo_client)  # started by the learner
    pick(demo_client, INSTRUCTOR)
    params = auth_params(demo_client, login, login_hint=INSTRUCTOR)
    response = demo_client.get("/demo/auth", query_string=params)
    assert response.status_code == 400
