"""Single best answer: one correct option among four or five."""

from __future__ import annotations

from lms_plugin.questions.base import one_value
from lms_plugin.questions.options import OptionsQuestion
from lms_plugin.questions.options import check_options
from lms_plugin.questions.options import option_ids


class SingleChoice(OptionsQuestion):
    name = "single"

    def check_rules(self, c, q, label):
        correct = check_options(c, q, label, 4, 5)
        if len(correct) != 1:
            c.error(
                q.line_of("options"),
                f"{label} (single) must have exactly one correct option; it has "
                f"{len(correct)}",
            )

    def parse(self, question, form, prefix):
        value = one_value(form, prefix)
        # An id the question does not have matches nothing: scored wrong.
        return value if value in option_ids(question) else None

    def fraction(self, question, response):
        return float(
            any(o["id"] == response and o.get("correct") for o in question["options"])
        )

    def feedback(self, question, response):
        return (response,)
