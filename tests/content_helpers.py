"""Factories for content tests: copies of the sample course to break on purpose."""

import shutil
import struct
import zlib
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


#: The stem of the sample's m01-q002, a question every attempt draws.
DRAWN_STEM = "stem: Feedback works best when it is given soon after the event."


def image_in_drawn_stem(course: Path, name: str, alt: str = "A clock") -> None:
    """Show ``assets/<name>`` at the end of m01-q002's stem in ``course``."""
    edit(
        module_dir(course) / "bank.yaml",
        DRAWN_STEM,
        f"{DRAWN_STEM} ![{alt}](assets/{name})",
    )


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line where ``fragment`` first appears in a file."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")


def png(width: int = 2, height: int = 2, colour=lambda x, y: (0, 90, 160)) -> bytes:
    """A real PNG (8-bit RGB), written with zlib: ``colour(x, y)`` gives each pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\0" + b"".join(bytes(colour(x, y)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


#: A tiny JPEG's first bytes (enough for the type check, not a whole picture).
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'
