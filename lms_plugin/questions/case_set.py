"""Case set: a vignette (``stimulus``) and the two to four questions it opens.

Its children are questions of the other types, each with its own id, scored on
its own; they share the set's objective. The set is drawn whole and counts as
its number of children.
"""

from __future__ import annotations

from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import Registry


class CaseSet(QuestionType):
    """Never parsed or scored itself: a quiz takes its children as the items."""

    name = "case_set"
    opening = "stimulus"
    has_rationale = False  # a case set's rationales live on its children

    def __init__(self, types: Registry):
        self.types = types  # what its children may be (it refuses itself)

    def check_rules(self, c, q, label):
        objective = q.get("objective")
        for child in c.items(q, "questions", label, 2, 4):
            child_label = f"question '{child.get('id')}' in case set '{q.get('id')}'"
            if child.get("type") == self.name:
                c.error(
                    child.line_of("type"), f"{child_label} cannot itself be a case_set"
                )
                continue
            if child.get("objective", objective) != objective:
                message = f"{child_label} must share the set's objective '{objective}'"
                c.error(child.line_of("objective"), message)
            self.types.check(c, child, child_label, child=True)

    def normalize(self, data, objective):
        data = super().normalize(data, objective)
        if isinstance(data.get("questions"), list):
            data["questions"] = [
                self.types.normalize(child, data.get("objective"))
                for child in data["questions"]
            ]
        return data

    def children(self, question):
        items = question.get("questions")
        return (
            [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        )

    def scored_items(self, question):
        return self.children(question)
