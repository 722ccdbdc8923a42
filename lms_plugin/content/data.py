"""The plain data the pipeline stages pass to each other: frozen dataclasses, no DB.

Parsed YAML mappings are :class:`Node` dicts that remember the line of every key, so
any stage can point an author at the exact line of a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the authored files, with where it is."""

    path: str
    line: int
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


class Node(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    def __init__(self, *args, line: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        self.lines: dict = {}

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the mapping when the key is absent."""
        return self.lines.get(key, self.line)


class NodeList(list):
    """A YAML sequence that remembers its own line and the line of each item."""

    def __init__(self, *args, line: int = 0):
        super().__init__(*args)
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        """The line of item ``index``."""
        return self.lines[index] if index < len(self.lines) else self.line


def line_of(value, key=None, default: int = 1) -> int:
    """The line of ``value`` (or of its ``key``) when it is a parsed node."""
    if key is not None and isinstance(value, Node | NodeList):
        return value.line_of(key) or default
    return getattr(value, "line", 0) or default


@dataclass(frozen=True)
class Reference:
    """A citable source: ``[@key]`` in Markdown points here."""

    key: str
    citation: str
    url: str | None
    jurisdiction: str | None
    path: str
    line: int
    data: Node = field(compare=False, repr=False)


@dataclass(frozen=True)
class Page:
    """One Markdown page: front matter fields plus the Markdown body."""

    id: str
    meta: Node = field(repr=False)
    body: str = field(repr=False)
    path: str = ""
    line: int = 1
    body_line: int = 1  # file line of the body's first line


@dataclass(frozen=True)
class Question:
    """One bank item, as authored (``data`` is the FORMAT.md question mapping)."""

    id: str
    type: str
    data: Node = field(repr=False)
    path: str = ""
    line: int = 1


@dataclass(frozen=True)
class Module:
    """One module folder: metadata, pages in order, quiz, bank and references."""

    id: str
    folder: str
    meta: Node | None = field(repr=False)
    pages: tuple[Page, ...] = ()
    quiz: Node | None = field(default=None, repr=False)
    questions: tuple[Question, ...] = ()
    references: tuple[Reference, ...] = ()
    problems: tuple[Problem, ...] = ()  # found while reading the files
    paths: dict = field(default_factory=dict, compare=False, repr=False)
    review: Node | None = field(default=None, repr=False)  # review.yaml, if any
    digest: str = ""  # content_digest of the folder as parsed ("" without files)


@dataclass(frozen=True)
class AssetFile:
    """A file in a course's ``assets/`` folder, as found on disk (bytes not kept)."""

    name: str  # the file name, as ``assets/<name>`` refers to it
    path: str  # where it is, for messages and for publish to read it
    size: int
    kind: str | None  # what its first bytes are (images.sniff), None: not an image
    digest: str | None  # SHA-256 of the bytes; None when over the size limit


@dataclass(frozen=True)
class Assets:
    """A course's ``assets/`` folder: its files by name, and the size limit."""

    folder: str  # the folder's display path
    files: Mapping[str, AssetFile] = field(default_factory=dict)
    max_bytes: int = 0


@dataclass(frozen=True)
class Course:
    """A course folder: metadata, course-wide references, the module list."""

    id: str
    root: str
    meta: Node | None = field(repr=False)
    references: tuple[Reference, ...] = ()
    module_ids: tuple[str, ...] = ()
    module_folders: tuple[str, ...] = ()  # folders present under modules/
    problems: tuple[Problem, ...] = ()
    assets: Assets | None = field(default=None, repr=False)
