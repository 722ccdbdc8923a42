"""The token endpoint verifies the tool's client assertion against the tool's
JWKS fetched over HTTP, and bearer tokens guard the services by scope."""

import datetime

import pytest

from lms_plugin.demo.models import AccessToken
from lms_plugin.demo.models import ToolKeySet
from lms_plugin.demo.models import demo_database
from tests.demo.support import NRPS
from tests.demo.support import SCORE
from tests.demo.support import TestKey
from tests.demo.support import bearer
from tests.demo.support import client_assertion
from tests.demo.support import current_registration
from tests.demo.support import token_form


@pytest.fixture
def client_id(demo_client, tool_jwks):
    return current_registration(demo_client).client_id


def post_token(client, form):
    return client.post("/demo/token", data=form)


def test_token_for_a_valid_assertion(demo_client, tool_key, tool_jwks, client_id):
    form = token_form(client_assertion(tool_key, client_id), [SCORE, NRPS])
    response = post_token(demo_client, form)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {SCORE, NRPS}
    assert response.headers["Cache-Control"] == "no-store"
    assert tool_jwks.hits == 1  # fetched over HTTP
    with demo_database.connection_context():
        stored = AccessToken.get()
        assert body["access_token"] not in stored.token_hash  # only its hash is kept
    again = token_form(client_assertion(tool_key, client_id), [SCORE])
    assert post_token(demo_client, again).status_code == 200
    assert tool_jwks.hits == 1  # cached


def test_a_client_assertion_is_single_use(demo_client, tool_key, tool_jwks, client_id):
    form = token_form(client_assertion(tool_key, client_id), [SCORE])
    assert post_token(demo_client, form).status_code == 200
    replay = post_token(demo_client, form)
    assert replay.status_code == 400
    assert replay.json["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides, why",
    [
        ({"aud": "http://localhost/demo/token/"}, "Audience"),
        ({"iss": "someone-else"}, "issuer"),
        ({"sub": "someone-else"}, "sub must equal iss"),
        ({"exp": 1_000_000}, "expired"),
        ({"jti": None}, "jti"),
    ],
)
def test_bad_assertions_are_invalid_client(
    demo_client, tool_key, tool_jwks, client_id, overrides, why
):
    form = token_form(client_assertion(tool_key, client_id, **overrides), [SCORE])
    response = post_token(demo_client, form)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert why in response.json["error_description"]


def test_assertion_signed_by_another_key_is_refused(demo_client, tool_jwks, client_id):
    impostor = TestKey("tool-key-1")  # same kid, different key
    form = token_form(client_assertion(impostor, client_id), [SCORE])
    response = post_token(demo_client, form)
    assert response.status_code == 401
    assert "Signature verification failed" in response.json["error_description"]


def test_unsigned_assertion_is_refused(demo_client, tool_jwks, client_id):
    import jwt

    token = jwt.encode({"iss": client_id}, key=None, algorithm="none")
    response = post_token(demo_client, token_form(token, [SCORE]))
    assert response.status_code == 401
    assert "RS256" in response.json["error_description"]


def test_rotated_tool_key_is_fetched_again(demo_client, tool_key, tool_jwks, client_id):
    assert (
        post_token(
            demo_client, token_form(client_assertion(tool_key, client_id), [SCORE])
        ).status_code
        == 200
    )
    new_key = TestKey("tool-key-2")
    tool_jwks.keys = [new_key, tool_key]
    # Within the refetch interval an unknown kid does not cause a fetch...
    form = token_form(client_assertion(new_key, client_id), [SCORE])
    response = post_token(demo_client, form)
    assert response.status_code == 401 and tool_jwks.hits == 1
    # ...after it, the JWKS is fetched again and the new key is found.
    with demo_database.connection_context():
        ToolKeySet.update(fetched_at=datetime.datetime(2000, 1, 1)).execute()
    form = token_form(client_assertion(new_key, client_id), [SCORE])
    assert post_token(demo_client, form).status_code == 200
    assert tool_jwks.hits == 2


@pytest.mark.parametrize(
    "change, error",
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_assertion_type": "basic"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "https://example.org/scope/everything"}, "invalid_scope"),
    ],
)
def test_malformed_token_requests(
    demo_client, tool_key, tool_jwks, client_id, change, error
):
    form = token_form(client_assertion(tool_key, client_id), [SCORE])
    form.update(change)
    response = post_token(demo_client, form)
    assert response.status_code == 400
    assert response.json["error"] == error


def test_unreachable_tool_jwks_is_a_clear_503(demo_client, tool_key, client_id):
    registration = current_registration(demo_client)
    registration.tool_jwks_url = "http://127.0.0.1:9/lti/jwks"  # discard port
    registration.save()
    form = token_form(client_assertion(tool_key, client_id), [SCORE])
    response = post_token(demo_client, form)
    assert response.status_code == 503
    assert "could not fetch the tool's JWKS" in response.json["error_description"]


def test_bearer_tokens_are_checked(demo_client, tool_key, tool_jwks):
    url = "/demo/api/memberships"
    missing = demo_client.get(url)
    assert missing.status_code == 401
    assert 'error="invalid_token"' in missing.headers["WWW-Authenticate"]
    bogus = demo_client.get(url, headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    score_only = bearer(demo_client, tool_key, [SCORE])
    wrong_scope = demo_client.get(url, headers=score_only)
    assert wrong_scope.status_code == 403
    assert wrong_scope.json["error"] == "insufficient_scope"
    headers = bearer(demo_client, tool_key, [NRPS])
    assert demo_client.get(url, headers=headers).status_code == 200
    with demo_database.connection_context():
        AccessToken.update(expires_at=datetime.datetime(2000, 1, 1)).execute()
    expired = demo_client.get(url, headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json["error_description"]


def test_expired_bookkeeping_is_purged_when_tokens_are_issued(
    demo_client, tool_key, tool_jwks
):
    from lms_plugin.demo.models import LaunchIntent
    from lms_plugin.demo.models import SeenJwtId

    headers = bearer(demo_client, tool_key, [SCORE])
    demo_client.get("/demo/links/demo-link-welcome/start")  # records a launch
    long_ago = datetime.datetime(2000, 1, 1)
    with demo_database.connection_context():
        AccessToken.update(expires_at=long_ago).execute()
        SeenJwtId.update(expires_at=long_ago).execute()
        LaunchIntent.update(expires_at=long_ago).execute()
    bearer(demo_client, tool_key, [NRPS])
    with demo_database.connection_context():
        assert AccessToken.select().count() == 1  # only the new one
        assert SeenJwtId.select().count() == 1
        assert LaunchIntent.select().count() == 0
    assert demo_client.get("/demo/api/memberships", headers=headers).status_code == 401
