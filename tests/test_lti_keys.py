"""Tool keys (generated into the DB, published, rotated with grace) and platform
keys (fetched over real HTTP, cached in the DB, refetched once on an unknown kid)."""

import datetime

import pytest

from lms_plugin.db import database
from lms_plugin.lti.registration import keys
from lms_plugin.models.lti import PlatformKeySet
from lms_plugin.models.lti import ToolKey
from tests.lti_platform import PlatformServer
from tests.lti_platform import TestPlatform
from tests.lti_platform import post_launch
from tests.lti_platform import start_login


def test_jwks_publishes_a_generated_public_key(client):
    first = client.get("/lti/jwks")
    assert first.status_code == 200
    (key,) = first.json["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key  # never private parts
    assert client.get("/lti/jwks").json == first.json  # generated once
    with database.connection_context():
        (row,) = ToolKey.select()
    assert row.kid == key["kid"] and "PRIVATE KEY" in row.private_pem


def _kids(client) -> list[str]:
    return [key["kid"] for key in client.get("/lti/jwks").json["keys"]]


def _signing_kid() -> str:
    with database.connection_context():
        return keys.signing_key().kid


def _pass(seconds: float) -> None:
    """Move every stored time ``seconds`` into the past, as if they had passed."""
    shift = datetime.timedelta(seconds=seconds)
    with database.connection_context():
        for key in ToolKey.select():
            for name in ("created_at", "activates_at", "retired_at", "expires_at"):
                if getattr(key, name) is not None:
                    setattr(key, name, getattr(key, name) - shift)
            key.save()


def test_the_jwks_cache_lifetime_is_a_setting(make_app):
    response = make_app(LTI_JWKS_MAX_AGE=120).test_client().get("/lti/jwks")
    assert response.cache_control.max_age == 120 and response.cache_control.public


def test_rotation_publishes_the_next_key_before_it_signs(app, client, runner):
    (old_kid,) = _kids(client)
    result = runner.invoke(args=["keys", "rotate", "--grace-days", "2"])
    assert result.exit_code == 0, result.output
    assert "next key" in result.output
    kids = _kids(client)
    assert len(kids) == 2 and kids[1] == old_kid
    new_kid = kids[0]
    assert _signing_kid() == old_kid  # the JWKS may be cached for 300 s yet
    listing = runner.invoke(args=["keys", "list"]).output
    assert f"{new_kid}" in listing and "next: signs from" in listing
    assert "current: until" in listing

    _pass(299)
    assert _signing_kid() == old_kid
    _pass(2)  # one JWKS cache lifetime (300 s) since the rotation
    assert _signing_kid() == new_kid
    assert _kids(client) == [new_kid, old_kid]  # the old one in its grace period
    with database.connection_context():
        old = ToolKey.get(ToolKey.kid == old_kid)
        new = ToolKey.get(ToolKey.kid == new_kid)
        assert old.retired_at == new.activates_at
        assert old.expires_at - old.retired_at == datetime.timedelta(days=2)
        assert new.activates_at - new.created_at == datetime.timedelta(seconds=300)
    listing = runner.invoke(args=["keys", "list"]).output
    assert "retiring: published until" in listing
    assert f"{new_kid}" in listing and "current" in listing


def test_what_the_old_key_signs_verifies_against_a_jwks_cached_before(app, client):
    """A platform that fetched the JWKS before the rotation verifies every signature
    made while it may still hold that copy."""
    import jwt

    cached = client.get("/lti/jwks").json
    with database.connection_context():
        keys.rotate_keys(7, publish_for=300)
        key = keys.signing_key()
    token = jwt.encode({"iss": "tool"}, key.private_pem, "RS256", {"kid": key.kid})
    assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in cached["keys"]}


def test_the_rotation_delay_follows_the_setting(make_app):
    app = make_app(LTI_JWKS_MAX_AGE=60)
    client, runner = app.test_client(), app.test_cli_runner()
    client.get("/lti/jwks")
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    with database.connection_context():
        new = ToolKey.select().order_by(ToolKey.id.desc()).get()
        assert new.activates_at - new.created_at == datetime.timedelta(seconds=60)


def test_a_second_rotation_waits_for_the_first(client, runner):
    client.get("/lti/jwks")
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    again = runner.invoke(args=["keys", "rotate"])
    assert again.exit_code != 0 and "already next" in again.output
    assert len(_kids(client)) == 2


def test_rotate_now_signs_with_the_new_key_at_once(client, runner):
    (old_kid,) = _kids(client)
    result = runner.invoke(args=["keys", "rotate", "--now", "--grace-days", "1"])
    assert result.exit_code == 0, result.output
    new_kid = _kids(client)[0]
    assert new_kid != old_kid and _signing_kid() == new_kid
    assert old_kid in _kids(client)  # still verifiable for a day
    assert "retiring" in runner.invoke(args=["keys", "list"]).output


def test_the_first_key_signs_at_once(client, runner):
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0  # no key before
    assert _signing_kid() == _kids(client)[0]


def test_expired_keys_leave_the_jwks(client, runner):
    (old_kid,) = _kids(client)
    runner.invoke(args=["keys", "rotate", "--grace-days", "1"])
    _pass(300 + 86400 + 1)
    kids = _kids(client)
    assert old_kid not in kids and len(kids) == 1
    assert "expired" in runner.invoke(args=["keys", "list"]).output


@pytest.fixture
def served_platform(app):
    """A platform whose registration has only a JWKS URL, served over real HTTP."""
    platform = TestPlatform()
    with PlatformServer(platform) as server:
        platform.register(inline=False, key_set_url=server.url + "/jwks")
        yield platform, server


def _launch(client, platform):
    state, nonce = start_login(client, platform)
    return post_launch(client, state, platform.sign(platform.claims(nonce)))


def test_platform_jwks_is_fetched_once_and_cached(client, served_platform):
    platform, server = served_platform
    assert _launch(client, platform).status_code == 303
    assert _launch(client, platform).status_code == 303
    assert server.hits["/jwks"] == 1
    with database.connection_context():
        assert PlatformKeySet.get().url == server.url + "/jwks"


def test_unknown_kid_refetches_once(make_app, served_platform):
    platform, server = served_platform
    client = make_app(LTI_JWKS_REFETCH_AFTER=0).test_client()
    assert _launch(client, platform).status_code == 303
    platform.rotate()
    assert _launch(client, platform).status_code == 303
    assert server.hits["/jwks"] == 2


def test_refetches_are_throttled(client, served_platform):
    platform, server = served_platform
    assert _launch(client, platform).status_code == 303
    state, nonce = start_login(client, platform)
    token = platform.sign(platform.claims(nonce), kid="made-up-kid")
    assert post_launch(client, state, token).status_code == 400
    assert server.hits["/jwks"] == 1  # fetched a moment ago: no refetch


def test_unreachable_jwks_url_is_a_clear_4xx(client, app):
    platform = TestPlatform()
    platform.register(inline=False, key_set_url="http://127.0.0.1:9/jwks")
    response = _launch(client, platform)
    assert response.status_code == 400
    assert "could not fetch the key set" in response.get_data(as_text=True)
