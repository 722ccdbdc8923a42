"""The quiz engine: question types, drawing a quiz from a bank, and scoring.

Pure functions on plain data (no Flask, no database). A question is the dict the
content pipeline stores in ``QuestionVersion.data`` (the shape of
``courses/FORMAT.md``); a response is what the learner submitted, already parsed
from the form by :func:`parse_response`. Each question type is one class in
``QUESTION_TYPES`` with the same small interface: ``parse``, ``score`` and
``present``.

Parsing is strict about what the quiz's own form can send. A value that form
could send but that earns nothing (an option id the question does not have, a
blank choice, one position picked twice) is a scored wrong answer. A value the
form can never send (two values for a one-answer field, a position that is not
one of its numbers, text longer than the input allows) raises
:class:`AnswerError`, which the learner sees as a 400 naming what was wrong.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field
from typing import Any

Question = dict[str, Any]


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


class AnswerError(ValueError):
    """A submitted answer no form of this quiz could have sent; the message says why."""


#: Longest short-text answer, as the input's ``maxlength`` says.
SHORT_TEXT_MAX = 500


def _one(form: dict[str, list[str]], name: str) -> str | None:
    """The single value of a one-answer field, or None when it was not sent."""
    values = form.get(name) or []
    if len(values) > 1:
        raise AnswerError(
            "A question that takes one answer was sent several. Reload the quiz "
            "page and answer it again."
        )
    return values[0] if values else None


def _points(question: Question) -> float:
    return float(question.get("points", 1))


class QuestionType:
    """Interface of a question type; subclasses override the three methods."""

    name = ""

    def parse(self, question: Question, form: dict[str, list[str]], prefix: str):
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


def _option_ids(question: Question) -> list[str]:
    return [option["id"] for option in question["options"]]


def _ordered(ids: list[str], rng: random.Random, shuffle: bool, question: Question):
    ids = list(ids)
    locked = {o["id"] for o in question.get("options", []) if o.get("lock_position")}
    if shuffle and not locked:
        rng.shuffle(ids)
    return ids


class SingleChoice(QuestionType):
    name = "single"

    def parse(self, question, form, prefix):
        value = _one(form, prefix)
        # An id the question does not have matches nothing: scored wrong.
        return value if value in _option_ids(question) else None

    def fraction(self, question, response):
        return float(
            any(o["id"] == response and o.get("correct") for o in question["options"])
        )

    def feedback(self, question, response):
        return (response,)

    def present(self, question, rng, shuffle):
        return {"options": _ordered(_option_ids(question), rng, shuffle, question)}


class MultipleResponse(QuestionType):
    """Partial credit: share of right options chosen − share of wrong ones, floor 0.

    Ticking every box earns nothing: it chooses all the right and all the wrong.
    """

    name = "multiple"

    def parse(self, question, form, prefix):
        # Checkboxes: any number of values; unknown and repeated ids are ignored.
        valid = set(_option_ids(question))
        chosen = sorted(set(form.get(prefix, [])) & valid)
        return chosen or None

    def fraction(self, question, response):
        chosen = set(response)
        correct = {o["id"] for o in question["options"] if o.get("correct")}
        if question.get("scoring") == "all_or_nothing":
            return float(chosen == correct)
        if not correct:
            return 0.0
        incorrect = set(_option_ids(question)) - correct
        right = len(chosen & correct) / len(correct)
        wrong = len(chosen & incorrect) / len(incorrect) if incorrect else 0.0
        return max(0.0, right - wrong)

    def feedback(self, question, response):
        return tuple(response)

    def present(self, question, rng, shuffle):
        return {"options": _ordered(_option_ids(question), rng, shuffle, question)}


class TrueFalse(QuestionType):
    name = "true_false"

    def parse(self, question, form, prefix):
        # Anything but "true" or "false" is no answer: scored wrong.
        return {"true": True, "false": False}.get(_one(form, prefix))

    def fraction(self, question, response):
        return float(response is bool(question["answer"]))

    def feedback(self, question, response):
        return ("true" if response else "false",)


class Matching(QuestionType):
    """Each prompt takes one choice; credit is the share of prompts matched.

    Choice keys are the id of the pair whose answer it is, or ``x<n>`` for the
    n-th distractor, so the form never carries the answer text's position.
    """

    name = "matching"

    def _choices(self, question) -> list[str]:
        pairs = [pair["id"] for pair in question["pairs"]]
        extra = [f"x{n}" for n, _ in enumerate(question.get("distractors", []))]
        return pairs + extra

    def parse(self, question, form, prefix):
        choices = set(self._choices(question))
        response = {}
        for pair in question["pairs"]:
            value = _one(form, f"{prefix}.{pair['id']}")
            if value in choices:  # an unknown choice leaves the prompt unmatched
                response[pair["id"]] = value
        return response or None

    def fraction(self, question, response):
        pairs = question["pairs"]
        return sum(response.get(p["id"]) == p["id"] for p in pairs) / len(pairs)

    def feedback(self, question, response):
        return tuple(p["id"] for p in question["pairs"] if p["id"] in response)

    def present(self, question, rng, shuffle):
        prompts = [pair["id"] for pair in question["pairs"]]
        choices = self._choices(question)
        if shuffle:
            rng.shuffle(prompts)
        rng.shuffle(choices)  # choices are always shuffled: the key is their order
        return {"prompts": prompts, "choices": choices}


class Ordering(QuestionType):
    """Items are authored in the correct order; credit is the share in place."""

    name = "ordering"

    def parse(self, question, form, prefix):
        ids = [item["id"] for item in question["items"]]
        positions = {str(n) for n in range(1, len(ids) + 1)}
        ranks = {}
        for item_id in ids:
            value = _one(form, f"{prefix}.{item_id}") or ""
            if value and value not in positions:
                # The form offers "1" to "n" only: never int() what it cannot send
                # ("²" and "٣" pass isdigit(), 5,000 digits overflow int()).
                raise AnswerError(
                    "An ordering answer had a position that is not one of 1 to "
                    f"{len(ids)}. Reload the quiz page and order the items again."
                )
            ranks[item_id] = int(value) if value else None
        if None in ranks.values() or len(set(ranks.values())) != len(ids):
            return None  # an item left unplaced, or a position used twice: no answer
        return sorted(ids, key=ranks.__getitem__)

    def fraction(self, question, response):
        correct = [item["id"] for item in question["items"]]
        if question.get("scoring") == "all_or_nothing":
            return float(response == correct)
        return sum(a == b for a, b in zip(response, correct, strict=True)) / len(
            correct
        )

    def feedback(self, question, response):
        return tuple(response)

    def present(self, question, rng, shuffle):
        correct = [item["id"] for item in question["items"]]
        order = list(correct)
        for _ in range(10):  # never show the answer as the starting order
            rng.shuffle(order)
            if order != correct:
                break
        return {"items": order}


def normalize_text(text: str) -> str:
    """Case-fold, drop punctuation and accents' compatibility forms, collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if unicodedata.category(ch).startswith("P") else ch for ch in text
    )
    return re.sub(r"\s+", " ", text).strip()


class ShortText(QuestionType):
    name = "short_text"

    def parse(self, question, form, prefix):
        value = (_one(form, prefix) or "").strip()
        if len(value) > SHORT_TEXT_MAX:
            raise AnswerError(
                f"A short answer is longer than {SHORT_TEXT_MAX} characters. "
                "Shorten it and submit again."
            )
        return value or None

    def fraction(self, question, response):
        accepted = {normalize_text(str(answer)) for answer in question["answers"]}
        return float(normalize_text(response) in accepted)

    def feedback(self, question, response):
        return ("correct" if self.fraction(question, response) else "incorrect",)


QUESTION_TYPES: dict[str, QuestionType] = {
    kind.name: kind()
    for kind in (
        SingleChoice,
        MultipleResponse,
        TrueFalse,
        Matching,
        Ordering,
        ShortText,
    )
}


def scored_items(question: Question) -> list[Question]:
    """The items a bank entry contributes: itself, or a case set's children."""
    if question["type"] == "case_set":
        return list(question["questions"])
    return [question]


def draw_quiz(
    bank: list[Question],
    draw: list[dict],
    rng: random.Random,
    shuffle_questions: bool = True,
) -> list[Question]:
    """Draw bank entries per objective: ``count`` scored items for each.

    Case sets are drawn whole and count as their number of children. Where case
    sets make an exact count impossible the draw overshoots rather than falls
    short. Entries keep bank order unless shuffled.
    """
    chosen: list[Question] = []
    for rule in draw:
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


def present_quiz(
    questions: list[Question], rng: random.Random, shuffle_options: bool = True
) -> dict[str, dict]:
    """Display orders for every scored item, keyed by question id."""
    layout = {}
    for entry in questions:
        for item in scored_items(entry):
            kind = QUESTION_TYPES[item["type"]]
            shuffle = shuffle_options and item.get("shuffle", True)
            layout[item["id"]] = kind.present(item, rng, shuffle)
    return layout


def parse_response(item: Question, form: dict[str, list[str]]):
    """The learner's response to ``item`` from form values (``q.<id>`` fields)."""
    return QUESTION_TYPES[item["type"]].parse(item, form, f"q.{item['id']}")


def score_quiz(
    questions: list[Question], responses: dict[str, Any], passing_percent: float
) -> QuizScore:
    """Score every scored item of an attempt; a missing response earns nothing."""
    items = []
    for entry in questions:
        for item in scored_items(entry):
            kind = QUESTION_TYPES[item["type"]]
            items.append(kind.score(item, responses.get(item["id"])))
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
