"""The learner's flows over HTTP, through real signed launches."""

import json
import re

import pytest

from lms_plugin.db import database
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import PageVisit
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.questions import base
from tests.factories import make_quiz_module
from tests.instructor_helpers import ADMINISTRATOR
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.learner_helpers import current_attempt
from tests.learner_helpers import launch_into
from tests.learner_helpers import read_all
from tests.learner_helpers import start
from tests.learner_helpers import submit
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import TEACHING_ASSISTANT
from tests.lti_platform import landing_of


@pytest.fixture
def module(app):
    with database.connection_context():
        return make_quiz_module(pages=3, questions=4, slug=SLUG)


@pytest.fixture
def learner(client, platform, module):
    """A client signed in as a learner on a link bound to the module."""
    response = launch_into(client, platform)
    assert response.status_code == 303
    assert landing_of(response) == f"/learn/modules/{SLUG}"
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def test_launch_binds_the_link_from_custom_module_id(learner):
    with database.connection_context():
        assert LtiResourceLink.get().module_slug == SLUG
    page = text(learner.get(f"/learn/modules/{SLUG}"))
    assert "Module" in page and "0 of 3 completed" in page
    assert "Start the module" in page and "Do the thing." in page


def test_a_bound_link_keeps_its_module(client, platform, module):
    launch_into(client, platform)
    response = launch_into(client, platform, custom={"module_id": "other"})
    assert landing_of(response) == f"/learn/modules/{SLUG}"


@pytest.mark.parametrize(
    "claims",
    [
        {"custom": {"view": "catalog"}},
        {"https://www.instructure.com/placement": "course_navigation"},
    ],
    ids=["custom-view", "canvas-placement"],
)
def test_course_navigation_opens_the_catalog(client, platform, module, claims):
    if "custom" not in claims:
        claims["custom"] = {}
    response = launch_into(client, platform, **claims)
    assert landing_of(response) == "/learn/"
    page = text(client.get("/learn/"))
    assert "Not started" in page and f"/learn/modules/{SLUG}" in page


STAFF = {
    "instructor": [INSTRUCTOR],
    "teaching-assistant": [TEACHING_ASSISTANT],
    "administrator": [ADMINISTRATOR],
}
COURSE_WIDE = {
    "custom-catalog": {"custom": {"view": "catalog"}},
    "custom-dashboard": {"custom": {"view": "dashboard"}},
    "canvas-course-navigation": {
        "custom": {},
        "https://www.instructure.com/placement": "course_navigation",
    },
}


@pytest.mark.parametrize("roles", list(STAFF.values()), ids=list(STAFF))
@pytest.mark.parametrize("claims", list(COURSE_WIDE.values()), ids=list(COURSE_WIDE))
def test_staff_land_on_the_instructor_view(client, platform, module, roles, claims):
    response = launch_into(client, platform, sub="staff-1", roles=roles, **claims)
    assert landing_of(response) == "/instructor/"
    dashboard = text(client.get("/instructor/"))
    assert 'href="/learn/"' in dashboard  # modules as learners see them
    catalog = text(client.get("/learn/"))
    assert 'href="/instructor/"' in catalog  # and the way back


def test_learners_land_on_the_catalog_even_when_asked_for_the_dashboard(
    client, platform, module
):
    response = launch_into(client, platform, custom={"view": "dashboard"})
    assert landing_of(response) == "/learn/"
    assert client.get("/instructor/").status_code == 403
    assert 'href="/instructor/"' not in text(client.get("/learn/"))


def test_a_module_link_opens_the_module_for_staff_too(client, platform, module):
    response = launch_into(client, platform, sub="staff-1", roles=[INSTRUCTOR])
    assert landing_of(response) == f"/learn/modules/{SLUG}"


def test_unbound_link_tells_learners_it_is_not_chosen(client, platform, module):
    response = launch_into(client, platform, custom={})
    assert landing_of(response) == "/learn/unbound"
    assert "not chosen yet" in text(client.get(landing_of(response)))


def test_unbound_link_sends_instructors_to_the_picker(app, platform):
    client = app.test_client()
    response = launch_into(client, platform, custom={}, roles=(INSTRUCTOR,))
    with database.connection_context():
        link = LtiResourceLink.get()
    assert landing_of(response) == f"/lti/links/{link.id}/choose"


def test_pages_record_visits_and_completion_then_lead_to_the_quiz(learner):
    targets = read_all(learner)
    assert targets[-1] == f"/learn/modules/{SLUG}/quiz"
    assert targets[0].startswith(f"/learn/modules/{SLUG}/pages/")
    with database.connection_context():
        progress = ModuleProgress.get()
        visits = list(PageVisit.select())
    assert len(visits) == 3 and all(v.completed_at for v in visits)
    assert progress.state == "in_progress"  # the quiz is not passed yet
    assert "3 of 3 completed" in text(learner.get(f"/learn/modules/{SLUG}"))


def test_progress_resumes_on_another_device(learner, platform, app):
    overview = text(learner.get(f"/learn/modules/{SLUG}"))
    second = overview.split('href="/learn/modules/m01-test/pages/')[2].split('"')[0]
    learner.get(f"/learn/modules/{SLUG}/pages/{second}")
    other_device = app.test_client()
    launch_into(other_device, platform)
    page = text(other_device.get(f"/learn/modules/{SLUG}"))
    with database.connection_context():
        title = PageVisit.get().page.title
    assert f"Continue: {title}" in page


def test_section_page_has_navigation_and_a_csrf_form(learner):
    overview = text(learner.get(f"/learn/modules/{SLUG}"))
    first = overview.split('href="/learn/modules/m01-test/pages/')[1].split('"')[0]
    page = text(learner.get(f"/learn/modules/{SLUG}/pages/{first}"))
    assert 'rel="next"' in page and 'rel="prev"' not in page
    assert 'name="csrf_token"' in page and "Mark complete and continue" in page
    assert 'aria-current="page"' in page
    refused = learner.post(f"/learn/modules/{SLUG}/pages/{first}/complete")
    assert refused.status_code == 400  # no CSRF token


def test_the_quiz_form_never_contains_answers(learner):
    attempt = start(learner)
    page = text(learner.get(f"/learn/modules/{SLUG}/quiz"))
    assert f'action="/learn/attempts/{attempt.id}"' in page
    assert "Question 4 of 4" in page
    for secret in ("Feedback", "Rationale", "correct", "Correct answer"):
        assert secret not in page, secret


def test_fail_retry_pass_and_complete(learner):
    read_all(learner)
    first = start(learner)
    result = submit(learner, first, right=False)
    assert result.status_code == 303
    page = text(learner.get(result.location))
    assert "Attempt 1: 0%, not passed" in page and 'role="status"' in page
    assert "You have 2 attempts left" in page
    assert "Feedback a of" in page  # feedback on what the learner chose
    assert "tag-key" not in page and "Rationale" not in page  # not yet
    second = start(learner)
    assert second.id != first.id and second.number == 2
    page = text(learner.get(submit(learner, second, right=True).location))
    assert "Attempt 2: 100%, passed" in page
    assert "tag-key" in page and "Rationale" in page  # passed: revealed
    with database.connection_context():
        progress = ModuleProgress.get()
        items = list(AttemptItem.select().where(AttemptItem.attempt == second.id))
    assert progress.state == "completed" and progress.completed_at
    assert progress.kept_percent == 100 and progress.attempts_used == 2
    assert [(i.earned, i.possible) for i in items] == [(1.0, 1.0)] * 4
    assert "Completed" in text(learner.get("/learn/"))


def test_attempt_records_the_exact_question_versions(learner):
    attempt = start(learner)
    with database.connection_context():
        from lms_plugin.models.content import QuestionVersion

        versions = {v.id for v in QuestionVersion.select()}
    assert set(attempt.question_versions) == versions
    assert set(attempt.layout) == {f"{SLUG}-q{n}" for n in range(1, 5)}


def test_start_is_idempotent_per_key(learner):
    page = text(learner.get(f"/learn/modules/{SLUG}/quiz"))
    from tests.learner_helpers import csrf_of
    from tests.learner_helpers import key_of

    form = {"csrf_token": csrf_of(page), "key": key_of(page)}
    for _ in range(3):
        learner.post(f"/learn/modules/{SLUG}/quiz/start", data=form)
    with database.connection_context():
        assert QuizAttempt.select().count() == 1


def test_submit_is_idempotent(learner):
    attempt = start(learner)
    token = csrf(learner)
    first = submit(learner, attempt, right=False, token=token)
    again = submit(learner, attempt, right=True, token=token)  # resent form
    assert first.location == again.location
    with database.connection_context():
        row = QuizAttempt.get_by_id(attempt.id)
        assert row.percent == 0 and row.status == "submitted"
        assert QuizAttempt.select().count() == 1
        assert AttemptItem.select().count() == 4
        assert ModuleProgress.get().attempts_used == 1


def test_an_attempt_in_progress_survives_reload_with_saved_answers(learner):
    attempt = start(learner)
    first = text(learner.get(f"/learn/modules/{SLUG}/quiz"))
    saved = submit(learner, attempt, right=True, action="save")
    assert saved.status_code == 303 and saved.location.endswith("/quiz")
    again = text(learner.get(f"/learn/modules/{SLUG}/quiz"))
    assert current_attempt().id == attempt.id
    assert again.count("checked") == 4 and first.count("checked") == 0
    assert current_attempt().status == "in_progress"


def test_attempts_limit_then_answers_revealed(learner):
    read_all(learner)
    for _ in range(3):
        submit(learner, start(learner), right=False)
    quiz = text(learner.get(f"/learn/modules/{SLUG}/quiz"))
    assert "used every attempt" in quiz and "Start attempt" not in quiz
    refused = learner.post(
        f"/learn/modules/{SLUG}/quiz/start",
        data={"csrf_token": csrf(learner), "key": "k" * 24},
    )
    assert refused.status_code == 303
    with database.connection_context():
        assert QuizAttempt.select().count() == 3
        progress = ModuleProgress.get()
    assert progress.state == "completed_not_passed" and progress.completed_at
    last = text(learner.get(f"/learn/attempts/{current_attempt().id}"))
    assert "tag-key" in last  # the last attempt reveals the key


def test_instructor_sees_the_module_as_a_learner(client, platform, module):
    response = launch_into(client, platform, roles=(INSTRUCTOR,))
    assert landing_of(response) == f"/learn/modules/{SLUG}"
    page = text(client.get(landing_of(response)))
    assert "as learners see it" in page
    assert 'href="/instructor/">Open the instructor view' in page


def test_saved_custom_is_recorded(learner):
    with database.connection_context():
        assert json.loads(LtiResourceLink.get().custom) == {"module_id": SLUG}


def _section_list_items(html: str) -> list[str]:
    return re.findall(r"<li class=.*?</li>", html)


def test_section_list_links_each_section_with_its_state(app, module):
    from flask import url_for

    from lms_plugin.learner.html import section_list
    from lms_plugin.models.sections import DONE
    from lms_plugin.models.sections import NOT_OPENED
    from lms_plugin.models.sections import OPENED
    from lms_plugin.models.sections import sections_of

    with app.test_request_context(), database.connection_context():
        version = module.current()
        plain = sections_of(module, None)
        sections = [
            plain[0]._replace(state=DONE, title="Risks & <benefits>"),
            plain[1]._replace(state=OPENED),
            plain[2]._replace(state=NOT_OPENED),
        ]
        current = sections[1]
        html = str(section_list(module, sections, current=current, version=version))
        links = [
            url_for("learner.page", slug=module.slug, page_slug=s.slug)
            for s in sections
        ]
        quiz = url_for("learner.quiz", slug=module.slug)
    done, opened, unopened, quiz_item = _section_list_items(html)
    assert done == (
        f'<li class="section done"><a href="{links[0]}">Risks &amp; &lt;benefits&gt;'
        '</a> <span class="section-state"><span aria-hidden="true">✔</span> '
        "completed</span></li>"
    )
    assert f'<a href="{links[1]}" aria-current="page">' in opened
    assert opened.endswith('<span class="section-state">opened</span></li>')
    assert unopened.startswith(f'<li class="section"><a href="{links[2]}">')
    assert unopened.endswith('<span class="section-state">not opened</span></li>')
    assert f'<a href="{quiz}">' in quiz_item and html.count("aria-current") == 1
    assert html.startswith('<nav class="sections" aria-label="Sections of this')


def test_crumbs_state_labels_and_the_instructor_note(app, module):
    from types import SimpleNamespace

    from lms_plugin.learner.html import crumbs
    from lms_plugin.learner.html import instructor_note
    from lms_plugin.learner.html import state_label

    with app.test_request_context():
        here = str(crumbs(module, "Risks & <benefits>", "Quiz"))
        top = str(crumbs(module, "Overview"))
    assert '<li><a href="/learn/">All modules</a></li>' in here
    assert (
        f'<a href="/learn/modules/{module.slug}">Risks &amp; &lt;benefits&gt;</a>'
        in here
    )
    assert here.count("aria-current") == 1 and '"page">Quiz</span>' in here
    assert '<li><span aria-current="page">Overview</span></li>' in top
    assert 'aria-label="Breadcrumb"' in top and f"/modules/{module.slug}" not in top
    assert [state_label(s) for s in ("completed", "in_progress", None, "x")] == [
        "Completed",
        "In progress",
        "Not started",
        "Not started",
    ]
    roles = dict(
        is_instructor=False, is_teaching_assistant=False, is_administrator=False
    )
    learner = SimpleNamespace(**roles)
    assistant = SimpleNamespace(**{**roles, "is_teaching_assistant": True})
    assert instructor_note(learner, "/instructor/") == ""
    assert instructor_note(None, None) == ""
    note = str(instructor_note(assistant, "/instructor/?a=1&b=2"))
    assert note.startswith('<p class="note-instructor">You are seeing the module')
    assert '<a href="/instructor/?a=1&amp;b=2">Open the instructor view</a>' in note
    assert "instructor view" not in str(instructor_note(assistant, None))


def test_url_gives_what_url_for_gives_wherever_the_app_is_mounted(app):
    from flask import url_for

    from lms_plugin.url_cache import url

    calls = [
        ("learner.page", {"slug": "m01", "page_slug": "p 1/ü"}),
        ("learner.quiz", {"slug": "m01"}),
        ("learner.attempt", {"attempt_id": 7}),
        ("static", {"filename": "app.css"}),
        ("learner.catalog", {"_external": True}),  # not plain: left to url_for
    ]
    for root in ("", "/tools/lms"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in calls:
                twice = {url(endpoint, **values), url(endpoint, **values)}
                assert twice == {url_for(endpoint, **values)}, (root, endpoint)
            assert url("learner.quiz", slug="m01").startswith(f"{root}/learn/")


def test_overview_counts_attempts_and_offers_to_resume_one(learner, platform):
    client = learner
    overview = text(client.get(f"/learn/modules/{SLUG}"))
    assert "3 attempts left" in overview and "Go to the quiz" in overview
    attempt = start(client)
    overview = text(client.get(f"/learn/modules/{SLUG}"))
    assert "2 attempts left" in overview and "Resume the quiz" in overview
    submit(client, attempt, right=False)
    overview = text(client.get(f"/learn/modules/{SLUG}"))
    assert "2 attempts left" in overview and "Go to the quiz" in overview


def test_a_result_page_shows_the_credit_stored_at_submit(learner, monkeypatch):
    """A later change of a scoring rule never makes the page disagree with the total."""
    read_all(learner)
    attempt = start(learner)
    done = submit(learner, attempt, right=True)
    monkeypatch.setattr(base, "_points", lambda question: 0.0)  # scoring changed
    page = text(learner.get(done.location))
    assert "Attempt 1: 100%, passed" in page
    assert "Incorrect" not in page and "Not answered" not in page
    assert page.count("Correct (1 of 1)") >= 1


def test_signed_in_pages_are_no_store(client, platform, module):
    anonymous = client.get("/healthz")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    signing_in = launch_into(client, platform)  # sets the session cookie
    assert signing_in.headers["Cache-Control"] == "no-store"
    for path in (f"/learn/modules/{SLUG}", "/learn/", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_public_responses_keep_their_caching_when_signed_in(learner):
    jwks = learner.get("/lti/jwks")
    assert jwks.cache_control.public and jwks.cache_control.max_age == 300
    assert not jwks.cache_control.no_store
    static = learner.get("/static/app.css")
    assert static.status_code == 200
    assert not static.cache_control.no_store
