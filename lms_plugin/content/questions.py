"""Question types: the structural rules of each type and its normalized data.

A registry (type name -> checker) rather than an if-chain; ``normalize`` gives
the dict the database stores in ``QuestionVersion.data`` before rendering.
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
DIFFICULTY = ("easy", "medium", "hard")
SCORING = ("partial", "all_or_nothing")


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


def _check_entries(c: Checker, entries, label: str, text_key: str) -> None:
    """Every entry has a unique well-formed id, its text and its feedback."""
    seen = set()
    for entry in entries:
        entry_id = entry.get("id")
        where = entry.line
        if not isinstance(entry_id, str | int) or not ID.match(str(entry_id)):
            c.error(where, f"{label}: each entry needs an 'id' like a, b, c")
        elif str(entry_id) in seen:
            c.error(where, f"{label}: entry id '{entry_id}' is used twice")
        seen.add(str(entry_id))
        c.text(entry, text_key, f"{label}, entry '{entry_id}',")
        c.text(entry, "feedback", f"{label}, entry '{entry_id}',")


def _check_choices(c: Checker, q: Node, label: str, low: int, high: int) -> list:
    options = c.items(q, "options", label, low, high)
    _check_entries(c, options, label, "text")
    for option in options:
        if not isinstance(option.get("correct", False), bool):
            c.error(
                option.line_of("correct"), f"{label}: 'correct' must be true or false"
            )
    return [o for o in options if o.get("correct") is True]


def _check_single(c: Checker, q: Node, label: str) -> None:
    correct = _check_choices(c, q, label, 4, 5)
    if len(correct) != 1:
        c.error(
            q.line_of("options"),
            f"{label} (single) must have exactly one correct option; it has "
            f"{len(correct)}",
        )


def _check_multiple(c: Checker, q: Node, label: str) -> None:
    correct = _check_choices(c, q, label, 4, 7)
    options = q.get("options")
    if not correct and isinstance(options, list):
        c.error(q.line_of("options"), f"{label} (multiple) needs a correct option")
    elif isinstance(options, list) and len(correct) == len(options):
        c.warn(
            q.line_of("options"),
            f"{label} (multiple): every option is correct, so ticking every box "
            "earns full credit; add incorrect options",
        )
    _check_scoring(c, q, label)


def _check_scoring(c: Checker, q: Node, label: str) -> None:
    if "scoring" in q and q["scoring"] not in SCORING:
        c.error(q.line_of("scoring"), f"{label}: scoring must be one of {SCORING}")


def _check_true_false(c: Checker, q: Node, label: str) -> None:
    if not isinstance(q.get("answer"), bool):
        c.error(
            q.line_of("answer"), f"{label} (true_false) needs 'answer: true' or false"
        )
    _check_feedback_map(c, q, label, ("true", "false"))


def _check_feedback_map(c: Checker, q: Node, label: str, keys) -> None:
    feedback = q.get("feedback")
    if not isinstance(feedback, Node):
        wanted = ", ".join(keys)
        c.error(q.line_of("feedback"), f"{label} needs 'feedback' with {wanted}")
        return
    for key in keys:
        c.text(feedback, key, f"{label} feedback")


def _check_matching(c: Checker, q: Node, label: str) -> None:
    pairs = c.items(q, "pairs", label, 3, 6)
    _check_entries(c, pairs, label, "prompt")
    answers = [str(p.get("answer", "")).strip().casefold() for p in pairs]
    for pair in pairs:
        c.text(pair, "answer", f"{label}, pair '{pair.get('id')}',")
    distractors = q.get("distractors", [])
    if not isinstance(distractors, list) or not all(
        isinstance(d, str) for d in distractors
    ):
        c.error(
            q.line_of("distractors"), f"{label}: distractors must be a list of texts"
        )
        distractors = []
    texts = answers + [d.strip().casefold() for d in distractors]
    if len(set(texts)) != len(texts):
        c.error(q.line_of("pairs"), f"{label}: two answers or distractors are the same")
    _check_scoring(c, q, label)


def _check_ordering(c: Checker, q: Node, label: str) -> None:
    items = c.items(q, "items", label, 3, 7)
    _check_entries(c, items, label, "text")
    _check_scoring(c, q, label)


def normalize_answer(text: str) -> str:
    """Short-text match key: case-folded, no punctuation, spaces collapsed."""
    text = re.sub(r"[^\w\s]", "", str(text).casefold())
    return " ".join(text.split())


def _check_short_text(c: Checker, q: Node, label: str) -> None:
    answers = q.get("answers")
    if not isinstance(answers, list) or not answers:
        c.error(q.line_of("answers"), f"{label} (short_text) needs an 'answers' list")
    else:
        keys = [normalize_answer(a) for a in answers]
        if not all(keys):
            c.error(q.line_of("answers"), f"{label}: an accepted answer is empty")
        if len(set(keys)) != len(keys):
            c.warn(q.line_of("answers"), f"{label}: two answers match the same text")
    _check_feedback_map(c, q, label, ("correct", "incorrect"))


def _check_case_set(c: Checker, q: Node, label: str) -> None:
    children = c.items(q, "questions", label, 2, 4)
    objective = q.get("objective")
    for child in children:
        child_label = f"question '{child.get('id')}' in case set '{q.get('id')}'"
        if child.get("type") == "case_set":
            c.error(child.line_of("type"), f"{child_label} cannot itself be a case_set")
            continue
        if child.get("objective", objective) != objective:
            message = f"{child_label} must share the set's objective '{objective}'"
            c.error(child.line_of("objective"), message)
        check_fields(c, child, child_label, child=True)


QUESTION_TYPES = {
    "single": _check_single,
    "multiple": _check_multiple,
    "true_false": _check_true_false,
    "matching": _check_matching,
    "ordering": _check_ordering,
    "short_text": _check_short_text,
    "case_set": _check_case_set,
}


def check_fields(c: Checker, q: Node, label: str, child: bool = False) -> None:
    """Check a question's common fields, then its type's own rules."""
    qtype = q.get("type")
    if qtype not in QUESTION_TYPES:
        names = ", ".join(QUESTION_TYPES)
        c.error(
            q.line_of("type"), f"{label}: unknown question type {qtype!r}; use {names}"
        )
        return
    c.text(q, "stimulus" if qtype == "case_set" else "stem", label)
    if qtype != "case_set":  # a case set's rationales live on its children
        c.text(q, "rationale", label)
    if not child and not isinstance(q.get("objective"), str):
        c.error(q.line_of("objective"), f"{label} needs an 'objective'")
    points = q.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        c.error(q.line_of("points"), f"{label}: points must be a positive number")
    if q.get("bloom", "apply") not in BLOOM:
        c.warn(
            q.line_of("bloom"), f"{label}: bloom should be one of {', '.join(BLOOM)}"
        )
    if q.get("difficulty", "medium") not in DIFFICULTY:
        c.warn(
            q.line_of("difficulty"), f"{label}: difficulty should be easy|medium|hard"
        )
    QUESTION_TYPES[qtype](c, q, label)


def children(q: dict) -> list:
    """The child questions of a case set (empty for other types)."""
    items = q.get("questions") if q.get("type") == "case_set" else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def scored_count(q: dict) -> int:
    """How many scored items ``q`` counts as in a draw (case set: its children)."""
    return len(children(q)) if q.get("type") == "case_set" else 1


DEFAULT_SCORING = {"multiple": "partial", "matching": "partial", "ordering": "partial"}


def normalize(q: dict, objective: str | None = None) -> dict:
    """Plain-dict copy of a question with defaults filled in (points, scoring)."""
    data = _plain(q)
    if objective is not None:
        data.setdefault("objective", objective)
    data.setdefault("points", 1)
    if data.get("type") in DEFAULT_SCORING:
        data.setdefault("scoring", DEFAULT_SCORING[data["type"]])
    if data.get("type") == "case_set" and isinstance(data.get("questions"), list):
        data["questions"] = [
            normalize(child, data.get("objective")) for child in data["questions"]
        ]
    return data


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
