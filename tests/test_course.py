"""The course in courses/ stays whole: it validates strictly, publishes, and
cannot silently shrink (modules, questions, objectives covered, references)."""

from collections import Counter
from pathlib import Path

import pytest

from lms_plugin.content.publish import publish_path
from lms_plugin.content.validate import validate_path
from lms_plugin.db import database
from lms_plugin.models.content import Module
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import Reference
from lms_plugin.questions.quiz import scored_items

COURSES = Path(__file__).resolve().parent.parent / "courses"
RICH = {"m02-healthcare-system", "m04-professionalism-empathy"}


def test_course_validates_strictly_with_no_problems():
    problems = validate_path(COURSES)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_course_has_no_strict_warnings():
    """Issue 15's release measures (review records, key-length rank, ages, pool
    depth, references, absolute words) and every other warning: none."""
    found = validate_path(COURSES, strict=True)
    assert found == [], "\n".join(str(p) for p in found)


@pytest.fixture
def published(app):
    with app.app_context(), database.connection_context():
        reports = publish_path(COURSES)
        assert all(report.ok for report in reports), reports
        yield


def test_curriculum_size(published):
    modules = list(Module.active())
    assert [m.slug[:3] for m in modules] == [f"m0{n}" for n in range(1, 8)]
    questions = list(Question.select().where(Question.retired_at.is_null()))
    assert len(questions) >= 120, "about 130 questions in all"
    assert Reference.select().count() >= 100
    assert Page.select().count() >= 50


def test_every_module_teaches_and_assesses_each_objective(published):
    drawn = 0
    for module in Module.active():
        version = module.current()
        objectives = {o["id"] for o in version.objectives}
        items = Counter()
        for question in module.questions:
            for item in scored_items(question.current().data):
                items[item["objective"]] += 1
        taught = {o for page in module.pages for o in page.objectives}
        assert objectives <= taught, f"{module.slug}: objectives without a page"
        assert all(items[o] >= 2 for o in objectives), (module.slug, items)
        quiz = version.quiz
        assert quiz and quiz["passing_percent"] == 80
        for rule in quiz["draw"]:
            assert items[rule["objective"]] >= rule["count"], (module.slug, rule)
        drawn += sum(rule["count"] for rule in quiz["draw"])
        low, high = (105, 130) if module.slug in RICH else (45, 60)
        assert low <= version.est_minutes <= high, (module.slug, version.est_minutes)
        types = {page.type for page in module.pages}
        assert {"case", "summary"} <= types, module.slug
        case_html = " ".join(p.body_html for p in module.pages if p.type == "case")
        assert "callout-mentor" in case_html and "callout-mentee" in case_html
    assert 70 <= drawn <= 80, "about 74 questions drawn into the seven quizzes"


def test_item_statistics_render_for_every_module(app):
    """A learner takes every module's quiz; the instructor's statistics page of each
    module renders with the course's real items (issue 15's check)."""
    from tests.instructor_helpers import launch_as
    from tests.learner_helpers import csrf
    from tests.learner_helpers import start
    from tests.lti_platform import INSTRUCTOR
    from tests.lti_platform import LEARNER
    from tests.lti_platform import TestPlatform

    with app.app_context(), database.connection_context():  # not around requests
        assert all(report.ok for report in publish_path(COURSES))
        slugs = [m.slug for m in Module.active()]
    platform = TestPlatform()
    platform.register()
    for slug in slugs:
        learner = launch_as(
            app, platform, "learner-1", LEARNER, custom={"module_id": slug},
            link=f"link-{slug}",
        )  # fmt: skip
        attempt = start(learner, slug)
        blank = {"action": "submit", "csrf_token": csrf(learner)}  # all unanswered
        assert (
            learner.post(f"/learn/attempts/{attempt.id}", data=blank).status_code == 303
        )
    instructor = launch_as(app, platform, "teacher-1", INSTRUCTOR)
    for slug in slugs:
        page = instructor.get(f"/instructor/modules/{slug}/statistics")
        assert page.status_code == 200, slug
        assert "1 submitted attempt by learners" in page.get_data(as_text=True)
