"""The authoring guide's example course is a real, valid course (the test fixture)."""

import re
from pathlib import Path

from lms_plugin.content.validate import validate_path
from tests.content_helpers import SAMPLE

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILE = re.compile(
    r"\*\*`(sample-course/[^`]+)`\*\*\n\n(`{3,4})\w*\n(.*?)\2\n", re.S
)


def test_guide_example_is_the_fixture_course_file_for_file():
    guide = (ROOT / "courses" / "README.md").read_text()
    shown = {path: text for path, _, text in EXAMPLE_FILE.findall(guide)}
    files = [p for p in SAMPLE.rglob("*") if p.is_file()]
    texts = [p for p in files if p.parent.name != "assets"]
    fixture = {str(p.relative_to(SAMPLE.parent)): p.read_text() for p in texts}
    assert shown == fixture
    for image in set(files) - set(texts):  # images cannot be shown: named
        assert f"**`{image.relative_to(SAMPLE.parent)}`**" in guide


def test_guide_example_passes_the_checker_without_warnings():
    assert validate_path(SAMPLE) == []
