"""Ordering: put three to seven steps in order, each given its position."""

from __future__ import annotations

from lms_plugin.questions.base import AnswerError
from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import check_entries
from lms_plugin.questions.base import check_scoring
from lms_plugin.questions.base import one_value


class Ordering(QuestionType):
    """Items are authored in the correct order; credit is the share in place."""

    name = "ordering"
    default_scoring = "partial"
    entry_markdown = {"items": ("text", "feedback")}

    def check_rules(self, c, q, label):
        items = c.items(q, "items", label, 3, 7)
        check_entries(c, items, label, "text")
        check_scoring(c, q, label)

    def parse(self, question, form, prefix):
        ids = [item["id"] for item in question["items"]]
        positions = {str(n) for n in range(1, len(ids) + 1)}
        ranks = {}
        for item_id in ids:
            value = one_value(form, f"{prefix}.{item_id}") or ""
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
        in_place = sum(a == b for a, b in zip(response, correct, strict=True))
        return in_place / len(correct)

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
