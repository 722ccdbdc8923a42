"""Publish stage on both databases: upserts by stable id, versions, retirement,
and a database left exactly as it was whenever the content has an error."""

import logging
import shutil

import pytest

from lms_plugin.content.publish import publish_course
from lms_plugin.db import database
from lms_plugin.models.content import CONTENT_MODELS
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from tests.content_helpers import MODULE
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import module_dir


@pytest.fixture
def course(app, tmp_path):
    """A private copy of the sample course, with the app's database bound."""
    return copy_sample(tmp_path)


def publish(path):
    report = publish_course(path)
    assert report.ok, "\n".join(map(str, report.problems))
    return report


def snapshot() -> dict:
    """Every content row, as comparable data."""
    with database.connection_context():
        return {
            model.__name__: sorted(
                tuple(sorted((k, str(v)) for k, v in row.items()))
                for row in model.select().dicts()
            )
            for model in CONTENT_MODELS
        }


class _Writes(logging.Handler):
    def __init__(self):
        super().__init__()
        self.statements = []

    def emit(self, record):
        sql = str(record.msg[0] if isinstance(record.msg, tuple) else record.msg)
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.statements.append(sql)


@pytest.fixture
def writes():
    """SQL write statements issued while the test runs."""
    handler, logger = _Writes(), logging.getLogger("peewee")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.statements
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def questions() -> dict:
    with database.connection_context():
        return {q.slug: q for q in Question.select()}


def test_first_publish_adds_everything(course):
    report = publish(course)
    assert sorted(report.added) == [
        ("asset", "ask-tell-ask.png"),
        ("module", MODULE),
        ("page", "m01-p01"), ("page", "m01-p02"),
        ("question", "m01-q001"), ("question", "m01-q002"),
        ("question", "m01-q003"), ("question", "m01-q004"),
    ]  # fmt: skip
    with database.connection_context():
        module = Module.get(Module.slug == MODULE)
        version = module.current()
        assert version.objectives[1]["id"] == "m01-o2"
        assert version.quiz["passing_percent"] == 80 and version.quiz["draw"]
        assert version.completion == {
            "require_all_pages": True,
            "require_quiz_pass": True,
        }
        page = Page.get(Page.slug == "m01-p01")
        assert '<aside class="callout callout-pearl"' in page.body_html
        assert 'id="ref-m01-p01-1"' in page.body_html
        data = Question.get(Question.slug == "m01-q004").current().data
        assert data["questions"][1]["options"][0]["correct"] is True
        assert data["questions"][0]["rationale_html"].startswith("<p>The model")


def test_publishing_again_writes_nothing(course, writes):
    publish(course)
    before = snapshot()
    writes.clear()
    report = publish(course)
    assert writes == []
    assert report.added == report.changed == report.retired == []
    assert report.unchanged == {"module": 1, "page": 2, "question": 4}
    assert snapshot() == before


def test_same_content_in_changed_files_keeps_keys_and_versions(course, writes):
    publish(course)
    before = snapshot()
    bank = module_dir(course) / "bank.yaml"
    bank.write_text(
        "# a comment changes the file, not the content\n" + bank.read_text()
    )
    writes.clear()
    report = publish(course)
    assert report.added == report.changed == [] and report.unchanged["question"] == 4
    # One statement: the course row's upsert (its source hash); no item is written.
    assert [w.split()[:3] for w in writes] == [["INSERT", "INTO", '"course"']]
    after = snapshot()
    assert after["QuestionVersion"] == before["QuestionVersion"]
    assert after["Question"] == before["Question"] and after["Page"] == before["Page"]


def test_changing_one_question_versions_only_that_question(course):
    publish(course)
    old = questions()
    edit(
        module_dir(course) / "bank.yaml",
        "Praise without detail",
        "Praise with no detail",
    )
    report = publish(course)
    assert report.changed == [("question", "m01-q001")] and report.added == []
    new = questions()
    assert {s: q.id for s, q in new.items()} == {s: q.id for s, q in old.items()}
    assert {s: q.version for s, q in new.items()} == {
        "m01-q001": 2, "m01-q002": 1, "m01-q003": 1, "m01-q004": 1,
    }  # fmt: skip
    with database.connection_context():
        versions = list(
            QuestionVersion.select()
            .where(QuestionVersion.question == new["m01-q001"].id)
            .order_by(QuestionVersion.number)
        )
        assert QuestionVersion.select().count() == 5
        assert ModuleVersion.select().count() == 1
    feedback = [v.data["options"][0]["feedback"] for v in versions]
    assert feedback == [
        "Praise without detail gives nothing to repeat.",
        "Praise with no detail gives nothing to repeat.",
    ]


def test_changing_a_page_updates_it_in_place(course):
    publish(course)
    with database.connection_context():
        before = Page.get(Page.slug == "m01-p02")
    edit(
        module_dir(course) / "02-a-model-you-can-use.md",
        "one or two points",
        "two points",
    )
    report = publish(course)
    assert report.changed == [("page", "m01-p02")]
    with database.connection_context():
        after = Page.get(Page.slug == "m01-p02")
    assert after.id == before.id and "two points" in after.body_html
    assert after.content_hash != before.content_hash


def test_removed_question_is_retired_and_comes_back(course):
    publish(course)
    bank = module_dir(course) / "bank.yaml"
    original = bank.read_text()
    start, end = original.index("  - id: m01-q003"), original.index("  - id: m01-q004")
    bank.write_text(original[:start] + original[end:])
    report = publish(course)
    assert report.retired == [("question", "m01-q003")]
    assert report.changed == [] and report.moved == [("question", "m01-q004")]
    retired = questions()["m01-q003"]
    assert retired.retired_at is not None
    with database.connection_context():
        assert retired.versions.count() == 1  # learner attempts keep their version
    bank.write_text(original)
    report = publish(course)
    assert report.changed == [("question", "m01-q003")]
    back = questions()["m01-q003"]
    assert back.id == retired.id and back.retired_at is None and back.version == 1


def add_second_module(course):
    """Copy the sample module as m02-… with its own ids and list it."""
    source, target = module_dir(course), course / "modules" / "m02-giving-feedback"
    shutil.copytree(source, target)
    for path in target.iterdir():
        text = path.read_text().replace("m01-", "m02-")
        path.write_text(text.replace("ramani-2012", "ramani-2012b"))
    edit(
        course / "course.yaml",
        "  - m01-giving-feedback",
        "  - m01-giving-feedback\n  - m02-giving-feedback",
    )


def test_removed_module_is_retired_with_its_pages_and_questions(course):
    add_second_module(course)
    publish(course)
    edit(course / "course.yaml", "\n  - m02-giving-feedback", "")
    shutil.rmtree(course / "modules" / "m02-giving-feedback")
    report = publish(course)
    assert ("module", "m02-giving-feedback") in report.retired
    assert len(report.retired) == 1 + 2 + 4
    with database.connection_context():
        module = Module.get(Module.slug == "m02-giving-feedback")
        assert module.retired_at is not None
        assert [m.slug for m in Module.active()] == [MODULE]
        assert Question.select().count() == 8  # nothing deleted


def test_module_order_change_is_not_a_new_version(course):
    add_second_module(course)
    publish(course)
    edit(
        course / "course.yaml",
        "  - m01-giving-feedback\n  - m02-giving-feedback",
        "  - m02-giving-feedback\n  - m01-giving-feedback",
    )
    report = publish(course)
    assert report.changed == []
    assert sorted(report.moved) == [
        ("module", MODULE),
        ("module", "m02-giving-feedback"),
    ]
    with database.connection_context():
        assert [m.slug for m in Module.active()] == ["m02-giving-feedback", MODULE]
        assert ModuleVersion.select().count() == 2


def test_changed_question_type_is_refused(course):
    publish(course)
    before = snapshot()
    edit(
        module_dir(course) / "bank.yaml",
        "  - id: m01-q003\n    type: ordering",
        "  - id: m01-q003\n    type: multiple\n    options:\n"
        + "".join(
            f"      - {{id: {x}, text: '{x}', correct: {str(x == 'a').lower()}, "
            f"feedback: f}}\n"
            for x in "abcd"
        ),
    )
    report = publish_course(course)
    assert not report.ok
    (problem,) = [p for p in report.problems if p.is_error]
    assert "was published as 'ordering'; its type cannot change to 'multiple'" in (
        problem.message
    )
    assert problem.path.endswith("bank.yaml")
    assert snapshot() == before


BREAKAGES = {
    "malformed YAML": ("quiz.yaml", "passing_percent: 80", "passing_percent: [80"),
    "duplicate id": ("bank.yaml", "id: m01-q002", "id: m01-q001"),
    "unknown type": ("bank.yaml", "type: ordering", "type: ranking"),
    "script injection": ("01-what-good-feedback-looks-like.md", "## Feedback", "<script>x</script>\n\n## Feedback"),  # noqa: E501
    "javascript link": ("02-a-model-you-can-use.md", "## Ask", "[go](javascript:alert(1))\n\n## Ask"),  # noqa: E501
    "missing page id": ("02-a-model-you-can-use.md", "id: m01-p02\n", ""),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_bad_content_leaves_the_database_unchanged(course, name):
    publish(course)
    edit(module_dir(course) / "bank.yaml", "Praise without", "Praise with no")
    before = snapshot()
    filename, old, new = BREAKAGES[name]
    edit(module_dir(course) / filename, old, new)
    report = publish_course(course)
    assert not report.ok and report.added == report.changed == []
    errors = [p for p in report.problems if p.is_error]
    assert errors and all(p.line >= 1 for p in errors)
    assert any(p.path.endswith(filename) for p in errors)
    assert snapshot() == before  # not even the valid question edit went in


def test_invalid_utf8_and_oversized_files_leave_the_database_empty(course):
    (module_dir(course) / "01-what-good-feedback-looks-like.md").write_bytes(
        b"\xff\xfe"
    )
    report = publish_course(course, max_bytes=100_000)
    assert any("not valid UTF-8" in p.message for p in report.problems)
    edit(course / "course.yaml", "version: 1.0.0", "version: 1.0.0\n# " + "x" * 2000)
    report = publish_course(course, max_bytes=1000)
    assert any("the limit is 1,000" in p.message for p in report.problems)
    assert all(not rows for rows in snapshot().values())


def test_a_module_id_belongs_to_one_course(course, tmp_path):
    publish(course)
    other = copy_sample(tmp_path / "other", name="other-course")
    report = publish_course(other)
    assert not report.ok
    assert any(
        p.message == f"module id '{MODULE}' is already used by course 'sample-course'"
        for p in report.problems
    )
    with database.connection_context():
        assert [c.slug for c in Course.select()] == ["sample-course"]
