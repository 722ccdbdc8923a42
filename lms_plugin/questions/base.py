"""What every question type shares: the interface, an item's score, the registry.

A question is the dict the content pipeline stores in ``QuestionVersion.data``
(the shape of ``courses/FORMAT.md``); authored, before publishing, it is the same
mapping as a :class:`~lms_plugin.content.data.Node` that knows its lines. A
response is what the learner submitted, parsed from the form by the type's
``parse``.

Parsing is strict about what the quiz's own form can send. A value that form
could send but that earns nothing (an option id the question does not have, a
blank choice, one position picked twice) is a scored wrong answer. A value the
form can never send (two values for a one-answer field, a position that is not
one of its numbers, text longer than the input allows) raises
:class:`AnswerError`, which the learner sees as a 400 naming what was wrong.

The authoring helpers below the interface are the rules several types share.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from lms_plugin.content.checker import BLOOM
from lms_plugin.content.checker import ID
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Node

Question = dict[str, Any]
Form = dict[str, list[str]]

DIFFICULTY = ("easy", "medium", "hard")
SCORING = ("partial", "all_or_nothing")


@dataclass(frozen=True)
class ItemScore:
    """The score of one scored item and what the learner chose on it."""

    question_id: str
    earned: float
    possible: float
    response: Any
    chosen_feedback: tuple[str, ...] = field(default=())

    @property
    def fraction(self) -> float:
        return self.earned / self.possible if self.possible else 0.0

    @property
    def is_correct(self) -> bool:
        return self.possible > 0 and self.earned >= self.possible


class AnswerError(ValueError):
    """A submitted answer no form of this quiz could have sent; the message says why."""


class QuestionType:
    """One kind of question: how it is authored, published, shown and scored.

    A subclass sets ``name`` (its partial is ``templates/questions/<name>.html``),
    adds its own authoring rules in ``check_rules``, and implements ``parse`` and
    ``fraction``; ``feedback`` and ``present`` when it has feedback keys or parts
    to order.
    """

    name = ""
    #: The Markdown field that opens the question.
    opening = "stem"
    #: Whether the question carries its own rationale.
    has_rationale = True
    #: The scoring a question of this type gets when it names none.
    default_scoring: str | None = None
    #: List field -> the inline Markdown fields of each of its entries.
    entry_markdown: dict[str, tuple[str, ...]] = {}

    # --- authoring ------------------------------------------------------------

    def check(self, c: Checker, q: Node, label: str, child: bool = False) -> None:
        """Check the fields every question has, then this type's own rules."""
        c.text(q, self.opening, label)
        if self.has_rationale:
            c.text(q, "rationale", label)
        if not child and not isinstance(q.get("objective"), str):
            c.error(q.line_of("objective"), f"{label} needs an 'objective'")
        points = q.get("points", 1)
        if (
            isinstance(points, bool)
            or not isinstance(points, int | float)
            or points <= 0
        ):
            c.error(q.line_of("points"), f"{label}: points must be a positive number")
        if q.get("bloom", "apply") not in BLOOM:
            c.warn(
                q.line_of("bloom"),
                f"{label}: bloom should be one of {', '.join(BLOOM)}",
            )
        if q.get("difficulty", "medium") not in DIFFICULTY:
            c.warn(
                q.line_of("difficulty"),
                f"{label}: difficulty should be easy|medium|hard",
            )
        self.check_rules(c, q, label)

    def check_rules(self, c: Checker, q: Node, label: str) -> None:
        """Report what is wrong with the fields only this type has."""

    def normalize(self, data: dict, objective: str | None) -> dict:
        """Fill in the defaults of a plain copy of a question, for publishing."""
        if objective is not None:
            data.setdefault("objective", objective)
        data.setdefault("points", 1)
        if self.default_scoring is not None:
            data.setdefault("scoring", self.default_scoring)
        return data

    def children(self, question: Question) -> list[Question]:
        """The questions this one holds (a case set's; none for the others)."""
        return []

    # --- the quiz -------------------------------------------------------------

    def scored_items(self, question: Question) -> list[Question]:
        """The items this question contributes to a quiz: itself."""
        return [question]

    def parse(self, question: Question, form: Form, prefix: str):
        """Turn submitted form values into this type's response (None if blank)."""
        raise NotImplementedError

    def fraction(self, question: Question, response) -> float:
        """Credit between 0 and 1 for ``response``."""
        raise NotImplementedError

    def feedback(self, question: Question, response) -> tuple[str, ...]:
        """Keys of the feedback the learner earned by ``response``."""
        return ()

    def present(self, question: Question, rng: random.Random, shuffle: bool) -> dict:
        """How to show the question: the display order of its parts."""
        return {}

    def score(self, question: Question, response) -> ItemScore:
        """Credit for ``response`` (None: not answered) and the feedback it earned."""
        credit = 0.0 if response is None else self.fraction(question, response)
        credit = min(1.0, max(0.0, credit))
        return ItemScore(
            question_id=question["id"],
            earned=credit * _points(question),
            possible=_points(question),
            response=response,
            chosen_feedback=()
            if response is None
            else self.feedback(question, response),
        )


def _points(question: Question) -> float:
    return float(question.get("points", 1))


class Registry(dict[str, QuestionType]):
    """Question types by name, in the order authors are told them.

    ``check`` and ``children`` take authored questions, whose type may be unknown
    (an author's mistake: reported, never a KeyError); ``normalize`` takes a
    question that passed validation.
    """

    def __init__(self, *kinds: QuestionType):
        super().__init__((kind.name, kind) for kind in kinds)

    def add(self, kind: QuestionType) -> None:
        self[kind.name] = kind

    def check(self, c: Checker, q: Node, label: str, child: bool = False) -> None:
        """Check an authored question as the type it names."""
        kind = self.kind_of(q)
        if kind is None:
            names = ", ".join(self)
            c.error(
                q.line_of("type"),
                f"{label}: unknown question type {q.get('type')!r}; use {names}",
            )
            return
        kind.check(c, q, label, child)

    def normalize(self, q: dict, objective: str | None = None) -> dict:
        """Plain-dict copy of a valid question with defaults filled in."""
        return self[q["type"]].normalize(_plain(q), objective)

    def children(self, q: dict) -> list:
        """The child questions of an authored question (none when not a case set)."""
        kind = self.kind_of(q)
        return kind.children(q) if kind is not None else []

    def kind_of(self, q: dict) -> QuestionType | None:
        """The type an authored question names; None if it names none of them."""
        name = q.get("type")
        return self.get(name) if isinstance(name, str) else None


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def one_value(form: Form, name: str) -> str | None:
    """The single value of a one-answer field, or None when it was not sent."""
    values = form.get(name) or []
    if len(values) > 1:
        raise AnswerError(
            "A question that takes one answer was sent several. Reload the quiz "
            "page and answer it again."
        )
    return values[0] if values else None


# --- authoring rules several types share ----------------------------------------


def check_entries(c: Checker, entries, label: str, text_key: str) -> None:
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


def check_scoring(c: Checker, q: Node, label: str) -> None:
    """A ``scoring`` the author named is one there is."""
    if "scoring" in q and q["scoring"] not in SCORING:
        c.error(q.line_of("scoring"), f"{label}: scoring must be one of {SCORING}")


def check_feedback_map(c: Checker, q: Node, label: str, keys) -> None:
    """A ``feedback`` mapping with a text for each of ``keys``."""
    feedback = q.get("feedback")
    if not isinstance(feedback, Node):
        wanted = ", ".join(keys)
        c.error(q.line_of("feedback"), f"{label} needs 'feedback' with {wanted}")
        return
    for key in keys:
        c.text(feedback, key, f"{label} feedback")
