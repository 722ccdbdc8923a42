"""What validation carries past one file, and the rules pages and questions share.

:class:`CourseIndex` accumulates the course-wide facts (ids taken, references)
while modules stream past; :class:`ModuleCheck` is one module's state (its
objectives, the references it may cite, its bank's pools). The reference-list,
citation and minutes rules apply to pages and questions alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from lms_plugin.content.checker import ID
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Assets
from lms_plugin.content.data import Module
from lms_plugin.content.data import Node
from lms_plugin.content.data import Problem
from lms_plugin.content.data import Reference
from lms_plugin.content.render import CITATION
from lms_plugin.content.render import cited_keys


@dataclass
class CourseIndex:
    """What validation of one module needs to know about the rest of the course."""

    references: dict[str, Reference] = field(default_factory=dict)  # course-wide
    reference_keys: dict[str, str] = field(default_factory=dict)  # key -> "path:line"
    ids: dict[str, str] = field(default_factory=dict)  # id -> "path:line"
    #: question id -> type as published (publish fills it to catch type changes)
    published_types: dict[str, str] = field(default_factory=dict)
    #: the course's assets/ folder, which images must come from
    assets: Assets | None = None

    def claim(self, c: Checker, value, line: int, what: str) -> bool:
        """Register a course-wide id; report malformed or duplicate ones."""
        if not isinstance(value, str) or not ID.match(value):
            c.error(
                line,
                f"{what} id {value!r} must be lower-case letters, digits and '-', "
                "starting with a letter or digit",
            )
            return False
        if value in self.ids:
            c.error(line, f"{what} id '{value}' is already used at {self.ids[value]}")
            return False
        self.ids[value] = f"{c.path}:{line}"
        return True


@dataclass
class ModuleCheck:
    """One module's checker state: its objectives, usable references, pools."""

    module: Module
    index: CourseIndex
    objectives: dict[str, int] = field(default_factory=dict)  # id -> line
    references: dict[str, Reference] = field(default_factory=dict)
    pool: Counter = field(default_factory=Counter)  # objective -> scored items
    problems: list[Problem] = field(default_factory=list)
    strict: bool = False  # run the release measures too (--strict)

    def checker(self, path: str) -> Checker:
        c = Checker(path)
        c.problems = self.problems
        return c


def require_minutes(c: Checker, node: Node, label: str) -> int:
    """The whole minutes ``est_minutes`` states (0, reported, when it does not)."""
    minutes = node.get("est_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        c.error(
            node.line_of("est_minutes"),
            f"{label} needs 'est_minutes' (whole minutes > 0)",
        )
        return 0
    return minutes


def check_reference_list(m: ModuleCheck, c: Checker, node: Node, label: str) -> list:
    """The keys ``node`` lists under ``references``; report unknown ones."""
    listed = node.get("references", [])
    if not isinstance(listed, list):
        c.error(
            node.line_of("references"), f"{label}: references must be a list of keys"
        )
        return []
    for key in listed:
        if not isinstance(key, str):
            c.error(
                node.line_of("references"),
                f"{label}: each reference is a key from references.yaml",
            )
        elif key not in m.references:
            c.error(
                node.line_of("references"),
                f"{label}: reference '{key}' is not in any references.yaml",
            )
    return listed


def check_citations(
    m: ModuleCheck, c: Checker, text, line: int, label: str, listed=None
) -> None:
    """Report citations in ``text`` of unknown keys (or, for a page, unlisted ones)."""
    if not isinstance(text, str):
        return
    for match in CITATION.finditer(text):
        where = line + text.count("\n", 0, match.start())
        for key in cited_keys(match.group(0)):
            if key not in m.references:
                c.error(
                    where,
                    f"{label} cites [@{key}], which is not in any references.yaml",
                )
            elif listed is not None and key not in listed:
                c.warn(
                    where,
                    f"{label} cites [@{key}]; add it to the page's references list",
                )
