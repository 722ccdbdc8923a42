"""A quiz from a bank of questions: drawing, presenting, parsing and scoring it.

Pure functions on plain data (no Flask, no database). Each question is handled
by its type (:func:`lms_plugin.questions.type_of`); a bank entry contributes its
scored items (itself, or a case set's children), and those are what a quiz
numbers, lays out and scores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from lms_plugin.questions import type_of
from lms_plugin.questions.base import Form
from lms_plugin.questions.base import ItemScore
from lms_plugin.questions.base import Question


@dataclass(frozen=True)
class QuizScore:
    """The total of an attempt."""

    items: tuple[ItemScore, ...]
    passing_percent: float

    @property
    def earned(self) -> float:
        return sum(item.earned for item in self.items)

    @property
    def possible(self) -> float:
        return sum(item.possible for item in self.items)

    @property
    def percent(self) -> float:
        return round(100.0 * self.earned / self.possible, 2) if self.possible else 0.0

    @property
    def passed(self) -> bool:
        return self.percent >= self.passing_percent


def scored_items(question: Question) -> list[Question]:
    """The items a bank entry contributes: itself, or a case set's children."""
    return type_of(question["type"]).scored_items(question)


def draw(
    bank: list[Question],
    rules: list[dict],
    rng: random.Random,
    shuffle_questions: bool = True,
) -> list[Question]:
    """Draw bank entries per objective: ``count`` scored items for each rule.

    Case sets are drawn whole and count as their number of children. Where case
    sets make an exact count impossible the draw overshoots rather than falls
    short. Entries keep bank order unless shuffled.
    """
    chosen: list[Question] = []
    for rule in rules:
        pool = [q for q in bank if q["objective"] == rule["objective"]]
        chosen.extend(_fill(pool, int(rule["count"]), rng))
    if shuffle_questions:
        rng.shuffle(chosen)
    else:
        order = {q["id"]: n for n, q in enumerate(bank)}
        chosen.sort(key=lambda q: order[q["id"]])
    return chosen


def _fill(pool: list[Question], count: int, rng: random.Random) -> list[Question]:
    """A random subset of ``pool`` whose scored items add up to ``count``.

    Subset-sum over the shuffled pool: the first way found to reach each total is
    kept, so with plain items this is a uniform random sample. Without an exact
    way, the smallest total above ``count`` wins, else the largest below.
    """
    pool = list(pool)
    rng.shuffle(pool)
    ways: dict[int, list[Question]] = {0: []}
    for question in pool:
        size = len(scored_items(question))
        for total, picked in list(ways.items()):
            ways.setdefault(total + size, picked + [question])
    if count in ways:
        return ways[count]
    above = [total for total in ways if total > count]
    return ways[min(above)] if above else ways[max(ways)]


def present(
    questions: list[Question], rng: random.Random, shuffle_options: bool = True
) -> dict[str, dict]:
    """Display orders for every scored item, keyed by question id."""
    layout = {}
    for entry in questions:
        for item in scored_items(entry):
            shuffle = shuffle_options and item.get("shuffle", True)
            layout[item["id"]] = type_of(item["type"]).present(item, rng, shuffle)
    return layout


def parse_response(item: Question, form: Form):
    """The learner's response to ``item`` from form values (``q.<id>`` fields).

    :raises AnswerError: a value the quiz's form cannot send.
    """
    return type_of(item["type"]).parse(item, form, f"q.{item['id']}")


def score(
    questions: list[Question], responses: dict[str, Any], passing_percent: float
) -> QuizScore:
    """Score every scored item of an attempt; a missing response earns nothing."""
    items = [
        type_of(item["type"]).score(item, responses.get(item["id"]))
        for entry in questions
        for item in scored_items(entry)
    ]
    return QuizScore(items=tuple(items), passing_percent=passing_percent)


def kept_percent(percents: list[float], policy: str) -> float | None:
    """The score a quiz keeps from its submitted attempts (oldest first)."""
    if not percents:
        return None
    if policy == "latest":
        return percents[-1]
    return max(percents)


def may_show_answers(
    policy: str, passed: bool, attempts_used: int, max_attempts: int
) -> bool:
    """Whether correct answers may be revealed after an attempt."""
    if policy == "after_submit":
        return True
    if policy == "after_pass_or_last_attempt":
        return passed or (max_attempts > 0 and attempts_used >= max_attempts)
    return False
