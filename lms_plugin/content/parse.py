"""Parse stage: course files into plain data (see ``data.py``); no database.

Reading never raises on bad input: unreadable, oversized, non-UTF-8 or malformed
files become :class:`Problem` records with file and line, and parsing goes on so the
author sees every problem at once. Modules are parsed one at a time
(:func:`iter_modules`) so memory stays flat however large the course is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

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

#: Default per-file size limit (CONTENT_MAX_FILE_BYTES overrides it).
MAX_FILE_BYTES = 1_000_000

#: The review record beside module.yaml (courses/FORMAT.md, "review.yaml").
REVIEW_FILE = "review.yaml"
MODULE_FILES = ("module.yaml", "quiz.yaml", "bank.yaml", "references.yaml", REVIEW_FILE)

PAGE_NAME = re.compile(r"^\d{2}-[a-z0-9-]+\.md$")
FRONT_MATTER_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """Safe YAML loading that keeps line numbers and reports duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


def _key_text(key) -> str:
    # YAML reads `true:` as a boolean key; FORMAT.md means the word.
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _construct_mapping(loader: _LineLoader, node) -> Node:
    loader.flatten_mapping(node)
    mapping = Node(line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = _key_text(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicates.append((key, line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node) -> NodeList:
    items = NodeList(line=node.start_mark.line + 1)
    for child in node.value:
        items.append(loader.construct_object(child, deep=True))
        items.lines.append(child.start_mark.line + 1)
    return items


def _construct_timestamp(loader: _LineLoader, node) -> str:
    # Dates stay the text the author wrote: JSON-safe and hash-stable.
    return node.value


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_text(path: Path, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 file, or say why it cannot be used."""
    where = display_path(path)
    if not path.is_file():
        return None, [Problem(where, 1, "file is missing")]
    size = path.stat().st_size
    if size > max_bytes:
        return None, [
            Problem(where, 1, f"file is {size:,} bytes; the limit is {max_bytes:,}")
        ]
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        message = (
            f"file is not valid UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8"
        )
        return None, [Problem(where, line, message)]


def load_yaml(text: str, where: str, first_line: int = 1):
    """Parse YAML text into Node/NodeList values; return (value, problems)."""
    loader = _LineLoader(text)
    try:
        value = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line if mark else 0) + first_line
        reason = error.problem or error.context or "invalid YAML"
        return None, [Problem(where, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as error:
        return None, [Problem(where, first_line, f"YAML error: {error}")]
    finally:
        loader.dispose()
    problems = [
        Problem(where, line + first_line - 1, f"key '{key}' appears twice")
        for key, line in loader.duplicates
    ]
    _shift_lines(value, first_line - 1)
    return value, problems


def _shift_lines(value, offset: int) -> None:
    if not offset or not isinstance(value, Node | NodeList):
        return
    value.line += offset
    if isinstance(value, Node):
        value.lines = {k: v + offset for k, v in value.lines.items()}
        children = value.values()
    else:
        value.lines = [v + offset for v in value.lines]
        children = value
    for child in children:
        _shift_lines(child, offset)


def load_yaml_file(path: Path, max_bytes: int, kind=Node):
    """Read and parse a YAML file that must hold a ``kind`` (mapping or list)."""
    text, problems = read_text(path, max_bytes)
    if text is None:
        return None, problems
    where = display_path(path)
    value, more = load_yaml(text, where)
    problems += more
    if value is not None and not isinstance(value, kind):
        wanted = "a mapping of fields" if kind is Node else "a list"
        problems.append(Problem(where, 1, f"file must hold {wanted}"))
        value = None
    return value, problems


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
