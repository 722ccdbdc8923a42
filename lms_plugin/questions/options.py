"""Questions answered by choosing among options: what single and multiple share.

Their options are authored as ``{id, text, correct, feedback}``; the learner sees
them shuffled unless the question says ``shuffle: false`` or an option is locked
in place (``lock_position``, for options like "none of these" that read last).
"""

from __future__ import annotations

from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Node
from lms_plugin.questions.base import Question
from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import check_entries


class OptionsQuestion(QuestionType):
    """A question whose parts are its options, shown in one shuffled list."""

    entry_markdown = {"options": ("text", "feedback")}

    def present(self, question, rng, shuffle):
        ids = option_ids(question)
        locked = {o["id"] for o in question["options"] if o.get("lock_position")}
        if shuffle and not locked:
            rng.shuffle(ids)
        return {"options": ids}


def option_ids(question: Question) -> list[str]:
    return [option["id"] for option in question["options"]]


def check_options(c: Checker, q: Node, label: str, low: int, high: int) -> list:
    """Check the options; return the ones marked correct."""
    options = c.items(q, "options", label, low, high)
    check_entries(c, options, label, "text")
    for option in options:
        if not isinstance(option.get("correct", False), bool):
            c.error(
                option.line_of("correct"), f"{label}: 'correct' must be true or false"
            )
    return [o for o in options if o.get("correct") is True]
