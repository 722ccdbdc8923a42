"""Factories for content tests: copies of the sample course to break on purpose."""

import shutil
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "courses" / "sample-course"
MODULE = "m01-giving-feedback"


def copy_sample(tmp_path: Path, name: str = "sample-course") -> Path:
    """A private copy of the sample course under tmp_path/courses/."""
    target = tmp_path / "courses" / name
    shutil.copytree(SAMPLE, target)
    if name != "sample-course":
        edit(target / "course.yaml", "id: sample-course", f"id: {name}")
    return target


def module_dir(course: Path, module: str = MODULE) -> Path:
    return course / "modules" / module


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file; fail loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line where ``fragment`` first appears in a file."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")
