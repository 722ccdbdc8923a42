"""Question types: one class per type, each in its own module, and their registry.

A type's class holds all there is to know about it: its authoring rules, the
defaults it is published with, how a quiz shows it (the order of its parts), how
a learner's answer is parsed from the form and how it is scored. Its partial,
``templates/questions/<name>.html``, draws it. Pure: no Flask, no database.

Adding a type is its module here, its partial, and its line in ``TYPES``. The
quiz as a whole (drawing from a bank, presenting, scoring an attempt) is
:mod:`lms_plugin.questions.quiz`.
"""

from __future__ import annotations

from lms_plugin.questions.base import QuestionType
from lms_plugin.questions.base import Registry
from lms_plugin.questions.case_set import CaseSet
from lms_plugin.questions.matching import Matching
from lms_plugin.questions.multiple import MultipleResponse
from lms_plugin.questions.ordering import Ordering
from lms_plugin.questions.short_text import ShortText
from lms_plugin.questions.single import SingleChoice
from lms_plugin.questions.true_false import TrueFalse

#: Every question type by name, in the order authors are told them.
TYPES = Registry(
    SingleChoice(), MultipleResponse(), TrueFalse(), Matching(), Ordering(), ShortText()
)
# A case set checks and normalizes each child as the type the child names.
TYPES.add(CaseSet(TYPES))

#: List field -> the inline Markdown fields of its entries, over every type.
ENTRY_MARKDOWN = {
    key: fields
    for kind in TYPES.values()
    for key, fields in kind.entry_markdown.items()
}


def type_of(name: str) -> QuestionType:
    """The question type called ``name`` (a published question's ``type``)."""
    return TYPES[name]
