"""Grade passback: the outbox, and delivery to a real-HTTP AGS platform that fails.

Every test runs on SQLite and PostgreSQL. The platform (tests/ags_platform.py)
checks the tool's signed client assertion against the tool's JWKS and counts
every score POST, so "none twice, none lost" is counted, not assumed.
"""

import datetime
import json
import socket

import pytest

from lms_plugin.db import database
from lms_plugin.lti.registration import keys
from lms_plugin.lti.services.ags import CANVAS_SUBMISSION
from lms_plugin.lti.services.ags import SCOPE_SCORE
from lms_plugin.lti.services.ags import parse_retry_after
from lms_plugin.lti.services.ags import scores_url
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import ServiceToken
from lms_plugin.models.lti import ToolKey
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENT
from lms_plugin.models.passback import SUPERSEDED
from lms_plugin.models.passback import ScorePost
from lms_plugin.passback import InvalidScore
from lms_plugin.passback import outbox
from lms_plugin.passback.sender import Sender
from tests.ags_platform import AgsPlatform
from tests.passback_fixtures import CLIENT_ID
from tests.passback_fixtures import FAST
from tests.passback_fixtures import MODULE
from tests.passback_fixtures import add_member
from tests.passback_fixtures import drain
from tests.passback_fixtures import make_course
from tests.passback_fixtures import rows
from tests.passback_fixtures import score


@pytest.fixture
def app(make_app):
    return make_app(**FAST)


def _tool_jwks(app) -> dict:
    with app.app_context(), database.connection_context():
        return keys.public_jwks()


@pytest.fixture
def ags(app):
    with AgsPlatform(_tool_jwks(app), CLIENT_ID) as platform:
        yield platform


@pytest.fixture
def course(ags):
    return make_course(ags)


def _accepted_once(ags, expected: int) -> None:
    assert sum(ags.accepted.values()) == expected
    assert set(ags.accepted.values()) == {1}, "a score was accepted twice"


# --- enqueue -------------------------------------------------------------------


def test_enqueue_writes_a_row_and_sends_nothing(ags, course):
    ada = add_member(course, "ada")
    at = datetime.datetime(2026, 5, 1, 12, 0, 0, 123456)
    row = score(course, ada, 85.0, at=at, comment="Attempt 1: passed")
    assert ags.score_requests == 0 and ags.token_requests == 0
    (stored,) = rows()
    assert stored.id == row.id and stored.status == PENDING
    assert stored.user_sub == "ada" and stored.module_slug == MODULE
    assert stored.lineitem_url == course.link.lineitem_url
    assert stored.timestamp == datetime.datetime(2026, 5, 1, 12, 0, 0, 123000)
    assert stored.submission is None


def test_only_learners_are_graded(ags, course):
    teacher = add_member(course, "teacher", learner=False, instructor=True)
    assert score(course, teacher) is None
    assert rows() == []


def test_no_ags_endpoint_enqueues_nothing(ags):
    course = make_course(ags, lineitem=False, container=False)
    assert score(course, add_member(course, "ada")) is None
    assert rows() == []


def test_timestamps_are_monotonic_per_user_and_line_item(ags, course):
    ada, bo = add_member(course, "ada"), add_member(course, "bo")
    at = datetime.datetime(2026, 5, 1, 12, 0, 0, 500000)
    first = score(course, ada, at=at)
    earlier = score(course, ada, at=at - datetime.timedelta(minutes=5))
    same = score(course, ada, at=at)
    other_user = score(course, bo, at=at - datetime.timedelta(minutes=5))
    ms = datetime.timedelta(milliseconds=1)
    assert earlier.timestamp == first.timestamp + ms
    assert same.timestamp == first.timestamp + 2 * ms
    assert other_user.timestamp == at - datetime.timedelta(minutes=5)


@pytest.mark.parametrize(
    "change",
    [
        {"activity_progress": "Done"},
        {"grading_progress": "Graded"},
        {"score_maximum": 0},
        {"score_given": -1.0},
    ],
)
def test_invalid_scores_are_refused(ags, course, change):
    with pytest.raises(InvalidScore):
        score(course, add_member(course, "ada"), **change)


# --- delivery -------------------------------------------------------------------


def test_score_is_delivered_with_the_ags_fields(app, ags, course):
    ada = add_member(course, "ada")
    row = score(course, ada, 85.0, comment="Attempt 1: passed")
    drain(app)
    (sent,) = ags.scores
    assert sent == {
        "userId": "ada",
        "scoreGiven": 85.0,
        "scoreMaximum": 100.0,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": row.timestamp.isoformat(timespec="milliseconds") + "Z",
        "comment": "Attempt 1: passed",
    }
    (stored,) = rows()
    assert stored.status == SENT and stored.sent_at and stored.attempts == 1
    assert stored.locked_by is None
    assert ags.token_refusals == [] and ags.token_requests == 1
    assert any(ua.startswith("lms_plugin") for ua in ags.user_agents)


def test_token_is_cached_in_the_database_per_registration_and_scopes(app, ags, course):
    for sub in ("ada", "bo", "cy"):
        score(course, add_member(course, sub))
    drain(app)
    score(course, add_member(course, "di"))
    drain(app)  # a second sender, a new connector: the cached token is reused
    assert ags.token_requests == 1
    with database.connection_context():
        (token,) = ServiceToken.select()
    assert token.scopes == " ".join(sorted(json.loads(course.context.ags_scopes)))


def test_transient_failures_recover_with_every_score_sent_once(app, ags, course):
    learners = [add_member(course, f"learner-{n}") for n in range(6)]
    for learner in learners:
        score(course, learner)
    ags.fail("token", 503)
    ags.fail("score", 500, 502, (429, "0"), "timeout", 503, 500)
    ags.timeout_sleep = 1.0  # over PASSBACK_HTTP_TIMEOUT
    drain(app)
    assert [r.status for r in rows()] == [SENT] * 6
    _accepted_once(ags, 6)
    assert sum(r.attempts for r in rows()) > 6  # the failures cost attempts


def test_429_retry_after_is_honoured(app, ags, course):
    score(course, add_member(course, "ada"))
    ags.fail("score", (429, "120"))
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    Sender(app).run_once()
    (row,) = rows()
    assert row.status == PENDING and "HTTP 429" in row.last_error
    wait = (row.next_attempt_at - before).total_seconds()
    assert 119 <= wait <= 125
    assert Sender(app).run_once() == 0  # not due before Retry-After


def test_retry_after_as_seconds_or_http_date():
    now = datetime.datetime(2026, 11, 24, 20, 0, 0)
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("Tue, 24 Nov 2026 20:01:30 GMT", now) == 90
    assert parse_retry_after("Tue, 24 Nov 2026 19:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None


@pytest.mark.parametrize(
    ("value", "wait"),
    [
        ("²", None),
        ("٣", None),
        ("9" * 5000, 86_400),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 86_400),
        ("-5", None),
        ("\x00", None),
    ],
)
def test_a_hostile_retry_after_never_breaks_the_sender(value, wait):
    now = datetime.datetime(2026, 11, 24, 20, 0, 0)
    assert parse_retry_after(value, now) == wait


def test_backoff_grows_exponentially_with_jitter():
    import random

    rng = random.Random(1)
    delays = [outbox.backoff_delay(n, 10, 300, rng) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(300, 10 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_refused_connection_then_platform_comes_up(app, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ags = AgsPlatform(_tool_jwks(app), CLIENT_ID, port=port)
    course = make_course(ags)
    score(course, add_member(course, "ada"))
    Sender(app).run_once()
    (row,) = rows()
    assert row.status == PENDING and "could not connect" in row.last_error
    with ags:
        drain(app)
        _accepted_once(ags, 1)
    assert rows()[0].status == SENT


def test_a_refused_token_request_is_retried_with_its_reason(app, ags, course):
    score(course, add_member(course, "ada"))
    ags.fail("token", 400)
    Sender(app).run_once()
    (row,) = rows()
    assert row.status == PENDING
    assert row.last_error.startswith("access token request: HTTP 400")
    drain(app)
    assert rows()[0].status == SENT
    _accepted_once(ags, 1)


def test_expired_token_is_dropped_and_renewed_once(app, ags, course):
    score(course, add_member(course, "ada"))
    drain(app)
    ags.expire_tokens()  # the platform revokes the cached token early
    score(course, add_member(course, "bo"))
    drain(app)
    assert [r.status for r in rows()] == [SENT, SENT]
    assert ags.token_requests == 2
    _accepted_once(ags, 2)


def test_gives_up_after_the_limit_with_the_platforms_reason(make_app):
    app = make_app(**{**FAST, "PASSBACK_MAX_ATTEMPTS": 3})
    with AgsPlatform(_tool_jwks(app), CLIENT_ID) as ags:
        course = make_course(ags)
        score(course, add_member(course, "ada"))
        ags.fail("score", 500, 500, 500, 500)
        drain(app)
        (row,) = rows()
        assert row.status == FAILED and row.attempts == 3
        assert "gave up after 3 attempts" in row.last_error
        assert "fault 500" in row.last_error  # the platform's own message
        assert ags.scores == []


def test_a_permanent_refusal_fails_at_once(app, ags, course):
    score(course, add_member(course, "ada"))
    ags.fail("score", 422)
    drain(app)
    (row,) = rows()
    assert row.status == FAILED and row.attempts == 1
    assert "HTTP 422" in row.last_error and "fault 422" in row.last_error


def test_an_older_score_is_never_posted_over_a_newer_one(app, ags, course):
    ada = add_member(course, "ada")
    old = score(course, ada, 60.0)
    new = score(course, ada, 90.0)
    drain(app)
    assert [s["scoreGiven"] for s in ags.scores] == [90.0]
    statuses = {r.id: r.status for r in rows()}
    assert statuses == {old.id: SUPERSEDED, new.id: SENT}
    with database.connection_context():
        assert outbox.requeue([old.id]) == 1  # an operator insists
    drain(app)
    assert [s["scoreGiven"] for s in ags.scores] == [90.0]
    assert rows()[0].status == SUPERSEDED


def test_line_item_is_created_when_missing_and_reused(app, ags):
    course = make_course(ags, lineitem=False)
    score(course, add_member(course, "ada"))
    drain(app)
    assert ags.lineitem_creates == 1
    (item,) = ags.lineitems.values()
    assert item["resourceId"] == MODULE and item["resourceLinkId"] == "link-1"
    assert item["scoreMaximum"] == 100.0 and item["label"] == "Module 1"
    with database.connection_context():
        link = LtiResourceLink.get_by_id(course.link.id)
    assert link.lineitem_url == item["id"]
    score(course, add_member(course, "bo"))
    drain(app)
    assert ags.lineitem_creates == 1
    assert {s["userId"] for s in ags.scores} == {"ada", "bo"}
    assert all(r.lineitem_url == item["id"] for r in rows())


def test_existing_line_item_is_found_by_resource_id(app, ags):
    course = make_course(ags, lineitem=False)
    url = ags.add_lineitem(resourceId=MODULE, resourceLinkId="link-1")
    ags.add_lineitem(resourceId="another-module")
    score(course, add_member(course, "ada"))
    drain(app)
    assert ags.lineitem_creates == 0
    assert rows()[0].lineitem_url == url and rows()[0].status == SENT


def test_grade_sync_only_without_a_line_item_fails_with_a_clear_reason(app, ags):
    course = make_course(ags, scopes=[SCOPE_SCORE], lineitem=False)
    score(course, add_member(course, "ada"))
    drain(app)
    (row,) = rows()
    assert row.status == FAILED and "grade sync only" in row.last_error
    assert ags.lineitem_creates == 0 and ags.scores == []


def test_grade_sync_only_with_the_launch_line_item_is_delivered(app, ags):
    course = make_course(ags, scopes=[SCOPE_SCORE])
    score(course, add_member(course, "ada"))
    drain(app)
    assert rows()[0].status == SENT
    _accepted_once(ags, 1)


def test_canvas_gets_the_submission_extension(app, ags):
    course = make_course(ags, family="canvas")
    row = score(course, add_member(course, "ada"))
    times = {
        "startedAt": "2026-05-01T11:50:00.000Z",
        "submittedAt": "2026-05-01T12:00:00.250Z",
    }
    score(course, add_member(course, "bo"), submission=times)
    drain(app)
    first, second = ags.scores
    assert first[CANVAS_SUBMISSION] == {
        "new_submission": True,
        "submitted_at": row.timestamp.isoformat(timespec="milliseconds") + "Z",
    }
    assert "submission" not in first
    assert second["submission"] == times  # the AGS submission object
    assert second[CANVAS_SUBMISSION] == {
        "new_submission": True,
        "submitted_at": "2026-05-01T12:00:00.250Z",
    }


def test_other_platforms_get_no_canvas_extension(app, ags, course):
    times = {
        "startedAt": "2026-05-01T11:50:00.000Z",
        "submittedAt": "2026-05-01T12:00:00.250Z",
    }
    score(course, add_member(course, "ada"), submission=times)
    drain(app)
    (sent,) = ags.scores
    assert sent["submission"] == times and CANVAS_SUBMISSION not in sent


def test_scores_url_keeps_the_query_string():
    url = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem"
    assert scores_url(url + "?type_id=3") == url + "/scores?type_id=3"
    assert scores_url("https://c.example/li/1/") == "https://c.example/li/1/scores"


# --- claims and leases -----------------------------------------------------------


def test_claims_never_overlap_and_expired_leases_are_reclaimed(app, ags, course):
    for n in range(5):
        score(course, add_member(course, f"l{n}"))
    with app.app_context(), database.connection_context():
        first_token, first = outbox.claim_batch(3, lease_seconds=60)
        second_token, second = outbox.claim_batch(3, lease_seconds=60)
        assert len(first) == 3 and len(second) == 2
        assert not {r.id for r in first} & {r.id for r in second}
        assert outbox.claim_batch(3, lease_seconds=60)[1] == []
        # A sender that died: its lease ends, the rows are due again.
        ScorePost.update(locked_until=datetime.datetime(2000, 1, 1)).where(
            ScorePost.locked_by == first_token
        ).execute()
        _, again = outbox.claim_batch(10, lease_seconds=60)
        assert {r.id for r in again} == {r.id for r in first}
        # The dead sender cannot record an outcome any more.
        assert outbox.mark_sent(first[0]) is False


# --- operators -------------------------------------------------------------------


def test_scores_status_and_retry_commands(app, ags, course):
    runner = app.test_cli_runner()
    score(course, add_member(course, "ada"))
    score(course, add_member(course, "bo"))
    ags.fail("score", 422)
    drain(app)
    result = runner.invoke(args=["scores", "status"])
    assert result.exit_code == 0, result.output
    assert "sent        1" in result.output and "failed      1" in result.output
    assert "fault 422" in result.output
    assert runner.invoke(args=["scores", "retry"]).exit_code == 2
    result = runner.invoke(args=["scores", "retry", "--failed"])
    assert "requeued 1 score(s)" in result.output
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 1" in result.output
    assert [r.status for r in rows()] == [SENT, SENT]
    _accepted_once(ags, 2)


def test_the_server_thread_delivers_and_starts_once(make_app):
    app = make_app(**FAST, PASSBACK_THREAD=True)
    with AgsPlatform(_tool_jwks(app), CLIENT_ID) as ags:
        course = make_course(ags)
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        thread = app.extensions["lms_plugin.passback"]["thread"]
        client.get("/healthz")
        assert app.extensions["lms_plugin.passback"]["thread"] is thread
        try:
            score(course, add_member(course, "ada"))
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=10)
            while not ags.scores and datetime.datetime.now() < deadline:
                thread.join(0.05)
            _accepted_once(ags, 1)
        finally:
            from lms_plugin.passback.sender import stop_thread

            stop_thread(app)
        assert not thread.is_alive()


def test_a_real_launchs_ags_claim_takes_a_score_to_its_line_item(
    app, ags, client, platform
):
    from lms_plugin.models.lti import LtiContext
    from lms_plugin.models.lti import LtiRegistration
    from lms_plugin.models.lti import User
    from lms_plugin.passback import enqueue_score
    from tests.ags_platform import ALL_SCOPES
    from tests.lti_platform import INSTRUCTOR
    from tests.lti_platform import launch

    with database.connection_context():
        LtiRegistration.update(auth_token_url=ags.token_url).execute()
    lineitem = ags.add_lineitem(resourceId=MODULE)
    claim = {
        "scope": ALL_SCOPES,
        "lineitems": ags.container_url(),
        "lineitem": lineitem,
    }
    assert launch(client, platform, ags=claim).status_code == 303
    launch(client, platform, ags=claim, sub="teacher-1", roles=[INSTRUCTOR])

    def enqueue(sub):
        with database.connection_context(), database.atomic():
            return enqueue_score(
                user=User.get(User.sub == sub),
                context=LtiContext.get(),
                resource_link=LtiResourceLink.get(),
                module_slug=MODULE,
                score_given=7.0,
                score_maximum=10.0,
                activity_progress="Submitted",
                grading_progress="FullyGraded",
                timestamp=datetime.datetime.now(datetime.UTC),
            )

    assert enqueue("teacher-1") is None  # instructors are not graded
    row = enqueue("platform-user-1")
    assert row.lineitem_url == lineitem
    drain(app)
    (sent,) = ags.scores
    assert sent["userId"] == "platform-user-1" and sent["scoreGiven"] == 7.0
    assert ags.token_refusals == []


def test_a_created_line_item_is_named_after_the_module(app, ags):
    from lms_plugin.clock import utcnow
    from lms_plugin.models.content import Course
    from lms_plugin.models.content import Module
    from lms_plugin.models.content import ModuleVersion

    with database.connection_context():
        course_row = Course.create(
            slug="c", title="C", audiences=[], published_at=utcnow()
        )
        module = Module.create(
            course=course_row, slug=MODULE, position=1, content_hash="h"
        )
        ModuleVersion.create(
            module=module,
            number=1,
            content_hash="h",
            title="Building a foundation of clinical knowledge",
            est_minutes=60,
        )
    course = make_course(ags, lineitem=False)
    score(course, add_member(course, "ada"))
    drain(app)
    (item,) = ags.lineitems.values()
    assert item["label"] == "Building a foundation of clinical knowledge"


def test_a_token_request_is_signed_with_a_key_already_published(app, ags, monkeypatch):
    """The platform checks the client assertion against the tool's JWKS as other
    connections read it: the first key of a fresh install, made while the sender
    resolves the line item, must be committed before the platform is asked."""
    course = make_course(ags, lineitem=False)  # the sender finds or creates it
    score(course, add_member(course, "learner-1"))
    with database.connection_context():
        ToolKey.delete().execute()  # a fresh install: no key until one signs
    check = ags.check_assertion

    def against_published_jwks(form):
        with app.app_context(), database.connection_context():  # its own connection
            published = [json.loads(k.public_jwk) for k in keys.published_keys()]
        ags.tool_jwks = {"keys": published}
        return check(form)

    monkeypatch.setattr(ags, "check_assertion", against_published_jwks)
    drain(app)
    [row] = rows()
    assert (row.status, row.attempts) == (SENT, 1), row.last_error
    assert ags.token_refusals == []
