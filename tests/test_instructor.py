"""The instructor view over HTTP, seeded by real signed launches and the learner
flow: progress by module, gradebook states and resend, CSV export, module links."""

import csv
import datetime
import io
import re

import pytest

from lms_plugin.db import database
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENT
from lms_plugin.models.passback import ScorePost
from lms_plugin.reports.export import safe_cell
from tests.factories import make_quiz_module
from tests.instructor_helpers import launch_as
from tests.instructor_helpers import row_of
from tests.instructor_helpers import take_quiz
from tests.instructor_helpers import text
from tests.instructor_helpers import user_of
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import TEACHING_ASSISTANT


@pytest.fixture
def module(app):
    with database.connection_context():
        return make_quiz_module(pages=1, questions=4, slug=SLUG, title="Feedback")


@pytest.fixture
def course(app, platform, module):
    """Three learners (100%, 0%, only launched) and an instructor, in course-1."""
    take_quiz(launch_as(app, platform, "s-1", LEARNER), right=True)
    take_quiz(launch_as(app, platform, "s-2", LEARNER), right=False)
    launch_as(app, platform, "s-3", LEARNER)
    return launch_as(app, platform, "teacher", INSTRUCTOR)


def score_of(sub: str) -> ScorePost:
    with database.connection_context():
        return ScorePost.get(ScorePost.user == user_of(sub))


def set_score(sub: str, **values) -> None:
    with database.connection_context():
        ScorePost.update(**values).where(ScorePost.user == user_of(sub)).execute()


def html_of(client) -> str:
    return text(client.get("/instructor/"))


def progress_part(client) -> str:
    """The dashboard's "Progress by module" section."""
    return text(client.get("/instructor/")).split('<h3 id="module-')[1]


def resend(client, row):
    url = f"/instructor/scores/{row.id}/resend"
    return client.post(url, data={"csrf_token": csrf(client)})


def test_dashboard_shows_learners_by_module(course):
    page = text(course.get("/instructor/"))
    html = page.split('<h3 id="module-')[1]
    assert "<caption" in html and "Learners in Feedback" in html
    first = row_of(html, "Person s-1")
    assert "In progress" in first and "100%" in first and "<td>1</td>" in first
    second = row_of(html, "Person s-2")
    assert "0%" in second and "<td>1</td>" in second
    third = row_of(html, "Person s-3")  # opened the module, no attempt
    assert "–" in third and "<td>0</td>" in third
    assert "Pending" in first and "Pending" in second  # queued, not yet sent
    assert "Question statistics for Feedback" in html
    overview = page.split('id="overview-caption"')[1]
    assert "In progress, 100%" in row_of(overview, "Person s-1")
    # Staff are on the roster but not graded.
    assert "Person teacher" in row_of(page, "Person teacher")  # roster
    with pytest.raises(AssertionError):
        row_of(html, "Person teacher")


def test_passback_states_and_reasons_are_shown(course):
    now = datetime.datetime(2026, 5, 1, 12, 30)
    set_score("s-1", status=SENT, sent_at=now)
    set_score("s-2", status=FAILED, attempts=8, last_error="HTTP 422: line item closed")
    html = progress_part(course)
    first, second = row_of(html, "Person s-1"), row_of(html, "Person s-2")
    assert "Sent" in first and "1 May 2026, 12:30 UTC" in first
    assert "Resend" not in first
    assert "Resend" not in row_of(html, "Person s-3")  # nothing queued
    assert "Failed" in second and "Platform said: HTTP 422: line item closed" in second
    assert f"/instructor/scores/{score_of('s-2').id}/resend" in second
    overview = html_of(course).split('id="overview-caption"')[1]
    assert "not in gradebook" in row_of(overview, "Person s-2")
    assert "not in gradebook" not in row_of(overview, "Person s-1")


def test_resend_requeues_a_failed_score(course):
    set_score("s-2", status=FAILED, attempts=8, last_error="HTTP 500")
    row = score_of("s-2")
    response = course.post(
        f"/instructor/scores/{row.id}/resend", data={"csrf_token": csrf(course)}
    )
    assert response.status_code == 303
    again = score_of("s-2")
    assert (again.status, again.attempts, again.last_error) == (PENDING, 0, None)
    assert "queued" in text(course.get("/instructor/"))


def test_resend_sends_a_pending_score_now(course):
    assert "Resend" not in row_of(progress_part(course), "Person s-1")  # fresh
    later = datetime.datetime(2099, 1, 1)
    set_score("s-1", attempts=3, next_attempt_at=later, last_error="HTTP 503")
    row = row_of(progress_part(course), "Person s-1")
    assert "Pending (tried 3 times)" in row and "Platform said: HTTP 503" in row
    assert "Resend" in row
    row = score_of("s-1")
    course.post(
        f"/instructor/scores/{row.id}/resend", data={"csrf_token": csrf(course)}
    )
    again = score_of("s-1")
    assert again.status == PENDING and again.attempts == 0
    assert again.next_attempt_at < later


def test_resend_leaves_a_sent_score_alone(course):
    set_score("s-1", status=SENT)
    row = score_of("s-1")
    course.post(
        f"/instructor/scores/{row.id}/resend", data={"csrf_token": csrf(course)}
    )
    assert score_of("s-1").status == SENT
    assert "nothing changed" in text(course.get("/instructor/"))


def test_resend_needs_the_csrf_token(course):
    set_score("s-2", status=FAILED)
    response = course.post(f"/instructor/scores/{score_of('s-2').id}/resend")
    assert response.status_code == 400
    assert score_of("s-2").status == FAILED


def test_csv_has_every_learner_and_module(course):
    set_score("s-2", status=FAILED, last_error='bad "quote", and comma')
    response = course.get("/instructor/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Email", "User ID"]
    by_sub = {row[2]: row for row in rows[1:]}
    assert set(by_sub) == {"s-1", "s-2", "s-3"}  # learners only
    assert by_sub["s-1"][4:9] == ["m01-test", "Feedback", "In progress", "100", "1"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", by_sub["s-1"][9])
    assert by_sub["s-2"][7] == "0"
    assert by_sub["s-2"][10:] == ["failed", 'bad "quote", and comma']
    assert by_sub["s-3"][7:9] == ["", "0"]


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"],
)
def test_csv_neutralises_formulas(app, platform, module, name):
    launch_as(app, platform, "evil", LEARNER, name=name)
    teacher = launch_as(app, platform, "teacher", INSTRUCTOR)
    body = teacher.get("/instructor/export.csv").data.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(body)) if r[2] == "evil")
    assert row[0] == "'" + name


def test_safe_cell_leaves_ordinary_values_alone():
    assert safe_cell("Ada") == "Ada"
    assert safe_cell(87.5) == "87.5"
    assert safe_cell(None) == ""
    assert safe_cell("-") == "'-"


@pytest.mark.parametrize("role", [INSTRUCTOR, TEACHING_ASSISTANT])
def test_module_pages_link_staff_to_the_instructor_view(app, platform, module, role):
    staff = launch_as(app, platform, "staff", role)
    assert 'href="/instructor/"' in text(staff.get(f"/learn/modules/{SLUG}"))
    learner = launch_as(app, platform, "s-1", LEARNER)
    assert "/instructor/" not in text(learner.get(f"/learn/modules/{SLUG}"))


def test_csv_file_name_is_ascii_whatever_the_course_label(app, platform, module):
    teacher = launch_as(app, platform, "teacher", INSTRUCTOR, course="Kurs ü 课 1")
    response = teacher.get("/instructor/export.csv")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="Kurs-----1-progress.csv"'
