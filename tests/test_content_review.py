"""The review record (review.yaml) and the content digest it names."""

import hashlib
import json
from pathlib import Path

import pytest

from lms_plugin.content.parse import content_digest
from lms_plugin.content.validate import validate_path
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import line_of
from tests.content_helpers import module_dir

CHECKS = (
    "clinical_accuracy",
    "legal_currency",
    "item_writing",
    "references_resolved",
    "inclusive_language",
)
WHO = "Course revision author (AI assistant)"


def record(digest: str, checks=CHECKS, sources="[ramani-2012]") -> str:
    """A review.yaml text with ``checks``, all by WHO on 2026-12-08."""
    lines = [
        "# Review record",
        f'content_digest: "{digest}"',
        "reviewed_on: 2026-12-08",
        "reviewers:",
        f'  - name: "{WHO}"',
        '    role: "author; not a licensed clinician"',
        "checks:",
    ]
    for name in checks:
        law = ", law_as_of: 2026-12-08" if name == "legal_currency" else ""
        lines.append(
            f'  {name}: {{checked_on: 2026-12-08, by: "{WHO}"{law}, '
            f'notes: "checked", sources: {sources}}}'
        )
    return "\n".join(lines) + "\n"


def by_hand(folder: Path) -> str:
    """The digest as the coordination note's one-liner computes it."""
    files = [
        (p.relative_to(folder).as_posix(), p)
        for p in folder.rglob("*")
        if p.is_file()
        and p.relative_to(folder).as_posix() != "review.yaml"
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return hashlib.sha256(
        b"".join(
            f"{rel}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode()
            for rel, p in sorted(files)
        )
    ).hexdigest()


@pytest.fixture
def course(tmp_path):
    return copy_sample(tmp_path)


def review_problems(course, strict=True):
    return [
        p
        for p in validate_path(course, strict=strict)
        if p.path.endswith("review.yaml")
    ]


def test_digest_follows_the_published_procedure(tmp_path):
    folder = tmp_path / "m01"
    (folder / "sub").mkdir(parents=True)
    (folder / "module.yaml").write_text("id: m01\n")
    (folder / "sub" / "b.md").write_bytes("é\n".encode())
    (folder / "a.md").write_text("a\n")
    lines = [
        f"{rel}\0{hashlib.sha256(data).hexdigest()}\n"
        for rel, data in sorted(
            [
                ("a.md", b"a\n"),
                ("module.yaml", b"id: m01\n"),
                ("sub/b.md", "é\n".encode()),
            ]
        )
    ]
    expected = hashlib.sha256("".join(lines).encode()).hexdigest()
    assert content_digest(folder) == expected == by_hand(folder)
    (folder / "review.yaml").write_text("reviewed_on: 2026-12-08\n")
    (folder / ".hidden").write_text("x")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("x")
    assert content_digest(folder) == expected, "review.yaml and dot-files left out"
    (folder / "sub" / "b.md").write_text("changed\n")
    assert content_digest(folder) != expected
    (folder / "sub" / "b.md").write_bytes("é\n".encode())
    (folder / "sub" / "b.md").rename(folder / "sub" / "c.md")
    assert content_digest(folder) != expected, "a renamed file changes the digest"


def test_digest_command_for_a_module_and_for_a_course(runner, course):
    folder = module_dir(course)
    result = runner.invoke(args=["content", "digest", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == by_hand(folder) + "\n"
    result = runner.invoke(args=["content", "digest", str(course)])
    assert result.output == f"{by_hand(folder)}  {folder.name}\n"
    result = runner.invoke(args=["content", "digest", str(course / "modules")])
    assert result.exit_code == 2 and "neither a module folder" in result.output


def test_a_missing_record_fails_only_strict(runner, course):
    assert review_problems(course, strict=False) == []
    (problem,) = review_problems(course)
    assert problem.severity == "warning" and problem.line == 1
    assert "module has no review record" in problem.message
    result = runner.invoke(args=["content", "validate", str(course), "--strict"])
    assert result.exit_code == 1 and "no review record" in result.output
    assert runner.invoke(args=["content", "validate", str(course)]).exit_code == 0


def test_a_whole_current_record_passes_strict(course):
    folder = module_dir(course)
    (folder / "review.yaml").write_text(record(content_digest(folder)))
    assert review_problems(course) == []


def test_a_changed_module_makes_the_record_stale(runner, course):
    folder = module_dir(course)
    (folder / "review.yaml").write_text(record(content_digest(folder)))
    edit(folder / "bank.yaml", "Good job today.", "Well done today.")
    (problem,) = review_problems(course)
    assert problem.severity == "warning"
    assert problem.line == 2, "the content_digest line"
    assert "older than the module" in problem.message
    assert content_digest(folder) in problem.message
    result = runner.invoke(
        args=["content", "validate", str(course), "--strict", "--json"]
    )
    rows = json.loads(result.output)["problems"]
    assert [r["line"] for r in rows if "older than" in r["message"]] == [2]
    assert review_problems(course, strict=False) == [], "only --strict asks"


def test_an_incomplete_record_is_reported_under_strict(course):
    folder = module_dir(course)
    text = record(content_digest(folder), checks=CHECKS[:3]).replace(
        ", law_as_of: 2026-12-08", ""
    )
    (folder / "review.yaml").write_text(text)
    messages = [p.message for p in review_problems(course)]
    assert messages == [
        "review record lacks the check(s) references_resolved, inclusive_language",
        "review check 'legal_currency' needs 'law_as_of': the date the law was "
        "checked as of",
    ]
    assert review_problems(course, strict=False) == []


def test_the_record_shape_is_checked_with_lines(course):
    folder = module_dir(course)
    path = folder / "review.yaml"
    text = record(content_digest(folder))
    text = text.replace("item_writing: {checked_on: 2026-12-08, ", "item_writing: {")
    text = text.replace(
        f'inclusive_language: {{checked_on: 2026-12-08, by: "{WHO}", ',
        "inclusive_language: {checked_on: 2026-13-40, ",
    )
    text = text.replace(
        "references_resolved: {checked_on: 2026-12-08, by: "
        f'"{WHO}", notes: "checked", sources: [ramani-2012]}}',
        "references_resolved: {checked_on: 2026-12-08, by: "
        f'"{WHO}", notes: "checked", sources: [no-such-ref]}}',
    )
    text += "  readability: {checked_on: 2026-12-08, by: someone}\n"
    path.write_text(text)
    problems = review_problems(course, strict=False)
    assert sorted((p.line, p.severity, p.message) for p in problems) == [
        (
            line_of(path, "item_writing"), "error",
            "review check 'item_writing' needs 'checked_on' (YYYY-MM-DD)",
        ),
        (
            line_of(path, "references_resolved"), "error",
            "review check 'references_resolved': source 'no-such-ref' is not a key "
            "in the module's or the course's references.yaml",
        ),
        (
            line_of(path, "inclusive_language"), "error",
            "review check 'inclusive_language' needs a non-empty 'by'",
        ),
        (
            line_of(path, "inclusive_language"), "error",
            "review check 'inclusive_language': checked_on '2026-13-40' is not a "
            "date; write YYYY-MM-DD",
        ),
        (
            line_of(path, "readability"), "error",
            "review record: unknown check 'readability'; use one of "
            + ", ".join(CHECKS),
        ),
    ]  # fmt: skip


def test_record_fields_and_reviewers_are_checked(course):
    folder = module_dir(course)
    path = folder / "review.yaml"
    text = record("abc123").replace("reviewed_on: 2026-12-08", "reviewed_on: soon")
    text = text.replace('notes: "checked"', 'notes: "checked", extra: 1', 1)
    text = text.replace(f'by: "{WHO}"', 'by: "Someone Else"', 1)
    path.write_text("signed: yes\n" + text)
    problems = [(p.line, p.severity, p.message) for p in review_problems(course)]
    first_check = line_of(path, "clinical_accuracy")
    assert sorted(problems) == [
        (1, "error", "review record: unknown field 'signed'; use content_digest, "
         "reviewed_on, reviewers, checks"),
        (3, "error", "review record: content_digest must be 64 lower-case hex digits; "
         "run `lms-plugin content digest` on the module folder"),
        (4, "error", "review record: reviewed_on 'soon' is not a date; write "
         "YYYY-MM-DD"),
        (first_check, "error", "review check 'clinical_accuracy': unknown field "
         "'extra'; use checked_on, by, notes, sources"),
        (first_check, "warning", "review check 'clinical_accuracy': by 'Someone "
         "Else' is not one of the reviewers"),
    ]  # fmt: skip


def test_a_course_level_reference_is_a_valid_source(course):
    folder = module_dir(course)
    new = "- key: course-ref\n  citation: X\n- key:"
    edit(course / "references.yaml", "- key:", new)
    text = record(content_digest(folder), sources="[course-ref, ende-1983]")
    (folder / "review.yaml").write_text(text)
    assert [p for p in review_problems(course) if "source" in p.message] == []
