"""The problem collector every validation rule reports through, and shared shapes.

A :class:`Checker` gathers the problems about one authored file, each at a line,
with the two checks nearly every rule starts from (a non-empty text, a list of
mappings). ``ID`` is what every authored id looks like; ``BLOOM`` the levels an
objective or a question may name.
"""

from __future__ import annotations

import re

from lms_plugin.content.data import ERROR
from lms_plugin.content.data import WARNING
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.data import Problem

ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
BLOOM = ("remember", "understand", "apply", "analyze", "evaluate", "create")


class Checker:
    """Collects problems about one file, each at a line."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, ERROR))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, WARNING))

    def text(self, node: Node, key: str, label: str) -> str | None:
        """Require a non-empty text field; return it."""
        value = node.get(key)
        if isinstance(value, bool):
            message = f"{label}: '{key}' reads as true/false; put the text in quotes"
            self.error(node.line_of(key), message)
            return None
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(node.line_of(key), f"{label} needs a non-empty '{key}'")
            return None
        return value

    def items(self, node: Node, key: str, label: str, low: int, high: int):
        """Require a list of mappings; warn outside [low, high], error below 2."""
        value = node.get(key)
        if not isinstance(value, NodeList) or not value:
            self.error(node.line_of(key), f"{label} needs a '{key}' list")
            return []
        line = node.line_of(key)
        if len(value) < min(2, low):
            self.error(line, f"{label} has {len(value)} {key}; it needs at least 2")
        elif not low <= len(value) <= high:
            self.warn(line, f"{label} has {len(value)} {key}; use {low}–{high}")
        good = []
        for index, item in enumerate(value):
            if isinstance(item, Node):
                good.append(item)
            else:
                self.error(value.line_of(index), f"each of the {key} must be a mapping")
        return good
