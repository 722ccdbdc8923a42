"""LTI Dynamic Registration against a fake LMS served over real HTTP."""

import html
import socket

import pytest

from lms_plugin.lti.registration import platforms
from lms_plugin.lti.registration import views as registration_views
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration
from tests.registration_platform import ORIGIN
from tests.registration_platform import TOOL
from tests.registration_platform import TOOL_CONFIGURATION
from tests.registration_platform import form_action
from tests.registration_platform import form_fields
from tests.registration_platform import invite_path
from tests.registration_platform import open_form
from tests.registration_platform import press_register
from tests.registration_platform import register

#: What every failure to fetch the configuration says (outbound.NEUTRAL_MESSAGE).
NEUTRAL = "could not get a usable answer"


def test_moodle_registration_end_to_end(client, serve_lms):
    lms = serve_lms(family="moodle", client_id="moodle-client", deployment_id="3")

    page = open_form(client, lms)
    assert page.status_code == 200
    assert "Register" in page.text and lms.issuer in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert LtiRegistration.select().count() == 0  # nothing before the button

    done = press_register(client, page)
    assert done.status_code == 200, done.text
    assert "Registration complete, you can close this window" in done.text
    assert "registration.js" in done.text
    assert "Activate" in done.text  # Moodle's next step

    config_gets = lms.requests_to("config")
    assert len(config_gets) == 2  # shown, then re-read before registering
    assert all(s.authorization == "Bearer reg-token-1" for s in config_gets)
    (post,) = lms.requests_to("registration")
    assert post.authorization == "Bearer reg-token-1"
    body = post.body
    assert body["application_type"] == "web"
    assert body["response_types"] == ["id_token"]
    assert sorted(body["grant_types"]) == ["client_credentials", "implicit"]
    assert body["initiate_login_uri"] == f"{TOOL}/lti/login"
    assert body["redirect_uris"] == [f"{TOOL}/lti/launch"]
    assert body["jwks_uri"] == f"{TOOL}/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["client_name"]
    assert set(body["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    tool = body[TOOL_CONFIGURATION]
    assert tool["domain"] == "localhost"
    assert tool["target_link_uri"] == f"{TOOL}/lti/launch"
    assert {"sub", "iss", "name", "email"} <= set(tool["claims"])
    messages = {m["type"]: m for m in tool["messages"]}
    assert set(messages) == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert messages["LtiDeepLinkingRequest"]["target_link_uri"] == f"{TOOL}/lti/launch"
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["AddContentMenu"]

    registration = LtiRegistration.get()
    assert registration.issuer == lms.issuer
    assert registration.client_id == "moodle-client"
    assert registration.auth_login_url == f"{lms.issuer}/auth"
    assert registration.auth_token_url == f"{lms.issuer}/token"
    assert registration.key_set_url == f"{lms.issuer}/certs"
    assert registration.platform_family == "moodle"
    assert registration.source == "dynamic"
    assert registration.is_active
    (deployment,) = registration.deployments
    assert deployment.deployment_id == "3" and deployment.is_active


def test_canvas_registration_asks_for_canvas_placements(client, serve_lms):
    lms = serve_lms(family="canvas", client_id="10000000000042", deployment_id=None)

    done = register(client, lms)

    assert done.status_code == 200, done.text
    (post,) = lms.requests_to("registration")
    tool = post.body[TOOL_CONFIGURATION]
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "public"
    placements = {m["type"]: m.get("placements") for m in tool["messages"]}
    assert placements["LtiResourceLinkRequest"] == ["course_navigation"]
    assert placements["LtiDeepLinkingRequest"] == [
        "link_selection",
        "assignment_selection",
    ]
    registration = LtiRegistration.get()
    assert registration.name == "Test University"
    assert registration.platform_family == "canvas"
    # Canvas makes the deployment when the key is enabled: none stored yet.
    assert LtiDeployment.select().count() == 0


def test_scopes_are_narrowed_to_what_the_platform_supports(client, serve_lms):
    lms = serve_lms(
        config_changes={
            "scopes_supported": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
        }
    )
    assert register(client, lms).status_code == 200
    (post,) = lms.requests_to("registration")
    assert post.body["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def test_registering_again_updates_instead_of_duplicating(client, serve_lms):
    lms = serve_lms(deployment_id="3")
    assert register(client, lms).status_code == 200
    first = LtiRegistration.get()
    LtiDeployment.update(is_active=False).execute()

    lms.deployment_id = "4"
    assert register(client, lms, token="reg-token-2").status_code == 200

    assert LtiRegistration.select().count() == 1
    assert LtiRegistration.get().id == first.id
    states = {d.deployment_id: d.is_active for d in LtiDeployment.select()}
    assert states == {"3": False, "4": True}


def test_without_registration_token_no_authorization_is_sent(client, serve_lms):
    lms = serve_lms()
    assert register(client, lms, token=None).status_code == 200
    assert all(s.authorization is None for s in lms.seen)


def test_moodle_3_10_0_configuration_key_with_trailing_space(client, serve_lms):
    lms = serve_lms()
    platform_config = lms.configuration()[
        "https://purl.imsglobal.org/spec/lti-platform-configuration"
    ]
    lms.config_changes = {
        "https://purl.imsglobal.org/spec/lti-platform-configuration": None,
        "https://purl.imsglobal.org/spec/lti-platform-configuration ": platform_config,
    }
    assert register(client, lms).status_code == 200


def test_page_without_parameters_explains_itself(client):
    response = client.get("/lti/register")
    assert response.status_code == 400
    assert "Dynamic Registration URL" in response.text


def test_plain_http_platform_is_refused_before_any_request(client):
    response = client.get(
        "/lti/register",
        query_string={"openid_configuration": "http://lms.example.edu/config"},
    )
    assert response.status_code == 400
    assert "https" in response.text


def test_http_localhost_is_refused_outside_debug_and_testing(make_app, serve_lms):
    app = make_app(TESTING=False)
    lms = serve_lms()
    response = open_form(app.test_client(), lms)
    assert response.status_code == 400
    assert lms.seen == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_platform_is_a_502(client):
    url = f"http://127.0.0.1:{_closed_port()}/mod/lti/openid-configuration.php"
    response = client.get(invite_path(), query_string={"openid_configuration": url})
    assert response.status_code == 502
    assert NEUTRAL in response.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"config_raw": b"<html>login</html>"}, 502, NEUTRAL),
        ({"config_status": 401}, 502, NEUTRAL),
        ({"config_changes": {"token_endpoint": None}}, 502, "token_endpoint"),
        ({"config_changes": {"authorization_endpoint": None}}, 502, "authorization"),
        (
            {"config_changes": {"issuer": "https://lms.example.edu"}},
            400,
            "not on the same site",
        ),
        (
            {"config_changes": {"registration_endpoint": "https://evil.example/r"}},
            400,
            "registration_endpoint",
        ),
    ],
)
def test_bad_platform_configuration_is_refused(
    client, serve_lms, fields, status, message
):
    lms = serve_lms(**fields)
    response = open_form(client, lms)
    assert response.status_code == status
    assert message in html.unescape(response.text)
    assert lms.requests_to("registration") == []


def test_missing_platform_family_is_refused(client, serve_lms):
    lms = serve_lms()
    lms.config_changes = {
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {"version": "1"}
    }
    response = open_form(client, lms)
    assert response.status_code == 502
    assert "product_family_code" in response.text


def _post_after_form(client, lms):
    page = open_form(client, lms)
    return press_register(client, page)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"registration_status": 400}, "redirect_uris not allowed"),
        ({"registration_status": 422}, "refused the registration"),
        ({"registration_answer": {"client_name": "x"}}, "no usable client_id"),
        (
            {
                "registration_answer": {
                    "client_id": "c",
                    TOOL_CONFIGURATION: {"deployment_id": "d" * 300},
                }
            },
            "unusable deployment_id",
        ),
    ],
)
def test_platform_rejection_stores_nothing(client, serve_lms, fields, message):
    lms = serve_lms(**fields)
    response = _post_after_form(client, lms)
    assert response.status_code == 502
    assert message in html.unescape(response.text)
    assert LtiRegistration.select().count() == 0
    assert LtiDeployment.select().count() == 0


def test_storage_failure_rolls_back_the_registration(make_app, serve_lms, monkeypatch):
    app = make_app(TESTING=False, LTI_ALLOW_HTTP_LOCALHOST=True)
    client = app.test_client()
    lms = serve_lms(deployment_id="9")
    page = open_form(client, lms)

    def broken(registration, deployment_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(platforms, "_activate", broken)
    response = press_register(client, page)

    assert response.status_code == 500
    assert "registered the tool as client tool-client-1" in response.text
    assert "disk full" not in response.text
    assert LtiRegistration.select().count() == 0


def test_post_without_the_signed_form_is_refused(client, serve_lms):
    lms = serve_lms()
    data = {"openid_configuration": lms.openid_configuration_url}
    response = client.post("/lti/register", data=data, headers=ORIGIN)
    assert response.status_code == 400
    assert lms.seen == []


def test_post_with_altered_parameters_is_refused(client, serve_lms):
    lms = serve_lms()
    other = serve_lms()
    page = open_form(client, lms)
    fields = form_fields(page)
    fields["openid_configuration"] = other.openid_configuration_url
    response = client.post(form_action(page), data=fields, headers=ORIGIN)
    assert response.status_code == 400
    assert "altered" in response.text
    assert other.seen == [] and lms.requests_to("registration") == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_post_from_another_site_is_refused(client, serve_lms, origin):
    lms = serve_lms()
    page = open_form(client, lms)
    response = press_register(client, page, headers={"Origin": origin})
    assert response.status_code == 403
    assert lms.requests_to("registration") == []


def test_expired_form_is_refused(client, serve_lms, monkeypatch):
    lms = serve_lms()
    page = open_form(client, lms)
    monkeypatch.setattr(registration_views, "FORM_MAX_AGE", -1)
    response = press_register(client, page)
    assert response.status_code == 400
    assert "expired" in response.text


def test_allow_listed_issuers_register_without_an_invite(make_app, serve_lms):
    app = make_app(LTI_REGISTRATION_ALLOWED_ISSUERS=["https://moodle.example.edu"])
    lms = serve_lms()
    response = open_form(app.test_client(), lms, path="/lti/register")
    assert response.status_code == 403
    assert "platform invite" in response.text
    assert lms.seen == []

    app = make_app(LTI_REGISTRATION_ALLOWED_ISSUERS=[lms.issuer])
    assert register(app.test_client(), lms, path="/lti/register").status_code == 200
    assert LtiRegistration.get().is_active


def test_close_script_posts_the_lti_close_message(client):
    script = client.get("/static/registration.js").text
    assert "window.parent.postMessage(message" in script
    assert 'subject: "org.imsglobal.lti.close"' in script


def _directives(policy: str) -> dict[str, str]:
    pairs = (d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return {name: value for name, value in pairs}


def test_the_registering_lms_may_frame_the_pages(client, serve_lms):
    lms = serve_lms()
    page = open_form(client, lms)
    done = press_register(client, page)
    usual = _directives(
        client.get("/lti/config/canvas.json").headers["Content-Security-Policy"]
    )
    for response in (page, done):
        policy = _directives(response.headers["Content-Security-Policy"])
        assert lms.issuer in policy["frame-ancestors"].split()
        assert "'self'" in policy["frame-ancestors"].split()
        # Everything but frame-ancestors is the tool's usual policy.
        policy.pop("frame-ancestors")
        assert policy == {k: v for k, v in usual.items() if k != "frame-ancestors"}


def test_a_refusal_can_be_framed_by_the_lms_and_offers_nothing_to_click(client):
    url = "https://canvas.instructure.com/api/lti/security/openid-configuration"
    response = client.get("/lti/register", query_string={"openid_configuration": url})
    assert response.status_code == 403
    ancestors = _directives(response.headers["Content-Security-Policy"])[
        "frame-ancestors"
    ].split()
    # The admin sees why inside the LMS's frame; there is no form to clickjack.
    assert "https://canvas.instructure.com" in ancestors
    assert "<form" not in response.text and "<button" not in response.text


def test_error_pages_of_the_flow_can_be_framed_by_the_lms(client):
    url = "https://canvas.instructure.com/api/lti/security/openid-configuration"
    response = client.post("/lti/register", data={"openid_configuration": url})
    assert response.status_code == 400  # no signed form
    ancestors = _directives(response.headers["Content-Security-Policy"])[
        "frame-ancestors"
    ].split()
    assert "https://canvas.instructure.com" in ancestors
    assert "https://*.instructure.com" in ancestors
