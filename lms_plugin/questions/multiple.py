"""Multiple response: tick every option that applies (four to seven)."""

from __future__ import annotations

from lms_plugin.questions.base import check_scoring
from lms_plugin.questions.options import OptionsQuestion
from lms_plugin.questions.options import check_options
from lms_plugin.questions.options import option_ids


class MultipleResponse(OptionsQuestion):
    """Partial credit: share of right options chosen − share of wrong ones, floor 0.

    Ticking every box earns nothing: it chooses all the right and all the wrong.
    """

    name = "multiple"
    default_scoring = "partial"

    def check_rules(self, c, q, label):
        correct = check_options(c, q, label, 4, 7)
        options = q.get("options")
        if not correct and isinstance(options, list):
            c.error(q.line_of("options"), f"{label} (multiple) needs a correct option")
        elif isinstance(options, list) and len(correct) == len(options):
            c.warn(
                q.line_of("options"),
                f"{label} (multiple): every option is correct, so ticking every box "
                "earns full credit; add incorrect options",
            )
        check_scoring(c, q, label)

    def parse(self, question, form, prefix):
        # Checkboxes: any number of values; unknown and repeated ids are ignored.
        valid = set(option_ids(question))
        chosen = sorted(set(form.get(prefix, [])) & valid)
        return chosen or None

    def fraction(self, question, response):
        chosen = set(response)
        correct = {o["id"] for o in question["options"] if o.get("correct")}
        if question.get("scoring") == "all_or_nothing":
            return float(chosen == correct)
        if not correct:
            return 0.0
        incorrect = set(option_ids(question)) - correct
        right = len(chosen & correct) / len(correct)
        wrong = len(chosen & incorrect) / len(incorrect) if incorrect else 0.0
        return max(0.0, right - wrong)

    def feedback(self, question, response):
        return tuple(response)
