"""Sign-in comes only from a launch, and roles count only in the launch's context."""

import pytest

from lms_plugin.auth import role_required
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import launch


@pytest.fixture
def app_with_pages(make_app):
    app = make_app()

    @app.get("/test/instructor")
    @role_required("instructor", "teaching_assistant")
    def instructor_page():
        return "instructor page"

    @app.get("/test/learner")
    @role_required("learner")
    def learner_page():
        return "learner page"

    return app


@pytest.fixture
def client2(app_with_pages):
    return app_with_pages.test_client()


def test_anonymous_is_refused(client2, platform):
    assert client2.get("/test/instructor").status_code == 401


def test_learner_cannot_open_instructor_pages(client2, platform):
    launch(client2, platform, roles=[LEARNER])
    assert client2.get("/test/learner").status_code == 200
    assert client2.get("/test/instructor").status_code == 403


def test_instructor_role_counts_only_in_its_own_context(client2, platform):
    launch(client2, platform, roles=[INSTRUCTOR])
    assert client2.get("/test/instructor").status_code == 200
    # Same person launches as a learner in another course: the instructor role
    # of the first course must not carry over.
    launch(client2, platform, roles=[LEARNER], context={"id": "course-2"})
    assert client2.get("/test/instructor").status_code == 403
    assert client2.get("/test/learner").status_code == 200


def test_launch_without_context_grants_no_course_role(client2, platform):
    launch(client2, platform, roles=[INSTRUCTOR], context=None)
    assert client2.get("/test/instructor").status_code == 403
