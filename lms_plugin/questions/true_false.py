"""True or false: one statement, a feedback text for each answer."""

from __future__ import annotations

from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import check_feedback_map
from lms_plugin.questions.base import one_value


class TrueFalse(QuestionType):
    name = "true_false"

    def check_rules(self, c, q, label):
        if not isinstance(q.get("answer"), bool):
            c.error(
                q.line_of("answer"),
                f"{label} (true_false) needs 'answer: true' or false",
            )
        check_feedback_map(c, q, label, ("true", "false"))

    def parse(self, question, form, prefix):
        # Anything but "true" or "false" is no answer: scored wrong.
        return {"true": True, "false": False}.get(one_value(form, prefix))

    def fraction(self, question, response):
        return float(response is bool(question["answer"]))

    def feedback(self, question, response):
        return ("true" if response else "false",)
