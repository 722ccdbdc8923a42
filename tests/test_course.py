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
from lms_plugin.quizzes import scored_items

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
