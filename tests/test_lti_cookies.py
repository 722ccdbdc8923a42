"""Launch state without third-party cookies: CHIPS cookies on HTTPS, LTI platform
storage when the platform offers it, and a new-window page otherwise."""

import json
import re

from flask import session

from tests.lti_platform import login_params
from tests.lti_platform import post_launch
from tests.lti_platform import start_login

HTTPS = "https://localhost"


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def _storage_config(response) -> dict:
    text = response.get_data(as_text=True)
    match = re.search(
        r'<script type="application/json" id="lti-storage">(.*?)</script>', text, re.S
    )
    assert match, text
    return json.loads(match.group(1))


def test_https_cookies_are_secure_samesite_none_partitioned(client, platform):
    login = client.get(
        "/lti/login", query_string=login_params(platform), base_url=HTTPS
    )
    (state_cookie,) = [c for c in _set_cookies(login) if c.startswith("lti1p3-state-")]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in state_cookie
    state = re.search(r"state=([^&]+)", login.location).group(1)
    nonce = re.search(r"nonce=([^&]+)", login.location).group(1)
    id_token = platform.sign(platform.claims(nonce))
    launch = client.post(
        "/lti/launch", data={"state": state, "id_token": id_token}, base_url=HTTPS
    )
    assert launch.status_code == 303
    (session_cookie,) = [c for c in _set_cookies(launch) if c.startswith("session=")]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in session_cookie
    assert client.get("/learn/", base_url=HTTPS).status_code == 200


def test_plain_http_cookies_work_without_secure(client, platform):
    login = client.get("/lti/login", query_string=login_params(platform))
    (state_cookie,) = [c for c in _set_cookies(login) if c.startswith("lti1p3-state-")]
    assert "Secure" not in state_cookie and "Partitioned" not in state_cookie


def _storage_login(client, platform):
    params = login_params(platform, lti_storage_target="post_message_forwarding")
    response = client.get("/lti/login", query_string=params)
    assert response.status_code == 200
    config = _storage_config(response)
    query = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", config["next"]))
    return response, config, query["state"], query["nonce"]


def test_storage_target_login_stores_state_and_nonce_in_the_platform(client, platform):
    response, config, state, nonce = _storage_login(client, platform)
    assert config["mode"] == "put"
    assert config["target"] == "post_message_forwarding"
    assert config["origin"] == platform.issuer
    assert config["next"].startswith(platform.auth_login_url + "?")
    assert sorted(config["items"].values()) == sorted([state, nonce])
    # Cookies are set as well: they are the fallback when storage is unanswered.
    assert any(c.startswith(f"lti1p3-{state}=") for c in _set_cookies(response))
    assert "lti_storage.js" in response.get_data(as_text=True)


def test_storage_login_still_launches_with_cookies(client, platform):
    _response, _config, state, nonce = _storage_login(client, platform)
    response = post_launch(client, state, platform.sign(platform.claims(nonce)))
    assert response.status_code == 303


def _cookieless_launch(client, platform):
    _response, _config, state, nonce = _storage_login(client, platform)
    client.delete_cookie(f"lti1p3-{state}")
    id_token = platform.sign(platform.claims(nonce))
    page = post_launch(client, state, id_token)
    return page, state, nonce, id_token


def test_cookieless_launch_reads_state_back_from_platform_storage(client, platform):
    page, state, nonce, id_token = _cookieless_launch(client, platform)
    assert page.status_code == 200
    config = _storage_config(page)
    assert config["mode"] == "get" and config["origin"] == platform.issuer
    assert set(config["keys"]) == {"lti_storage_state", "lti_storage_nonce"}
    text = page.get_data(as_text=True)
    assert f'name="id_token" value="{id_token}"' in text
    # What lti_storage.js posts back after lti.get_data answered:
    values = {"lti_storage_state": state, "lti_storage_nonce": nonce}
    assert _repost(client, state, id_token, values).status_code == 303
    assert client.get("/learn/").status_code == 200


def _repost(client, state, id_token, values, origin="http://localhost"):
    headers = {"Origin": origin} if origin else {}
    data = {"id_token": id_token, "state": state, **values}
    return client.post("/lti/launch", data=data, headers=headers)


def test_platform_storage_values_from_another_site_are_refused(client, platform):
    _page, state, nonce, id_token = _cookieless_launch(client, platform)
    values = {"lti_storage_state": state, "lti_storage_nonce": nonce}
    response = _repost(client, state, id_token, values, origin="https://evil.example")
    assert response.status_code == 403
    assert _repost(client, state, id_token, values, origin=None).status_code == 403


def test_unanswered_platform_storage_falls_back_to_a_new_window(client, platform):
    _page, state, _nonce, id_token = _cookieless_launch(client, platform)
    values = {"lti_storage_state": "", "lti_storage_nonce": ""}
    response = _repost(client, state, id_token, values)
    assert response.status_code == 403
    assert "Open the tool in a new window" in response.get_data(as_text=True)


def test_wrong_platform_storage_values_are_refused(client, platform):
    _page, state, _nonce, id_token = _cookieless_launch(client, platform)
    values = {"lti_storage_state": state, "lti_storage_nonce": "guessed"}
    assert _repost(client, state, id_token, values).status_code == 403


def test_new_window_retry_starts_a_top_level_login(client, platform):
    state, nonce = start_login(client, platform)
    client.delete_cookie(f"lti1p3-{state}")
    page = post_launch(client, state, platform.sign(platform.claims(nonce)))
    assert page.status_code == 403
    hidden = dict(
        re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
            page.get_data(as_text=True),
        )
    )
    assert "lti_storage_target" not in hidden
    retry_state, retry_nonce = start_login(client, platform, **hidden)
    response = post_launch(
        client, retry_state, platform.sign(platform.claims(retry_nonce))
    )
    assert response.status_code == 303


def test_the_session_follows_a_new_secret_key_and_its_fallbacks(app):
    """The session serializer is kept between requests, but not past a key change."""

    @app.get("/_test/session")
    def counter():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    assert [client.get("/_test/session").text for _ in range(2)] == ["1", "2"]
    old = app.secret_key
    app.secret_key = "a-rotated-secret"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/_test/session").text == "3"  # signed with the old key: read
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/_test/session").text == "4"  # re-signed with the new key
    app.secret_key = "yet-another-secret"
    assert client.get("/_test/session").text == "1"  # unknown signature: new session


def test_responses_vary_on_the_session_cookie_unless_marked_public(client):
    # flask-login reads the session after every request, so Flask adds the Vary.
    assert "Cookie" in client.get("/healthz").headers["Vary"]
    jwks = client.get("/lti/jwks")  # the same keys for everyone, public
    assert jwks.status_code == 200 and jwks.cache_control.public
    assert "Cookie" not in jwks.headers.get("Vary", "")
