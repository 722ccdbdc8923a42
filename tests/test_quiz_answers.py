"""Quiz answers over HTTP, every question type: strict parsing, never a 500.

What the quiz's own form can send is scored (a wrong or blank answer earns
nothing); what it can never send is a 400 that says what to do, and the attempt
keeps what it had (issue 13: an ordering position of ``²`` was a 500).
"""

import pytest

from lms_plugin.db import database
from lms_plugin.models.progress import QuizAttempt
from tests.factories import make_module
from tests.factories import make_question
from tests.factories import right_answers
from tests.instructor_helpers import launch_as
from tests.learner_helpers import csrf
from tests.learner_helpers import start
from tests.lti_platform import LEARNER
from tests.test_question_templates import sample_questions

HUGE = "9" * 5000


@pytest.fixture
def app(make_app):
    """The tool as production runs it: errors become pages, none propagate."""
    return make_app(PROPAGATE_EXCEPTIONS=False)


@pytest.fixture
def every_type(app, platform):
    """A learner with an attempt open on a module whose bank has every type."""
    with database.connection_context():
        module = make_module(slug="every-type")
        for position, data in enumerate(sample_questions(), 1):
            make_question(module, data, position=position)
    client = launch_as(
        app, platform, "learner-2", LEARNER, custom={"module_id": "every-type"}
    )
    return client, start(client, slug="every-type")


def _post_answers(client, attempt, changes: dict, action="submit"):
    form = {**right_answers(sample_questions()), **changes}
    data = {**form, "action": action, "csrf_token": csrf(client)}
    return client.post(f"/learn/attempts/{attempt.id}", data=data)


@pytest.mark.parametrize(
    "changes",
    [
        {"q.o1.i1": "²"},
        {"q.o1.i1": "\u0663"},
        {"q.o1.i1": HUGE},
        {"q.o1.i1": "-1"},
        {"q.o1.i1": "0"},
        {"q.o1.i1": "5"},
        {"q.o1.i1": " 1"},
        {"q.o1.i1": ["1", "2"]},
        {"q.s1": ["a", "b"]},
        {"q.t1": ["true", "false"]},
        {"q.x1.p1": ["p1", "p2"]},
        {"q.c1a": ["a", "a"]},
        {"q.w1": "x" * 501},
        {"q.w1": ["teach-back", "teach-back"]},
    ],
    ids=[
        "ordering-superscript-two",
        "ordering-arabic-indic-digit",
        "ordering-5000-digits",
        "ordering-negative",
        "ordering-zero",
        "ordering-past-the-last",
        "ordering-space",
        "ordering-repeated-field",
        "single-repeated",
        "true-false-repeated",
        "matching-repeated",
        "case-set-child-repeated",
        "short-text-too-long",
        "short-text-repeated",
    ],
)
@pytest.mark.parametrize("action", ["submit", "save"])
def test_answers_no_quiz_form_can_send_are_a_400(every_type, changes, action):
    client, attempt = every_type
    response = _post_answers(client, attempt, changes, action)
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body
    assert "Reload the quiz page" in body or "Shorten it" in body
    with database.connection_context():
        kept = QuizAttempt.get_by_id(attempt.id)
    assert kept.status == "in_progress" and kept.responses == {}  # nothing lost


@pytest.mark.parametrize(
    "changes",
    [
        {"q.o1.i1": "2"},  # position 2 twice: the item order is no answer
        {"q.o1.i1": ""},  # an item left unplaced
        {"q.s1": "zz"},  # an option the question does not have
        {"q.t1": "maybe"},
        {"q.x1.p1": "nope"},
        {"q.m1": ["a", "zz", "a"]},
        {"q.w1": "x" * 500},
    ],
    ids=[
        "ordering-twice",
        "ordering-blank",
        "single-unknown",
        "true-false-unknown",
        "matching-unknown",
        "multiple-unknown-and-repeated",
        "short-text-at-the-limit",
    ],
)
def test_answers_the_form_can_send_are_scored(every_type, changes):
    client, attempt = every_type
    response = _post_answers(client, attempt, changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    with database.connection_context():
        scored = QuizAttempt.get_by_id(attempt.id)
    assert scored.status == "submitted"
    assert 0 < scored.earned < scored.possible
