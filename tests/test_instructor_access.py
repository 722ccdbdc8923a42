"""Who reaches the instructor view: every instructor URL, tried by every kind of
visitor. Only instructors, TAs and administrators of the launch's context get in,
and they only ever see that context's data."""

import pytest

from lms_plugin.db import database
from lms_plugin.instructor import bp
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import ScorePost
from tests.factories import make_quiz_module
from tests.instructor_helpers import ADMINISTRATOR
from tests.instructor_helpers import launch_as
from tests.instructor_helpers import take_quiz
from tests.instructor_helpers import text
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import TEACHING_ASSISTANT

CONTENT_DEVELOPER = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"

#: Every instructor URL, as (method, path); {score} is a course-1 learner's score.
URLS = [
    ("GET", "/instructor/"),
    ("POST", "/instructor/roster/refresh"),
    ("GET", "/instructor/export.csv"),
    ("POST", "/instructor/scores/{score}/resend"),
    ("GET", f"/instructor/modules/{SLUG}/statistics"),
]
IDS = [f"{method} {path}" for method, path in URLS]


@pytest.fixture
def course(app, platform):
    """Course-1 with a learner whose score failed to reach the gradebook."""
    with database.connection_context():
        make_quiz_module(pages=1, questions=2, slug=SLUG)
    take_quiz(launch_as(app, platform, "s-1", LEARNER), right=True)
    with database.connection_context():
        ScorePost.update(status=FAILED, last_error="HTTP 500").execute()
        return ScorePost.get()


def request(client, method, path, score):
    url = path.format(score=score.id)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf(client)})


def unchanged(score) -> bool:
    with database.connection_context():
        return ScorePost.get_by_id(score.id).status == FAILED


def test_every_instructor_url_is_covered(app):
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(bp.name + ".")
    }
    listed = {path.replace("{score}", "<int:score_id>") for _, path in URLS}
    listed = {p.replace(f"/modules/{SLUG}/", "/modules/<slug>/") for p in listed}
    assert rules == listed


def anonymous(app, platform):
    return app.test_client()


def learner(app, platform):
    return launch_as(app, platform, "s-2", LEARNER)


def content_developer(app, platform):
    return launch_as(app, platform, "dev", CONTENT_DEVELOPER)


def staff_elsewhere_learner_here(app, platform):
    """An instructor of course-2 who then launches course-1 as a learner."""
    client = launch_as(app, platform, "dual", INSTRUCTOR, course="course-2", link="l2")
    client = launch_as(app, platform, "dual", LEARNER)
    return client


REFUSED = [
    (anonymous, 401),
    (learner, 403),
    (content_developer, 403),
    (staff_elsewhere_learner_here, 403),
]


@pytest.mark.parametrize("method,path", URLS, ids=IDS)
@pytest.mark.parametrize(
    "visitor,status", REFUSED, ids=[v.__name__ for v, _ in REFUSED]
)
def test_refused(app, platform, course, visitor, status, method, path):
    client = visitor(app, platform)
    response = request(client, method, path, course)
    assert response.status_code == status
    assert "Person s-1" not in text(response)
    assert unchanged(course)


STAFF = [INSTRUCTOR, TEACHING_ASSISTANT, ADMINISTRATOR]


@pytest.mark.parametrize("method,path", URLS, ids=IDS)
@pytest.mark.parametrize("role", STAFF, ids=["instructor", "ta", "administrator"])
def test_staff_of_the_context_get_in(app, platform, course, role, method, path):
    client = launch_as(app, platform, "staff", role)
    response = request(client, method, path, course)
    assert response.status_code == (200 if method == "GET" else 303)
    if path == "/instructor/":
        assert "Person s-1" in text(response)
    if "resend" in path:
        assert not unchanged(course)


@pytest.mark.parametrize("method,path", URLS, ids=IDS)
def test_instructor_of_another_context_sees_only_theirs(
    app, platform, course, method, path
):
    client = launch_as(app, platform, "t2", INSTRUCTOR, course="course-2", link="l2")
    response = request(client, method, path, course)
    if "resend" in path:
        assert response.status_code == 404  # another course's score: not found
    else:
        assert response.status_code == (200 if method == "GET" else 303)
    body = text(response) + text(client.get("/instructor/"))
    body += text(client.get("/instructor/export.csv"))
    assert "Person s-1" not in body and "s-1" not in body
    stats = text(client.get(f"/instructor/modules/{SLUG}/statistics"))
    assert "0 submitted attempts" in stats
    assert unchanged(course)
