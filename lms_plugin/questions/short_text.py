"""Short text: a typed answer, matched against the accepted ones after normalizing."""

from __future__ import annotations

import re
import unicodedata

from lms_plugin.questions.base import AnswerError
from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import check_feedback_map
from lms_plugin.questions.base import one_value

#: Longest short-text answer, as the input's ``maxlength`` says.
SHORT_TEXT_MAX = 500


def normalize_text(text: str) -> str:
    """Case-fold, drop punctuation and accents' compatibility forms, collapse spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if unicodedata.category(ch).startswith("P") else ch for ch in text
    )
    return re.sub(r"\s+", " ", text).strip()


def normalize_answer(text: str) -> str:
    """An authored text's match key: case-folded, no punctuation, spaces collapsed.

    The authoring checks compare accepted answers (and options) by it.
    """
    text = re.sub(r"[^\w\s]", "", str(text).casefold())
    return " ".join(text.split())


class ShortText(QuestionType):
    name = "short_text"

    def check_rules(self, c, q, label):
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers:
            c.error(
                q.line_of("answers"), f"{label} (short_text) needs an 'answers' list"
            )
        else:
            keys = [normalize_answer(a) for a in answers]
            if not all(keys):
                c.error(q.line_of("answers"), f"{label}: an accepted answer is empty")
            if len(set(keys)) != len(keys):
                c.warn(
                    q.line_of("answers"), f"{label}: two answers match the same text"
                )
        check_feedback_map(c, q, label, ("correct", "incorrect"))

    def parse(self, question, form, prefix):
        value = (one_value(form, prefix) or "").strip()
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
