"""Parse stage: course files into plain data (see ``data.py``); no database.

A course folder becomes a :class:`Course` (course.yaml, course-wide references,
what is in ``assets/``), each module folder a :class:`Module` (module.yaml, its
Markdown pages with front matter, quiz.yaml, bank.yaml, references.yaml and the
review record), and a folder's files a digest. Reading never raises on bad input:
unreadable, oversized, non-UTF-8 or malformed files become :class:`Problem`
records with file and line (``reading.py`` reads each file and its YAML), and
parsing goes on so the author sees every problem at once. Modules are parsed one
at a time (:func:`iter_modules`) so memory stays flat however large the course is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from lms_plugin.content.data import AssetFile
from lms_plugin.content.data import Assets
from lms_plugin.content.data import Course
from lms_plugin.content.data import Module
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.data import Page
from lms_plugin.content.data import Problem
from lms_plugin.content.data import Question
from lms_plugin.content.data import Reference
from lms_plugin.content.images import HEAD_BYTES
from lms_plugin.content.images import MAX_ASSET_BYTES
from lms_plugin.content.images import sniff
from lms_plugin.content.reading import display_path
from lms_plugin.content.reading import load_yaml
from lms_plugin.content.reading import load_yaml_file
from lms_plugin.content.reading import read_text

#: Default per-file size limit (CONTENT_MAX_FILE_BYTES overrides it).
MAX_FILE_BYTES = 1_000_000

#: The review record beside module.yaml (courses/FORMAT.md, "review.yaml").
REVIEW_FILE = "review.yaml"
MODULE_FILES = ("module.yaml", "quiz.yaml", "bank.yaml", "references.yaml", REVIEW_FILE)

PAGE_NAME = re.compile(r"^\d{2}-[a-z0-9-]+\.md$")
FRONT_MATTER_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Split ``---`` front matter from a page; return (yaml, body, body_line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if FRONT_MATTER_FENCE.match(lines[index]):
            front = "".join(lines[1:index])
            return front, "".join(lines[index + 1 :]), index + 2
    return None


def parse_page(path: Path, max_bytes: int) -> tuple[Page | None, list[Problem]]:
    """Parse one Markdown page with YAML front matter."""
    text, problems = read_text(path, max_bytes)
    if text is None:
        return None, problems
    where = display_path(path)
    parts = split_front_matter(text)
    if parts is None:
        message = "page must start with front matter between two '---' lines"
        return None, [*problems, Problem(where, 1, message)]
    front, body, body_line = parts
    meta, more = load_yaml(front or "{}", where, first_line=2)
    problems += more
    if not isinstance(meta, Node):
        if meta is not None or not more:
            problems.append(
                Problem(where, 2, "front matter must be fields (key: value)")
            )
        return None, problems
    page_id = meta.get("id")
    page = Page(
        id=page_id if isinstance(page_id, str) else "",
        meta=meta,
        body=body,
        path=where,
        line=meta.line_of("id"),
        body_line=body_line,
    )
    return page, problems


def parse_references(path: Path, max_bytes: int):
    """Parse a references.yaml list; return (references, problems)."""
    items, problems = load_yaml_file(path, max_bytes, kind=NodeList)
    where = display_path(path)
    refs = []
    for index, item in enumerate(items or []):
        if not isinstance(item, Node):
            line = items.line_of(index)
            problems.append(Problem(where, line, "each reference must be a mapping"))
            continue
        refs.append(
            Reference(
                key=str(item.get("key", "")),
                citation=item.get("citation") or "",
                url=item.get("url"),
                jurisdiction=item.get("jurisdiction"),
                path=where,
                line=item.line,
                data=item,
            )
        )
    return tuple(refs), problems


def parse_bank(path: Path, max_bytes: int):
    """Parse bank.yaml; return (questions, problems)."""
    bank, problems = load_yaml_file(path, max_bytes)
    if bank is None:
        return (), problems
    where = display_path(path)
    items = bank.get("questions")
    if not isinstance(items, NodeList):
        message = "bank.yaml must have a 'questions:' list"
        return (), [*problems, Problem(where, bank.line_of("questions"), message)]
    questions = []
    for index, item in enumerate(items):
        if not isinstance(item, Node):
            message = "each question must be a mapping of fields"
            problems.append(Problem(where, items.line_of(index), message))
            continue
        qid, qtype = item.get("id"), item.get("type")
        questions.append(
            Question(
                id=qid if isinstance(qid, str) else "",
                type=qtype if isinstance(qtype, str) else "",
                data=item,
                path=where,
                line=item.line,
            )
        )
    return tuple(questions), problems


def parse_module(course_root: Path, module_id: str, max_bytes: int) -> Module:
    """Parse one module folder."""
    folder = course_root / "modules" / module_id
    problems: list[Problem] = []
    meta, more = load_yaml_file(folder / "module.yaml", max_bytes)
    problems += more
    pages = []
    for path in sorted(folder.glob("*.md")):
        page, more = parse_page(path, max_bytes)
        problems += more
        if page is not None:
            pages.append(page)
    quiz, more = _optional_yaml(folder / "quiz.yaml", max_bytes)
    problems += more
    questions, more = _optional(parse_bank, folder / "bank.yaml", max_bytes)
    problems += more
    refs, more = _optional(parse_references, folder / "references.yaml", max_bytes)
    problems += more
    review, more = _optional_yaml(folder / REVIEW_FILE, max_bytes)
    problems += more
    return Module(
        id=module_id,
        folder=display_path(folder),
        meta=meta,
        pages=tuple(pages),
        quiz=quiz,
        questions=questions,
        references=refs,
        problems=tuple(problems),
        paths={name: display_path(folder / name) for name in MODULE_FILES},
        review=review,
        digest=content_digest(folder),
    )


def _optional_yaml(path: Path, max_bytes: int):
    if not path.exists():
        return None, []
    return load_yaml_file(path, max_bytes)


def _optional(parser, path: Path, max_bytes: int):
    if not path.exists():
        return (), []
    return parser(path, max_bytes)


def parse_assets(root: Path, max_bytes: int = MAX_ASSET_BYTES) -> Assets:
    """What each file directly in the course's ``assets/`` folder is (no bytes kept).

    Files over ``max_bytes`` are not hashed; validation reports them where used.
    """
    folder = Path(root) / "assets"
    found = {}
    if folder.is_dir():
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            found[path.name] = _asset_file(path, max_bytes)
    return Assets(folder=display_path(folder), files=found, max_bytes=max_bytes)


def _asset_file(path: Path, max_bytes: int) -> AssetFile:
    size = path.stat().st_size
    digest = None
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        if size <= max_bytes:
            digest = hashlib.sha256(head + handle.read()).hexdigest()
    return AssetFile(path.name, str(path), size, sniff(head), digest)


def parse_course(
    root: Path, max_bytes: int = MAX_FILE_BYTES, max_asset_bytes: int = MAX_ASSET_BYTES
) -> Course:
    """Parse course.yaml, course-wide references and what is in ``assets/``.

    Modules come lazily (:func:`iter_modules`).
    """
    root = Path(root)
    problems: list[Problem] = []
    meta, more = load_yaml_file(root / "course.yaml", max_bytes)
    problems += more
    refs, more = _optional(parse_references, root / "references.yaml", max_bytes)
    problems += more
    listed = meta.get("modules") if meta else None
    module_ids = tuple(m for m in listed if isinstance(m, str)) if listed else ()
    modules_dir = root / "modules"
    folders = (
        tuple(sorted(p.name for p in modules_dir.iterdir() if p.is_dir()))
        if modules_dir.is_dir()
        else ()
    )
    course_id = meta.get("id") if meta else None
    return Course(
        id=course_id if isinstance(course_id, str) else root.name,
        root=str(root),
        meta=meta,
        references=refs,
        module_ids=module_ids,
        module_folders=folders,
        problems=tuple(problems),
        assets=parse_assets(root, max_asset_bytes),
    )


def iter_modules(course: Course, max_bytes: int = MAX_FILE_BYTES) -> Iterator[Module]:
    """Yield the course's listed modules that exist, parsed one at a time."""
    root = Path(course.root)
    seen = set()
    for module_id in course.module_ids:
        if module_id in seen or module_id not in course.module_folders:
            continue
        seen.add(module_id)
        yield parse_module(root, module_id, max_bytes)


def find_courses(path: Path) -> list[Path]:
    """Course folders at ``path``: itself if it holds course.yaml, else its children."""
    path = Path(path)
    if (path / "course.yaml").is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if (p / "course.yaml").is_file())


def source_digest(root: Path, salt: str = "") -> str:
    """A hash of every file under a course folder (names and bytes)."""
    digest = hashlib.sha256(salt.encode())
    root = Path(root)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def content_digest(folder: Path) -> str:
    """The SHA-256 a module's review record names (``content_digest``).

    Every regular file under the module folder, recursively, except the module's
    own review.yaml and anything whose name starts with ``.``; sorted by POSIX path
    relative to the folder; one line ``<relpath>\\0<sha256 of the bytes>\\n`` each;
    the digest is the SHA-256 of those lines (UTF-8). Reviewers recompute it with
    ``lms-plugin content digest``, so the procedure must stay exactly this.
    """
    folder = Path(folder)
    lines = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == REVIEW_FILE:
            continue
        lines.append((rel.as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
    return hashlib.sha256(
        b"".join(f"{rel}\0{hexdigest}\n".encode() for rel, hexdigest in sorted(lines))
    ).hexdigest()
