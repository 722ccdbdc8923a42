"""Names and Roles against a real HTTP platform on 127.0.0.1: an OAuth2 token
endpoint that verifies the tool's client assertion with the tool's JWKS, and a
membership container paged over three pages with a mixed-case next URL."""

import json
import threading
import time

import jwt
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.lti.services.nrps import SCOPE
from lms_plugin.lti.services.nrps import RosterError
from lms_plugin.lti.services.nrps import sync_roster
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import User
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import TEACHING_ASSISTANT
from tests.lti_platform import TestPlatform
from tests.lti_platform import launch

CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
FIRST = "/api/lti/courses/7/names_and_roles"
#: Mixed-case cursors: a client that lower-cases the URL gets a 404.
SECOND = "/api/lti/courses/7/names_and_roles?Page=2&Cursor=AbCdEf"
THIRD = "/api/lti/Courses/7/NamesAndRoles/PageThree?cursor=XyZ"


def member(sub, roles, **fields):
    return {"user_id": sub, "roles": roles, "status": "Active", **fields}


ROSTER = {
    FIRST: [
        member("platform-user-1", [INSTRUCTOR], name="Ada Instructor"),  # no email
        member("s-2", [LEARNER], name="Ben Learner", email="ben@example.edu"),
    ],
    SECOND: [
        member("ta-3", [TEACHING_ASSISTANT], given_name="Cy", family_name="Ta"),
        member("s-4", ["Learner"], name="Dee Inactive", status="Inactive"),
    ],
    THIRD: [member("s-5", [LEARNER])],  # no PII at all
}


class NrpsPlatform:
    """The platform's service side as a WSGI app served in a thread."""

    def __init__(self, tool_jwks: dict, client_id: str):
        self.tool_jwks = tool_jwks
        self.client_id = client_id
        self.roster = {path: list(members) for path, members in ROSTER.items()}
        self.order = [FIRST, SECOND, THIRD]
        self.tokens: dict[str, str] = {}  # token -> granted scope
        self.token_requests: list[dict] = []
        self.page_requests: list[dict] = []
        self.fail_on: str | None = None
        self.assertion_ids: set[str] = set()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def app(self, environ, start_response):
        request = Request(environ)
        if request.path == "/token" and request.method == "POST":
            response = self.token(request)
        else:
            response = self.page(request)
        return response(environ, start_response)

    def token(self, request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        problem = self.check_assertion(form)
        if problem:
            return Response(
                json.dumps({"error": "invalid_client", "why": problem}), 401
            )
        token = f"token-{len(self.token_requests)}"
        self.tokens[token] = form["scope"]
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        return Response(json.dumps(body), mimetype="application/json")

    def check_assertion(self, form: dict) -> str | None:
        """RFC 7523 client authentication, checked as a platform must."""
        if form.get("grant_type") != "client_credentials":
            return "grant_type"
        assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        if form.get("client_assertion_type") != assertion_type:
            return "client_assertion_type"
        token = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            key = jwt.PyJWKSet.from_dict(self.tool_jwks)[kid].key
            body = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.url + "/token",
                issuer=self.client_id,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except (jwt.InvalidTokenError, KeyError) as error:
            return f"assertion: {error}"
        if body["sub"] != self.client_id or body["jti"] in self.assertion_ids:
            return "sub or replayed jti"
        self.assertion_ids.add(body["jti"])
        return None

    def page(self, request) -> Response:
        path = request.full_path.rstrip("?")
        self.page_requests.append(
            {"path": path, "accept": request.headers.get("Accept")}
        )
        granted = self.tokens.get(request.headers.get("Authorization", "")[7:], "")
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return Response("no bearer token", 401)
        if SCOPE not in granted.split():
            return Response("token lacks the NRPS scope", 401)
        if request.headers.get("Accept") != CONTAINER:
            return Response("wrong Accept", 406)
        if path == self.fail_on:
            return Response("platform down", 500)
        if path not in self.roster:
            return Response("no such page", 404)
        return self.container(path)

    def container(self, path: str) -> Response:
        body = {"id": self.url + FIRST, "context": {"id": "course-1"}}
        body["members"] = self.roster[path]
        response = Response(json.dumps(body), content_type=CONTAINER)
        index = self.order.index(path)
        if index + 1 < len(self.order):
            next_url = self.url + self.order[index + 1]
            response.headers["Link"] = (
                f'<{self.url}{FIRST}>; rel="first", <{next_url}>; rel="next"'
            )
        return response


@pytest.fixture
def nrps(app, client):
    """A registered platform whose token and roster endpoints are real HTTP."""
    jwks = client.get("/lti/jwks").get_json()
    with NrpsPlatform(jwks, "tool-client-1") as server:
        platform = TestPlatform()
        platform.auth_token_url = server.url + "/token"
        platform.register()
        server.platform = platform
        yield server


def instructor_launch(client, server):
    claim = {"context_memberships_url": server.url + FIRST, "service_versions": ["2.0"]}
    response = launch(
        client, server.platform, roles=[INSTRUCTOR], **{c.CLAIM_NRPS: claim}
    )
    assert response.status_code == 303
    with database.connection_context():
        return LtiContext.get()


def sync(app, context):
    with app.app_context(), database.connection_context():
        return sync_roster(LtiContext.get_by_id(context.id))


def memberships() -> dict:
    with database.connection_context():
        query = LtiMembership.select(LtiMembership, User).join(User)
        return {m.user.sub: m for m in query}


def test_full_roster_over_three_pages_with_mixed_case_cursors(app, client, nrps):
    context = instructor_launch(client, nrps)
    assert context.memberships_url == nrps.url + FIRST

    result = sync(app, context)

    assert (result.members, result.pages, result.added, result.updated) == (5, 3, 4, 1)
    assert [r["path"] for r in nrps.page_requests] == [FIRST, SECOND, THIRD]
    assert {r["accept"] for r in nrps.page_requests} == {CONTAINER}
    assert len(nrps.token_requests) == 1
    assert nrps.token_requests[0]["scope"] == SCOPE
    rows = memberships()
    assert set(rows) == {"platform-user-1", "s-2", "ta-3", "s-4", "s-5"}
    assert rows["platform-user-1"].is_instructor
    assert rows["ta-3"].is_teaching_assistant and not rows["ta-3"].is_learner
    assert rows["s-4"].is_learner and rows["s-4"].status == "Inactive"
    assert rows["s-5"].is_learner and rows["s-5"].status == "Active"
    assert json.loads(rows["s-2"].roles) == [LEARNER]
    with database.connection_context():
        users = {u.sub: u for u in User.select()}
        assert LtiContext.get().roster_synced_at is not None
    assert users["s-2"].email == "ben@example.edu"
    assert (users["ta-3"].given_name, users["ta-3"].family_name) == ("Cy", "Ta")
    # The roster's name replaces the launch's; the launch's email is kept.
    assert users["platform-user-1"].name == "Ada Instructor"
    assert users["platform-user-1"].email == "ada@example.edu"


def test_members_no_longer_listed_are_marked_absent_not_deleted(app, client, nrps):
    context = instructor_launch(client, nrps)
    sync(app, context)
    nrps.roster[SECOND] = [m for m in nrps.roster[SECOND] if m["user_id"] != "ta-3"]

    result = sync(app, context)

    assert (result.members, result.added, result.updated, result.absent) == (4, 0, 4, 1)
    rows = memberships()
    assert rows["ta-3"].status == "Absent" and rows["ta-3"].is_teaching_assistant
    assert len(rows) == 5
    assert len(nrps.token_requests) == 1  # the cached token served both syncs

    nrps.roster[THIRD].append(member("ta-3", [TEACHING_ASSISTANT]))
    assert sync(app, context).absent == 0
    assert memberships()["ta-3"].status == "Active"


def test_a_member_who_launches_again_is_active(app, client, nrps):
    context = instructor_launch(client, nrps)
    nrps.roster[FIRST] = nrps.roster[FIRST][1:]  # the instructor left the roster
    sync(app, context)
    assert memberships()["platform-user-1"].status == "Absent"
    instructor_launch(client, nrps)
    assert memberships()["platform-user-1"].status == "Active"


def test_a_failed_page_changes_nothing(app, client, nrps):
    context = instructor_launch(client, nrps)
    nrps.fail_on = THIRD
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert "Nothing was changed" in raised.value.message
    assert "500" in raised.value.detail
    assert list(memberships()) == ["platform-user-1"]
    with database.connection_context():
        assert LtiContext.get().roster_synced_at is None


def test_a_refused_token_is_a_clear_error(app, client, nrps):
    context = instructor_launch(client, nrps)
    nrps.client_id = "someone-else"  # the platform no longer knows our client_id
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert "401" in raised.value.detail
    assert list(memberships()) == ["platform-user-1"]


def test_a_paging_loop_is_cut_off(app, client, nrps):
    context = instructor_launch(client, nrps)
    original = nrps.container

    def looping(path):
        response = original(path)
        if path == SECOND:  # page 2 points back at page 1
            response.headers["Link"] = f'<{nrps.url}{FIRST}>; rel="next"'
        return response

    nrps.container = looping
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert "loop" in raised.value.detail


def test_context_without_nrps_is_refused(app, client, nrps):
    assert launch(client, nrps.platform, roles=[INSTRUCTOR]).status_code == 303
    with database.connection_context():
        context = LtiContext.get()
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert raised.value.status_code == 409


def test_roster_sync_command(app, client, nrps):
    context = instructor_launch(client, nrps)
    result = app.test_cli_runner().invoke(
        args=["roster", "sync", "--context", str(context.id)]
    )
    assert result.exit_code == 0, result.output
    assert "5 members on 3 page(s): 4 new, 1 updated, 0 no longer listed" in (
        result.output
    )
    missing = app.test_cli_runner().invoke(args=["roster", "sync", "--context", "999"])
    assert missing.exit_code != 0 and "no course context" in missing.output


def test_token_assertion_is_fresh(app, client, nrps):
    sync(app, instructor_launch(client, nrps))
    assertion = nrps.token_requests[0]["client_assertion"]
    body = jwt.decode(assertion, options={"verify_signature": False})
    assert body["exp"] - time.time() <= 120


def test_the_stock_pylti1p3_paging_would_lose_the_mixed_case_pages(
    app, client, nrps, monkeypatch
):
    """The mixed-case cursors above really catch pylti1p3's lower-casing bug."""
    from lms_plugin.lti.services.connector import ToolServiceConnector

    stock = ToolServiceConnector.__bases__[0].make_service_request
    monkeypatch.setattr(ToolServiceConnector, "make_service_request", stock)
    context = instructor_launch(client, nrps)
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert "404" in raised.value.detail
    assert nrps.page_requests[-1]["path"] == SECOND.lower()


@pytest.mark.parametrize("members", ["not a list", None, 42])
def test_a_malformed_container_is_a_clear_error(app, client, nrps, members):
    context = instructor_launch(client, nrps)
    nrps.roster[SECOND] = members
    with pytest.raises(RosterError) as raised:
        sync(app, context)
    assert "Nothing was changed" in raised.value.message
    assert list(memberships()) == ["platform-user-1"]
