"""Completion rules, attempt bookkeeping, the score to post, and its hand-off."""

import datetime
import json
import random
from pathlib import Path

import pytest
from peewee import IntegrityError
from playhouse.test_utils import count_queries

from lms_plugin import passback
from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.models import sections as section_states
from lms_plugin.models.lti import User
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import PageVisit
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.progress import attempts
from lms_plugin.progress import completion
from tests.factories import make_module
from tests.factories import make_page
from tests.factories import make_quiz_module
from tests.factories import right_answers
from tests.learner_helpers import SLUG
from tests.learner_helpers import launch_into
from tests.learner_helpers import read_all
from tests.learner_helpers import start
from tests.learner_helpers import submit
from tests.lti_platform import landing_of

RULE = {"require_all_pages": True, "require_quiz_pass": True}

#: A launch's AGS claim: the score scope and the link's line item.
AGS_CLAIM = {
    "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
    "lineitem": "https://platform.example.edu/api/lti/courses/1/line_items/7",
}


def state(rule=RULE, **facts):
    defaults = dict(
        pages_total=3, pages_done=3, has_quiz=True, passed=True,
        attempts_exhausted=False, started=True,
    )  # fmt: skip
    return completion.module_state(rule, **{**defaults, **facts})


@pytest.mark.parametrize(
    "rule, facts, expected",
    [
        (RULE, {}, "completed"),
        (RULE, {"pages_done": 2}, "in_progress"),
        (RULE, {"passed": False}, "in_progress"),
        (RULE, {"passed": False, "attempts_exhausted": True}, "completed_not_passed"),
        (RULE, {"pages_done": 2, "attempts_exhausted": True}, "in_progress"),
        (RULE, {"pages_done": 0, "passed": False, "started": False}, "not_started"),
        (RULE, {"has_quiz": False, "passed": False}, "completed"),
        ({"require_all_pages": False}, {"pages_done": 0}, "completed"),
        ({"require_quiz_pass": False}, {"passed": False}, "completed"),
        ({}, {"pages_done": 1}, "in_progress"),  # defaults: both required
    ],
)
def test_module_state(rule, facts, expected):
    assert state(rule, **facts) == expected


SETTINGS = {"score_to_keep": "highest", "max_attempts": 3,
            "line_item": {"score_maximum": 10}}  # fmt: skip


def test_score_to_post_keeps_the_highest_scaled_to_the_line_item():
    post = completion.score_to_post([40.0, 90.0, 70.0], SETTINGS, passed=True)
    assert (post.score_given, post.score_maximum) == (9.0, 10.0)
    assert (post.activity_progress, post.grading_progress) == (
        "Completed",
        "FullyGraded",
    )
    assert "Attempt 3" in post.comment


def test_score_to_post_latest_policy_and_progress_states():
    latest = {**SETTINGS, "score_to_keep": "latest"}
    post = completion.score_to_post([90.0, 50.0], latest, passed=False)
    assert post.score_given == 5.0 and post.activity_progress == "Submitted"
    exhausted = completion.score_to_post([10.0, 20.0, 30.0], latest, passed=False)
    assert exhausted.activity_progress == "Completed"  # no attempts left
    unlimited = {**SETTINGS, "max_attempts": 0}
    many = completion.score_to_post([10.0] * 9, unlimited, passed=False)
    assert many.activity_progress == "Submitted"
    assert completion.score_to_post([], SETTINGS, passed=False) is None


def test_score_maximum_defaults_to_100_and_completion_gives_full_credit():
    post = completion.score_to_post([75.0], {"max_attempts": 3}, passed=False)
    assert (post.score_given, post.score_maximum) == (75.0, 100.0)
    full = completion.completion_score(None)
    assert (full.score_given, full.activity_progress) == (100.0, "Completed")


def test_attempts_left():
    assert completion.attempts_left(3, 1) == 2
    assert completion.attempts_left(3, 5) == 0
    assert completion.attempts_left(0, 50) is None


@pytest.fixture
def user(app, platform):
    from lms_plugin.models.lti import LtiRegistration

    with database.connection_context():
        return User.create(registration=LtiRegistration.get(), sub="u-1")


def test_no_context_progress_has_one_row_per_module(app, user):
    with database.connection_context():
        module = make_quiz_module()
        first = completion.open_progress(user, None, module)
        again = completion.open_progress(user, None, module)
        assert first.id == again.id and first.scope == 0
        with pytest.raises(IntegrityError):  # unique even without a context
            ModuleProgress.create(user=user, context=None, scope=0, module=module)


def test_sections_carry_this_learners_state_of_each_current_page(app, user):
    from lms_plugin.models.lti import LtiRegistration

    with database.connection_context():
        module = make_quiz_module(pages=0)
        first, second, third = (make_page(module, position=n) for n in (1, 2, 3))
        retired = make_page(module, position=4, retired_at=utcnow())
        mine = completion.open_progress(user, None, module)
        other = User.create(registration=LtiRegistration.get(), sub="u-2")
        theirs = completion.open_progress(other, None, module)
        completion.record_visit(mine, second)
        completion.record_visit(mine, third)
        PageVisit.update(completed_at=utcnow()).where(PageVisit.page == third).execute()
        completion.record_visit(theirs, first)  # another learner's visit: not mine
        sections = section_states.sections_of(module, mine)
        assert [s.id for s in sections] == [first.id, second.id, third.id]
        assert retired.id not in [s.id for s in sections]
        assert [s.state for s in sections] == [
            section_states.NOT_OPENED,
            section_states.OPENED,
            section_states.DONE,
        ]
        assert [(s.opened, s.done) for s in sections] == [
            (False, False),
            (True, False),
            (True, True),
        ]
        assert sections[1].slug == second.slug and sections[1].title == second.title
        assert [s.state for s in section_states.sections_of(module, None)] == [0, 0, 0]


def test_start_is_idempotent_and_resumes_without_context(app, user):
    with database.connection_context():
        module = make_quiz_module(questions=4)
        version = module.current()
        first = attempts.start_attempt(user, None, module, version, "key-1")
        same = attempts.start_attempt(user, None, module, version, "key-1")
        resumed = attempts.start_attempt(user, None, module, version, "key-2")
        assert first.id == same.id == resumed.id
        assert QuizAttempt.select().count() == 1


def test_draw_follows_the_blueprint_and_shuffles_options(app, user):
    from tests.factories import single

    with database.connection_context():
        module = make_module(
            quiz={**progress_settings(), "draw": [{"objective": "o1", "count": 2}]}
        )
        for n in range(5):
            from tests.factories import make_question

            make_question(module, single(f"dq{n}"))
        attempt = attempts.start_attempt(
            user, None, module, module.current(), "k" * 20, random.Random(3)
        )
    assert len(attempt.question_versions) == 2
    orders = [attempt.layout[q]["options"] for q in attempt.layout]
    assert all(sorted(o) == list("abcd") for o in orders)


def progress_settings():
    from tests.factories import QUIZ

    return dict(QUIZ)


class FakePassback:
    """Stands in for passback.enqueue_score: records each call and its transaction."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def enqueue_score(self, **kwargs):
        self.calls.append({**kwargs, "in_transaction": database.in_transaction()})
        if self.fail:
            raise RuntimeError("outbox unavailable")


@pytest.fixture
def fake_passback(monkeypatch):
    fake = FakePassback()
    monkeypatch.setattr(passback, "enqueue_score", fake.enqueue_score)
    return fake


def test_submit_hands_the_kept_score_to_passback_in_its_transaction(
    app, client, platform, fake_passback
):
    with database.connection_context():
        make_quiz_module(pages=1, questions=4, slug=SLUG)
    launch_into(client, platform)
    read_all(client)
    submit(client, start(client), right=False)
    submit(client, start(client), right=True)
    first, second = fake_passback.calls
    assert first["in_transaction"] and second["in_transaction"]
    assert (first["score_given"], first["activity_progress"]) == (0.0, "Submitted")
    assert (second["score_given"], second["score_maximum"]) == (100.0, 100.0)
    assert second["activity_progress"] == "Completed"
    assert second["grading_progress"] == "FullyGraded"
    assert second["module_slug"] == SLUG
    assert second["resource_link"].id_on_platform == "link-1"
    assert second["user"].sub == "learner-1" and second["context"] is not None
    assert second["submission"]["submittedAt"].endswith("Z")


def test_a_failed_hand_off_leaves_the_attempt_unsubmitted(
    app, client, platform, monkeypatch
):
    fake = FakePassback(fail=True)
    monkeypatch.setattr(passback, "enqueue_score", fake.enqueue_score)
    with database.connection_context():
        make_quiz_module(pages=1, questions=4, slug=SLUG)
    launch_into(client, platform)
    attempt = start(client)
    response = submit(client, attempt, right=True)
    assert response.status_code == 500
    with database.connection_context():
        assert QuizAttempt.get_by_id(attempt.id).status == "in_progress"
        assert AttemptItem.select().count() == 0


def test_completing_a_module_without_quiz_posts_full_credit(
    app, client, platform, fake_passback
):
    with database.connection_context():
        module = make_module(slug=SLUG, quiz=None)
        make_page(module, position=1)
    launch_into(client, platform)
    targets = read_all(client)
    assert targets == [f"/learn/modules/{SLUG}"]
    (call,) = fake_passback.calls
    assert call["score_given"] == call["score_maximum"] == 100.0
    with database.connection_context():
        assert ModuleProgress.get().state == "completed"


def _queries(client, path) -> int:
    client.get(path)  # first visit creates rows; count a steady-state view
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("size", [(2, 4), (8, 16)], ids=["small", "large"])
def test_module_and_quiz_pages_use_a_constant_number_of_queries(
    app, client, platform, size
):
    pages, questions = size
    with database.connection_context():
        make_quiz_module(pages=pages, questions=questions, slug=SLUG)
    launch_into(client, platform)
    read_all(client)
    overview = _queries(client, f"/learn/modules/{SLUG}")
    page = _queries(client, f"/learn/modules/{SLUG}/pages/{_first_page()}")
    intro = _queries(client, f"/learn/modules/{SLUG}/quiz")
    start(client)
    taking = _queries(client, f"/learn/modules/{SLUG}/quiz")
    counts = {"overview": overview, "page": page, "intro": intro, "taking": taking}
    assert all(counts[view] <= len(VIEW_STATEMENTS[view]) for view in counts)


_USER = "the user with their membership and its context"

#: What each view may run (reads and writes), at most, whatever the module's size.
VIEW_STATEMENTS = {
    "overview": (
        _USER,
        "the module with its version, the learner's progress, attempt counts and"
        " sections with their state",
    ),
    "page": (
        _USER,
        "the module, as for the overview",
        "the page",
        "the visit (upsert)",
        "the learner's resume point (UPDATE)",
    ),
    "intro": (  # the quiz page before an attempt
        _USER,
        "the module with its version",
        "the learner's attempt summaries",
        "the question bank (how many items an attempt asks)",
    ),
    "taking": (  # the quiz page with an attempt in progress
        _USER,
        "the module with its version",
        "the learner's attempt summaries",
        "the whole row of the attempt in progress",
        "its drawn questions",
    ),
}


@pytest.mark.parametrize("size", [(2, 4), (8, 16)], ids=["small", "large"])
def test_starting_and_submitting_use_a_constant_number_of_statements(
    app, client, platform, size
):
    from tests.factories import QUIZ
    from tests.learner_helpers import csrf
    from tests.learner_helpers import csrf_of
    from tests.learner_helpers import current_attempt
    from tests.learner_helpers import key_of

    pages, questions = size
    with database.connection_context():
        quiz = {**QUIZ, "max_attempts": 0}
        make_quiz_module(pages=pages, questions=questions, slug=SLUG, quiz=quiz)
    launch_into(client, platform, ags=AGS_CLAIM)
    read_all(client)
    counts = []
    for _ in range(3):  # each attempt has a longer history behind it
        html = client.get(f"/learn/modules/{SLUG}/quiz").get_data(as_text=True)
        form = {"csrf_token": csrf_of(html), "key": key_of(html)}
        with count_queries() as started:
            response = client.post(f"/learn/modules/{SLUG}/quiz/start", data=form)
        assert response.status_code == 303
        attempt = current_attempt()
        form = {"action": "submit", "csrf_token": csrf(client)}
        with count_queries() as submitted:
            response = client.post(f"/learn/attempts/{attempt.id}", data=form)
        assert response.status_code == 303
        counts.append((started.count, submitted.count))
    for started_with, submitted_with in counts:
        assert started_with <= len(START_STATEMENTS)
        assert submitted_with <= len(SUBMIT_STATEMENTS)
    with database.connection_context():  # and every submit reached the outbox
        from lms_plugin.models.passback import ScorePost

        assert ScorePost.select().count() == 3


#: What starting an attempt may run (reads and writes), at most.
START_STATEMENTS = (
    _USER,
    "the module with its current version",
    "the learner's attempt summaries",
    "the attempt of the start key, if any",
    "the question bank",
    "the INSERT of the attempt",
)

#: What submitting an attempt may run (reads and writes), at most.
SUBMIT_STATEMENTS = (
    _USER,
    "the attempt with its module and quiz version",
    "the launched resource link",
    "the drawn questions",
    "the UPDATE closing the attempt (while in progress)",
    "the INSERT of its scored items",
    "the attempt summaries, for the kept score",
    "the learner's progress",
    "the section counts, for the completion rule",
    "the UPDATE of the progress",
    "the membership the outbox checks (and locks on PostgreSQL)",
    "the registration of the context",
    "the newest queued timestamp of the line item",
    "the INSERT of the queued score",
)


def _first_page() -> str:
    from lms_plugin.models.content import Page

    with database.connection_context():
        return Page.select().order_by(Page.position).first().slug


SAMPLE = Path(__file__).parent / "data" / "courses"


def test_the_published_sample_course_can_be_taken_and_passed(app, client, platform):
    from lms_plugin.content.publish import publish_path

    reports = publish_path(SAMPLE)
    assert not [p for p in reports[0].problems if p.is_error]
    response = launch_into(
        client, platform, custom={"module_id": "m01-giving-feedback"}
    )
    slug = "m01-giving-feedback"
    assert landing_of(response) == f"/learn/modules/{slug}"
    read_all(client, slug)
    attempt = start(client, slug)
    with database.connection_context():
        questions = attempt.drawn_questions()
    drawn = {item["type"] for q in questions for item in q.get("questions") or [q]}
    assert len(drawn) >= 2
    from tests.learner_helpers import csrf

    data = {**right_answers(questions), "action": "submit", "csrf_token": csrf(client)}
    result = client.post(f"/learn/attempts/{attempt.id}", data=data)
    page = client.get(result.location).get_data(as_text=True)
    assert "100%, passed" in page
    with database.connection_context():
        assert ModuleProgress.get().state == "completed"


def test_a_submitted_attempt_queues_its_score_in_the_real_outbox(
    app, client, platform, monkeypatch
):
    """With AGS ``submittedAt``: when the learner submitted, not when it was queued."""
    from lms_plugin.models.passback import ScorePost

    submitted = datetime.datetime(2026, 1, 1, 9, 30, 0, 250000)
    monkeypatch.setattr(attempts, "utcnow", lambda: submitted)
    with database.connection_context():
        make_quiz_module(pages=1, questions=4, slug=SLUG)
    launch_into(client, platform, ags=AGS_CLAIM)
    submit(client, start(client), right=True)
    with database.connection_context():
        (post,) = ScorePost.select()
        stored = QuizAttempt.get()
    assert (post.score_given, post.score_maximum) == (100.0, 100.0)
    assert post.lineitem_url == AGS_CLAIM["lineitem"] and post.module_slug == SLUG
    assert post.activity_progress == "Completed"
    assert stored.submitted_at == submitted
    assert post.timestamp > submitted  # queued now, in the real clock
    assert json.loads(post.submission) == {
        "startedAt": stored.started_at.isoformat(timespec="milliseconds") + "Z",
        "submittedAt": "2026-01-01T09:30:00.250Z",
    }
