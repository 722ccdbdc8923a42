"""Published modules written straight into the content tables, for tests that
need modules without running the content pipeline."""

from lms_plugin.db import database
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion

QUIZ = {"title": "Check your understanding", "passing_percent": 80}


def make_module(
    slug: str,
    title: str,
    *,
    position: int = 1,
    minutes: int = 45,
    summary_html: str = "<p>What this module covers.</p>",
    objectives: list | None = None,
    line_item: dict | None = None,
    quiz: bool = True,
    retired: bool = False,
) -> Module:
    """A published module (version 1) in the course ``test-course``."""
    with database.connection_context():
        course, _ = Course.get_or_create(slug="test-course", defaults={"title": "Test"})
        module = Module.create(
            course=course,
            slug=slug,
            position=position,
            content_hash=slug,
            retired_at="2026-01-01 00:00:00" if retired else None,
        )
        quiz_settings = None
        if quiz:
            quiz_settings = dict(QUIZ, line_item=line_item or {
                "score_maximum": 100, "label": f"{title} quiz"
            })  # fmt: skip
        ModuleVersion.create(
            module=module,
            number=1,
            content_hash=slug,
            title=title,
            summary_html=summary_html,
            est_minutes=minutes,
            objectives=objectives
            or [
                {"id": f"{slug}-o1", "text": f"Explain {title}.", "bloom": "understand"}
            ],
            quiz=quiz_settings,
        )
    return module


def make_catalog() -> list[Module]:
    """Three published modules (one without a quiz) and one retired module."""
    return [
        make_module(
            "m01-feedback",
            "Giving feedback",
            position=1,
            minutes=60,
            summary_html="<p>Feedback that <em>lands</em> &amp; sticks.</p>",
            objectives=[
                {"id": "m01-o1", "text": "Describe the feedback loop.", "bloom": "x"},
                {"id": "m01-o2", "text": "Apply SBI feedback.", "bloom": "apply"},
            ],
            line_item={"score_maximum": 10, "label": "Feedback quiz"},
        ),
        make_module("m02-burnout", "Preventing burnout", position=2, minutes=30),
        make_module("m03-reflect", "Reflective practice", position=3, quiz=False),
        make_module("m00-old", "Retired module", position=0, retired=True),
    ]
