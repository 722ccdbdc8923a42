"""Learners see only their own data, in the context of their launch."""

import pytest

from lms_plugin.db import database
from lms_plugin.learner.views import bp
from lms_plugin.models.progress import QuizAttempt
from tests.factories import make_quiz_module
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.learner_helpers import launch_into
from tests.learner_helpers import start
from tests.learner_helpers import submit

PAGE = "p-first"

#: Every learner URL, as (method, path); {attempt} is another person's attempt.
URLS = [
    ("GET", "/learn/"),
    ("GET", "/learn/unbound"),
    ("GET", f"/learn/modules/{SLUG}"),
    ("GET", f"/learn/modules/{SLUG}/pages/{PAGE}"),
    ("POST", f"/learn/modules/{SLUG}/pages/{PAGE}/complete"),
    ("GET", f"/learn/modules/{SLUG}/quiz"),
    ("POST", f"/learn/modules/{SLUG}/quiz/start"),
    ("GET", "/learn/attempts/{attempt}"),
    ("POST", "/learn/attempts/{attempt}"),
]
ATTEMPT_URLS = [u for u in URLS if "{attempt}" in u[1]]


def _id(url):
    return f"{url[0]} {url[1]}"


@pytest.fixture
def module(app):
    from tests.factories import make_page

    with database.connection_context():
        module = make_quiz_module(pages=0, questions=4, slug=SLUG)
        make_page(module, slug=PAGE, position=1)
    return module


@pytest.fixture
def owners_attempt(app, platform, module):
    """A submitted attempt of learner-1 in course-1."""
    owner = app.test_client()
    launch_into(owner, platform, sub="learner-1")
    attempt = start(owner)
    submit(owner, attempt, right=False)
    return attempt


def test_every_learner_url_is_listed(app):
    rules = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(bp.name + ".")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = {
        (
            path.replace(SLUG, "<slug>")
            .replace(PAGE, "<page_slug>")
            .replace("{attempt}", "<int:attempt_id>"),
            method,
        )
        for method, path in URLS
    }
    assert rules == listed


def _call(client, method, path, attempt_id=None, **data):
    path = path.replace("{attempt}", str(attempt_id))
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf(client), **data})


@pytest.mark.parametrize("url", URLS, ids=_id)
def test_anonymous_is_refused(client, module, url):
    response = _call(client, *url, attempt_id=1)
    assert response.status_code == 401
    assert "Open the tool" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ATTEMPT_URLS, ids=_id)
def test_another_learners_attempt_is_not_found(app, platform, owners_attempt, url):
    other = app.test_client()
    launch_into(other, platform, sub="learner-2")
    response = _call(other, *url, attempt_id=owners_attempt.id, action="submit")
    assert response.status_code == 404
    with database.connection_context():
        assert QuizAttempt.get_by_id(owners_attempt.id).user.sub == "learner-1"


@pytest.mark.parametrize("url", ATTEMPT_URLS, ids=_id)
def test_own_attempt_from_another_context_is_not_found(
    app, platform, owners_attempt, url
):
    same_user = app.test_client()
    launch_into(same_user, platform, sub="learner-1", course="course-2")
    response = _call(same_user, *url, attempt_id=owners_attempt.id)
    assert response.status_code == 404


def test_another_context_starts_with_no_progress(app, platform, owners_attempt):
    client = app.test_client()
    launch_into(client, platform, sub="learner-1", course="course-2")
    overview = client.get(f"/learn/modules/{SLUG}").get_data(as_text=True)
    assert "Not taken yet" in overview and "Not started" in overview
    quiz = client.get(f"/learn/modules/{SLUG}/quiz").get_data(as_text=True)
    assert "Review attempt" not in quiz


def test_another_learner_sees_none_of_the_owners_progress(
    app, platform, owners_attempt
):
    other = app.test_client()
    launch_into(other, platform, sub="learner-2")
    quiz = other.get(f"/learn/modules/{SLUG}/quiz").get_data(as_text=True)
    assert "Review attempt" not in quiz and "Start the quiz" in quiz


def test_a_score_cannot_be_posted_by_hand(app, platform, module):
    client = app.test_client()
    launch_into(client, platform)
    attempt = start(client)
    forged = {"percent": "100", "earned": "4", "passed": "true", "score": "100"}
    submit(client, attempt, right=False, **forged)
    with database.connection_context():
        row = QuizAttempt.get_by_id(attempt.id)
    assert row.percent == 0 and row.passed is False


def test_a_session_whose_membership_is_gone_is_refused(app, platform, module):
    from lms_plugin.models.lti import LtiMembership

    client = app.test_client()
    launch_into(client, platform)
    with database.connection_context():
        LtiMembership.delete().execute()
    assert client.get(f"/learn/modules/{SLUG}").status_code == 403


def test_unknown_module_and_page_are_404(app, platform, module):
    client = app.test_client()
    launch_into(client, platform)
    assert client.get("/learn/modules/nope").status_code == 404
    assert client.get(f"/learn/modules/{SLUG}/pages/nope").status_code == 404


def test_deactivating_the_registration_signs_its_learners_out(client, platform):
    """The session stays, but the user (and their membership) no longer loads."""
    from lms_plugin.models.lti import LtiRegistration

    with database.connection_context():
        make_quiz_module(pages=2, questions=2, slug=SLUG)
    launch_into(client, platform)
    assert client.get(f"/learn/modules/{SLUG}").status_code == 200
    with database.connection_context():
        LtiRegistration.update(is_active=False).execute()
    assert client.get(f"/learn/modules/{SLUG}").status_code == 401


def test_a_session_whose_course_was_removed_is_refused(client, platform, module):
    from lms_plugin.models.lti import LtiContext
    from lms_plugin.models.lti import LtiMembership

    launch_into(client, platform)
    assert client.get("/learn/").status_code == 200
    with database.connection_context():
        LtiMembership.delete().execute()
        LtiContext.delete().execute()
    response = client.get("/learn/")
    assert response.status_code == 403
    assert "not a member of this course" in response.get_data(as_text=True)
