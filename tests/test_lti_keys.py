"""Tool keys (generated into the DB, published, rotated with grace) and platform
keys (fetched over real HTTP, cached in the DB, refetched once on an unknown kid)."""

import datetime

import pytest

from lms_plugin.db import database
from lms_plugin.lti import keys
from lms_plugin.models.lti import PlatformKeySet
from lms_plugin.models.lti import ToolKey
from lms_plugin.models.lti import utcnow
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


def test_rotation_keeps_the_old_key_published_during_grace(app, client, runner):
    old_kid = client.get("/lti/jwks").json["keys"][0]["kid"]
    result = runner.invoke(args=["keys", "rotate", "--grace-days", "2"])
    assert result.exit_code == 0, result.output
    kids = [k["kid"] for k in client.get("/lti/jwks").json["keys"]]
    assert len(kids) == 2 and kids[1] == old_kid
    with database.connection_context():
        assert keys.signing_key().kid == kids[0]
        old = ToolKey.get(ToolKey.kid == old_kid)
        grace = old.expires_at - old.retired_at
        assert grace == datetime.timedelta(days=2)
    listing = runner.invoke(args=["keys", "list"]).output
    assert f"{kids[0]}" in listing and "signing" in listing and "grace until" in listing


def test_expired_keys_leave_the_jwks(client, runner):
    old_kid = client.get("/lti/jwks").json["keys"][0]["kid"]
    runner.invoke(args=["keys", "rotate", "--grace-days", "1"])
    with database.connection_context():
        ToolKey.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).where(
            ToolKey.kid == old_kid
        ).execute()
    kids = [k["kid"] for k in client.get("/lti/jwks").json["keys"]]
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
