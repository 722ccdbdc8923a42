"""``lms-plugin content`` commands and publishing on start."""

import json
import logging
import re
from pathlib import Path

from lms_plugin.db import database
from lms_plugin.models.content import Course
from tests.content_helpers import SAMPLE
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import module_dir

ROOT = Path(__file__).resolve().parent.parent


def run(runner, *args):
    return runner.invoke(args=["content", *map(str, args)])


def test_validate_clean_course(runner):
    result = run(runner, "validate", SAMPLE)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 error(s), 0 warning(s)"


def test_validate_lists_problems_and_fails_on_errors(runner, tmp_path):
    course = copy_sample(tmp_path)
    edit(module_dir(course) / "bank.yaml", "type: ordering", "type: ranking")
    result = run(runner, "validate", course)
    assert result.exit_code == 1
    assert re.search(
        r"bank\.yaml:\d+: error: question 'm01-q003': unknown", result.output
    )


def test_warnings_fail_only_when_strict(runner, tmp_path):
    course = copy_sample(tmp_path)
    edit(
        module_dir(course) / "bank.yaml", "Patients usually like you.", "All of these."
    )
    result = run(runner, "validate", course)
    assert result.exit_code == 0 and "1 warning(s)" in result.output
    result = run(runner, "validate", course, "--strict")
    assert result.exit_code == 1 and "absolute word 'All'" in result.output


def test_validate_json(runner, tmp_path):
    course = copy_sample(tmp_path)
    edit(module_dir(course) / "module.yaml", "est_minutes: 20", "est_minutes: 60")
    result = run(runner, "validate", course, "--json")
    payload = json.loads(result.output)
    (problem,) = payload["problems"]
    assert problem["severity"] == "warning" and problem["line"] == 5
    assert problem["path"].endswith("module.yaml")


def test_validate_defaults_to_courses_dir(make_app, tmp_path):
    course = copy_sample(tmp_path)
    edit(module_dir(course) / "bank.yaml", "type: ordering", "type: ranking")
    runner = make_app(COURSES_DIR=str(course.parent)).test_cli_runner()
    assert run(runner, "validate").exit_code == 1


def test_publish_reports_what_changed(runner, tmp_path):
    course = copy_sample(tmp_path)
    first = run(runner, "publish", course)
    assert first.exit_code == 0, first.output
    assert "added: 1 asset(s), 1 module(s), 2 page(s), 4 question(s)" in first.output
    assert "    question m01-q004" in first.output
    second = run(runner, "publish", course)
    assert "added: nothing" in second.output
    assert "unchanged: 1 module(s), 2 page(s), 4 question(s)" in second.output
    edit(module_dir(course) / "bank.yaml", "type: ordering", "type: ranking")
    third = run(runner, "publish", course)
    assert third.exit_code == 1
    assert "sample-course: not published (1 error(s), 0 warning(s))" in third.output


def test_preview_writes_a_reviewer_site(runner, tmp_path):
    out = tmp_path / "preview"
    result = run(runner, "preview", SAMPLE, out)
    assert result.exit_code == 0, result.output
    assert (out / "app.css").read_text() == (
        ROOT / "lms_plugin/static/app.css"
    ).read_text()
    index = (out / "index.html").read_text()
    assert 'href="sample-course--m01-giving-feedback.html"' in index
    page = (out / "sample-course--m01-giving-feedback.html").read_text()
    assert "What good feedback looks like" in page  # a page
    assert '<aside class="callout callout-pearl"' in page
    assert "Praise without detail gives nothing to repeat." in page  # feedback
    assert page.count('<span class="key">Correct</span>') == 3  # keys shown
    assert "Accepted answers:</span> ask" in page
    assert "Rationale" in page and "<script" not in page


def test_preview_refuses_a_course_with_errors(runner, tmp_path):
    course = copy_sample(tmp_path)
    edit(module_dir(course) / "bank.yaml", "type: ordering", "type: ranking")
    result = run(runner, "preview", course, tmp_path / "out")
    assert result.exit_code == 1 and not (tmp_path / "out").exists()


def test_empty_database_publishes_courses_on_start(make_app, tmp_path):
    course = copy_sample(tmp_path)
    make_app(AUTO_PUBLISH=True, COURSES_DIR=str(course.parent))
    with database.connection_context():
        assert [c.slug for c in Course.select()] == ["sample-course"]


def test_broken_courses_never_stop_the_tool(make_app, tmp_path, caplog):
    course = copy_sample(tmp_path)
    edit(module_dir(course) / "bank.yaml", "type: ordering", "type: ranking")
    with caplog.at_level(logging.ERROR, logger="lms_plugin.content"):
        app = make_app(AUTO_PUBLISH=True, COURSES_DIR=str(course.parent))
    assert "course sample-course not published (1 errors)" in caplog.text
    assert app.test_client().get("/healthz").status_code == 200
    with database.connection_context():
        assert Course.select().count() == 0


def test_readme_documents_the_content_commands_and_settings():
    readme = (ROOT / "README.md").read_text()
    for text in (
        "lms-plugin content validate",
        "lms-plugin content publish",
        "lms-plugin content preview",
        "`AUTO_PUBLISH`",
        "`CONTENT_MAX_FILE_BYTES`",
        "`CONTENT_MAX_ASSET_BYTES`",
        "(courses/README.md)",
    ):
        assert text in readme
