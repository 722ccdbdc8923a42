"""Factory functions: saved content and progress rows with sensible defaults.

Override only what a test cares about. Call them inside a database connection
(``database.connection_context()``) or a request.
"""

import itertools

from lms_plugin.content.publish_changes import QUIZ_DEFAULTS
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion

_numbers = itertools.count(1)

QUIZ = {
    "id": "quiz",
    "title": "Check your understanding",
    **QUIZ_DEFAULTS,  # what publishing fills in for a quiz.yaml that omits them
    "est_minutes": 5,
    "draw": [],
    "line_item": {"score_maximum": 100, "label": "Quiz"},
}


def make_course(**fields) -> Course:
    n = next(_numbers)
    values = {"slug": f"course-{n}", "title": f"Course {n}"}
    values.update(fields)
    return Course.create(**values)


def make_module(course=None, *, quiz=True, completion=None, **fields) -> Module:
    """A module with its version 1 (``quiz``: True for QUIZ, a dict, or None)."""
    course = course or make_course()
    n = next(_numbers)
    slug = fields.pop("slug", f"m{n:02d}-module")
    module = Module.create(
        course=course, slug=slug, position=fields.pop("position", n), content_hash="x"
    )
    settings = dict(QUIZ) if quiz is True else quiz
    ModuleVersion.create(
        module=module,
        number=1,
        content_hash="x",
        title=fields.pop("title", f"Module {n}"),
        summary_html="<p>A module.</p>",
        est_minutes=fields.pop("est_minutes", 30),
        objectives=[{"id": "o1", "text": "Do the thing.", "bloom": "apply"}],
        completion=completion or {"require_all_pages": True, "require_quiz_pass": True},
        quiz=settings,
        **fields,
    )
    return module


def make_page(module, *, position=None, **fields) -> Page:
    n = next(_numbers)
    values = {
        "course": module.course_id,
        "module": module,
        "slug": f"p{n:03d}",
        "position": position if position is not None else n,
        "title": f"Section {n}",
        "type": "lesson",
        "body_html": f"<h2>Part {n}</h2><p>Text of section {n}.</p>",
        "est_minutes": 5,
        "content_hash": "x",
    }
    values.update(fields)
    return Page.create(**values)


def single(qid: str, correct: str = "b", objective: str = "o1") -> dict:
    """A single-best-answer question's data (QuestionVersion.data contract)."""
    return {
        "id": qid,
        "type": "single",
        "objective": objective,
        "points": 1,
        "stem": f"Stem of {qid}?",
        "stem_html": f"<p>Stem of {qid}?</p>",
        "rationale": f"Rationale of {qid}.",
        "rationale_html": f"<p>Rationale of {qid}.</p>",
        "options": [
            {
                "id": oid,
                "text": f"Option {oid} of {qid}",
                "text_html": f"<p>Option {oid} of {qid}</p>",
                "correct": oid == correct,
                "feedback": f"Feedback {oid} of {qid}.",
                "feedback_html": f"<p>Feedback {oid} of {qid}.</p>",
            }
            for oid in "abcd"
        ],
    }


def make_question(module, data: dict | None = None, **fields) -> Question:
    """A bank question with its version 1 holding ``data``."""
    n = next(_numbers)
    data = data or single(f"q{n:03d}")
    question = Question.create(
        course=module.course_id,
        module=module,
        slug=data["id"],
        type=data["type"],
        objective=data.get("objective", "o1"),
        position=fields.pop("position", n),
        content_hash="x",
        **fields,
    )
    QuestionVersion.create(question=question, number=1, content_hash="x", data=data)
    return question


def make_quiz_module(pages: int = 2, questions: int = 4, **fields) -> Module:
    """A module with ``pages`` sections and a bank of single-answer questions."""
    module = make_module(**fields)
    for position in range(1, pages + 1):
        make_page(module, position=position)
    for position in range(1, questions + 1):
        make_question(module, single(f"{module.slug}-q{position}"), position=position)
    return module


def correct_form(questions: list[dict]) -> dict[str, list[str]]:
    """Form values answering every single-answer question correctly."""
    return {
        f"q.{q['id']}": [next(o["id"] for o in q["options"] if o["correct"])]
        for q in questions
    }


def wrong_form(questions: list[dict]) -> dict[str, list[str]]:
    """Form values answering every single-answer question wrongly."""
    return {
        f"q.{q['id']}": [next(o["id"] for o in q["options"] if not o["correct"])]
        for q in questions
    }


def item_answer(item: dict) -> dict[str, list[str]]:
    """Form values answering one scored item of any type correctly."""
    prefix = f"q.{item['id']}"
    kind = item["type"]
    if kind in ("single", "multiple"):
        return {prefix: [o["id"] for o in item["options"] if o["correct"]]}
    if kind == "true_false":
        return {prefix: ["true" if item["answer"] else "false"]}
    if kind == "matching":
        return {f"{prefix}.{p['id']}": [p["id"]] for p in item["pairs"]}
    if kind == "ordering":
        return {
            f"{prefix}.{it['id']}": [str(n)] for n, it in enumerate(item["items"], 1)
        }
    return {prefix: [item["answers"][0]]}  # short_text


def right_answers(questions: list[dict]) -> dict[str, list[str]]:
    """Form values answering every item of every type (case sets too) correctly."""
    form = {}
    for entry in questions:
        for item in entry.get("questions") or [entry]:
            form.update(item_answer(item))
    return form
