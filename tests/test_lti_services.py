"""The service connector behind AGS/NRPS, against a real local HTTP platform:
tokens cached in the database per registration + scopes, ``Link`` URLs kept."""

import jwt
import pytest

from lms_plugin.db import database
from lms_plugin.lti.registration.tool_config import DbRegistration
from lms_plugin.lti.services.connector import ToolServiceConnector
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import ServiceToken
from tests.lti_platform import PlatformServer
from tests.lti_platform import TestPlatform

SCOPE_A = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_B = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


@pytest.fixture
def server(app):
    platform = TestPlatform()
    with PlatformServer(platform) as server:
        platform.auth_token_url = server.url + "/token"
        platform.register()
        server.pages["/memberships"] = ({"members": [1]}, "/memberships?Cursor=AbC")
        server.pages["/memberships?Cursor=AbC"] = ({"members": [2]}, None)
        with app.test_request_context(), database.connection_context():
            yield server


def _connector(client_id="tool-client-1") -> ToolServiceConnector:
    row = LtiRegistration.get(LtiRegistration.client_id == client_id)
    return ToolServiceConnector(DbRegistration(row))


def test_pagination_keeps_the_next_url_exactly(server):
    first = _connector().make_service_request([SCOPE_A], server.url + "/memberships")
    assert first["body"] == {"members": [1]}
    assert first["next_page_url"] == server.url + "/memberships?Cursor=AbC"
    second = _connector().make_service_request([SCOPE_A], first["next_page_url"])
    assert second["body"] == {"members": [2]} and second["next_page_url"] is None


def test_tokens_are_cached_in_the_database_across_connectors(server):
    url = server.url + "/memberships"
    _connector().make_service_request([SCOPE_A, SCOPE_B], url)
    _connector().make_service_request([SCOPE_B, SCOPE_A], url)  # other order
    assert len(server.token_requests) == 1
    assert server.bearers == ["Bearer token-1", "Bearer token-1"]
    (row,) = ServiceToken.select()
    assert row.scopes == " ".join(sorted([SCOPE_A, SCOPE_B]))


def test_tokens_are_kept_per_registration(server):
    row = LtiRegistration.get()
    LtiRegistration.create(
        issuer=row.issuer,
        client_id="tool-client-2",
        auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url,
        key_set=row.key_set,
    )
    url = server.url + "/memberships"
    _connector().make_service_request([SCOPE_A], url)
    _connector("tool-client-2").make_service_request([SCOPE_A], url)
    assert server.bearers == ["Bearer token-1", "Bearer token-2"]
    assert [r["scope"] for r in server.token_requests] == [SCOPE_A, SCOPE_A]


def test_refused_cached_token_is_replaced_once(server):
    url = server.url + "/memberships"
    _connector().make_service_request([SCOPE_A], url)
    server.refused_tokens.add("token-1")
    answer = _connector().make_service_request([SCOPE_A], url)
    assert answer["body"] == {"members": [1]}
    assert server.bearers[-2:] == ["Bearer token-1", "Bearer token-2"]
    assert ServiceToken.get().access_token == "token-2"


def test_client_assertion_verifies_with_the_published_tool_key(app, server):
    _connector().get_access_token([SCOPE_A])
    (form,) = server.token_requests
    assertion = form["client_assertion"]
    jwks = app.test_client().get("/lti/jwks").json
    kid = jwt.get_unverified_header(assertion)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(
        assertion,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=server.url + "/token",
    )
    assert claims["iss"] == claims["sub"] == "tool-client-1"
    assert form["grant_type"] == "client_credentials"
