"""GET /lti/config/canvas.json is a developer-key JSON Canvas accepts."""

from urllib.parse import urlsplit

import pytest

from lms_plugin.lti.registration.tool_registration import tool_urls

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.example.edu"}


@pytest.fixture
def proxied_client(make_app):
    """The tool behind a TLS proxy that forwards scheme and host."""
    app = make_app(PROXY_FIX={"x_proto": 1, "x_host": 1})
    return app.test_client()


def _urls(value):
    """Every string in a JSON document that looks like a URL."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)
    elif isinstance(value, str) and "://" in value:
        yield value


def test_canvas_json_has_the_fields_canvas_requires(proxied_client):
    response = proxied_client.get("/lti/config/canvas.json", headers=FORWARDED)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    key = response.json

    for name in ("title", "description", "oidc_initiation_url", "target_link_uri"):
        assert isinstance(key[name], str) and key[name], name
    assert key.get("public_jwk") or key.get("public_jwk_url")
    assert key["oidc_initiation_url"] == "https://tool.example.edu/lti/login"
    assert key["target_link_uri"] == "https://tool.example.edu/lti/launch"
    assert key["public_jwk_url"] == "https://tool.example.edu/lti/jwks"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in key["scopes"]

    (extension,) = key["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] in {
        "anonymous",
        "name_only",
        "email_only",
        "public",
    }
    assert extension["domain"] == "tool.example.edu"
    assert extension["tool_id"]
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {
        "course_navigation",
        "link_selection",
        "assignment_selection",
    }
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    for name in ("link_selection", "assignment_selection"):
        assert placements[name]["message_type"] == "LtiDeepLinkingRequest"
    for placement in placements.values():
        assert placement["message_type"] in {
            "LtiResourceLinkRequest",
            "LtiDeepLinkingRequest",
        }
        assert placement["target_link_uri"] == key["target_link_uri"]


def test_every_url_is_absolute_https_behind_a_tls_proxy(proxied_client):
    key = proxied_client.get("/lti/config/canvas.json", headers=FORWARDED).json
    del key["scopes"]  # scope names are URIs, not the tool's URLs
    urls = list(_urls(key))
    assert len(urls) >= 8
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "tool.example.edu"), url


def test_icon_the_json_names_is_served(proxied_client):
    key = proxied_client.get("/lti/config/canvas.json", headers=FORWARDED).json
    icon = urlsplit(key["extensions"][0]["settings"]["icon_url"]).path
    response = proxied_client.get(icon)
    assert response.status_code == 200
    assert b"<svg" in response.data


def test_tool_urls_lists_every_url_an_admin_pastes():
    urls = tool_urls("https://tool.example.edu/")
    assert urls["OIDC login initiation URL"] == "https://tool.example.edu/lti/login"
    assert urls["Redirect (launch) URL"] == "https://tool.example.edu/lti/launch"
    assert urls["Deep linking URL"] == "https://tool.example.edu/lti/launch"
    assert urls["Public JWKS URL"] == "https://tool.example.edu/lti/jwks"
    assert urls["Dynamic Registration URL"] == "https://tool.example.edu/lti/register"
    assert (
        urls["Canvas developer key JSON URL"]
        == "https://tool.example.edu/lti/config/canvas.json"
    )
