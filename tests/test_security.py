"""CSRF on the tool's forms, and headers that let only platforms frame the tool."""

import pytest
from flask import render_template_string

from lms_plugin import csrf
from lms_plugin import security
from lms_plugin.models.lti import LtiRegistration


@pytest.fixture
def form_app(app):
    @app.route("/_form", methods=["GET", "POST"])
    def form():
        return render_template_string(
            "<input name=csrf_token value={{ csrf_token() }}>"
        )

    @app.post("/_platform_post")
    @csrf.exempt
    def platform_post():
        return "ok"

    return app


def _token(client) -> str:
    html = client.get("/_form").text
    return html.split("value=")[1].rstrip(">")


def test_post_without_token_is_refused(form_app):
    client = form_app.test_client()
    response = client.post("/_form", data={})
    assert response.status_code == 400
    assert "expired" in response.text


def test_post_with_wrong_token_is_refused(form_app):
    client = form_app.test_client()
    _token(client)
    assert client.post("/_form", data={"csrf_token": "forged"}).status_code == 400


def test_post_with_token_passes_and_header_works(form_app):
    client = form_app.test_client()
    token = _token(client)
    assert client.post("/_form", data={"csrf_token": token}).status_code == 200
    assert client.post("/_form", headers={"X-CSRF-Token": token}).status_code == 200


def test_another_sessions_token_is_refused(form_app):
    token = _token(form_app.test_client())
    other = form_app.test_client()
    _token(other)
    assert other.post("/_form", data={"csrf_token": token}).status_code == 400


def test_exempt_view_takes_cross_site_posts(form_app):
    assert form_app.test_client().post("/_platform_post").text == "ok"


def test_frame_ancestors_lists_registered_platforms(app, client):
    with app.app_context():
        LtiRegistration.create(
            issuer="https://moodle.example.edu",
            client_id="abc",
            auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
            auth_token_url="https://moodle.example.edu/mod/lti/token.php",
            key_set_url="https://moodle.example.edu/mod/lti/certs.php",
        )
        LtiRegistration.create(
            issuer="https://canvas.instructure.com",
            client_id="100000000000001",
            auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
            auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
            key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
        )
        LtiRegistration.create(
            issuer="https://old.example.org",
            client_id="x",
            is_active=False,
            auth_login_url="https://old.example.org/auth",
            auth_token_url="https://old.example.org/token",
        )
    security._cache.clear()
    response = client.get("/healthz")
    policy = response.headers["Content-Security-Policy"]
    ancestors = policy.split("frame-ancestors ")[1].split()
    assert "'self'" in ancestors
    assert "https://moodle.example.edu" in ancestors
    assert "https://*.instructure.com" in ancestors
    assert "https://sso.canvaslms.com" in ancestors
    assert "https://old.example.org" not in ancestors
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("issuer", "family", "canvas"),
    [
        ("https://canvas.instructure.com", "", True),  # Canvas cloud
        ("https://School.Instructure.com:443/", "other", True),  # whatever it says
        ("https://canvas.school.edu", "canvas", True),  # self-hosted: its family
        ("https://instructure.school.edu", "", False),  # not on instructure.com
        ("https://lms.school.edu/instructure", "moodle", False),
    ],
)
def test_one_rule_says_which_platforms_are_canvas(issuer, family, canvas):
    """Frame ancestors, the AGS score and registration all ask the registration."""
    from lms_plugin.lti.registration.platforms import guess_family
    from lms_plugin.models.lti import is_canvas_cloud

    registration = LtiRegistration(issuer=issuer, platform_family=family)
    assert registration.is_canvas is canvas
    assert guess_family(issuer) == ("canvas" if is_canvas_cloud(issuer) else "other")


def test_configured_frame_ancestors_are_added(make_app):
    app = make_app(FRAME_ANCESTORS=["https://lms.example.edu"])
    response = app.test_client().get("/healthz")
    assert "https://lms.example.edu" in response.headers["Content-Security-Policy"]


# --- HSTS and no-store -----------------------------------------------------------


def test_hsts_over_https_only(client):
    secure = client.get("/healthz", base_url="https://tool.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/healthz", base_url="http://tool.example")
    assert "Strict-Transport-Security" not in plain.headers


def test_hsts_behind_a_tls_proxy_follows_x_forwarded_proto(make_app):
    client = make_app(PROXY_FIX={"x_proto": 1}, HSTS_MAX_AGE=600).test_client()
    behind = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"] == "max-age=600"
    direct = client.get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in direct.headers


def test_hsts_max_age_zero_turns_it_off(make_app):
    client = make_app(HSTS_MAX_AGE=0).test_client()
    response = client.get("/healthz", base_url="https://tool.example")
    assert "Strict-Transport-Security" not in response.headers
