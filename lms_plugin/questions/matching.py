"""Matching: each prompt takes one answer from a shuffled list (three to six pairs)."""

from __future__ import annotations

from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import check_entries
from lms_plugin.questions.base import check_scoring
from lms_plugin.questions.base import one_value


class Matching(QuestionType):
    """Each prompt takes one choice; credit is the share of prompts matched.

    Choice keys are the id of the pair whose answer it is, or ``x<n>`` for the
    n-th distractor, so the form never carries the answer text's position.
    """

    name = "matching"
    default_scoring = "partial"
    entry_markdown = {"pairs": ("prompt", "answer", "feedback")}

    def check_rules(self, c, q, label):
        pairs = c.items(q, "pairs", label, 3, 6)
        check_entries(c, pairs, label, "prompt")
        answers = [str(p.get("answer", "")).strip().casefold() for p in pairs]
        for pair in pairs:
            c.text(pair, "answer", f"{label}, pair '{pair.get('id')}',")
        distractors = q.get("distractors", [])
        if not isinstance(distractors, list) or not all(
            isinstance(d, str) for d in distractors
        ):
            c.error(
                q.line_of("distractors"),
                f"{label}: distractors must be a list of texts",
            )
            distractors = []
        texts = answers + [d.strip().casefold() for d in distractors]
        if len(set(texts)) != len(texts):
            c.error(
                q.line_of("pairs"), f"{label}: two answers or distractors are the same"
            )
        check_scoring(c, q, label)

    def _choices(self, question) -> list[str]:
        pairs = [pair["id"] for pair in question["pairs"]]
        extra = [f"x{n}" for n, _ in enumerate(question.get("distractors", []))]
        return pairs + extra

    def parse(self, question, form, prefix):
        choices = set(self._choices(question))
        response = {}
        for pair in question["pairs"]:
            value = one_value(form, f"{prefix}.{pair['id']}")
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
