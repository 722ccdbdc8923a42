"""A learner's progress: module progress, page visits, quiz attempts and their items.

Everything is per (user, context, module). Launches without a course context are
allowed, so rows carry ``scope``: the LtiContext id, or 0 without a context. A
unique index over a nullable column would let duplicates through (NULLs are
distinct in SQL), so the unique keys use ``scope``, never ``context``.

Attempts record exactly what the learner saw (``question_versions`` in order and
the ``layout`` of every item) and point at immutable :class:`QuestionVersion` and
:class:`ModuleVersion` rows, so a republished module never changes an old result.
"""

import peewee
from peewee import BooleanField
from peewee import CharField
from peewee import FloatField
from peewee import ForeignKeyField
from peewee import IntegerField

from lms_plugin.clock import utcnow
from lms_plugin.db import BaseModel
from lms_plugin.db import DateTimeField
from lms_plugin.models.content import JSONField
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import User

#: ModuleProgress.state values, in the order a learner reaches them.
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
COMPLETED_NOT_PASSED = "completed_not_passed"  # attempts exhausted (content B.3)

#: QuizAttempt.status values.
ATTEMPT_IN_PROGRESS = "in_progress"
ATTEMPT_SUBMITTED = "submitted"


def scope_of(context: LtiContext | None) -> int:
    """The ``scope`` key of a context: its id, or 0 for a launch without one."""
    return context.id if context is not None else 0


class ModuleProgress(BaseModel):
    """Where a user is in a module, in one context; completion with its time."""

    user = ForeignKeyField(User, backref="progress", on_delete="CASCADE")
    context = ForeignKeyField(
        LtiContext, backref="progress", null=True, on_delete="CASCADE"
    )
    scope = IntegerField()  # context id, or 0 without a context (see module doc)
    module = ForeignKeyField(Module, backref="progress", on_delete="CASCADE")
    last_page = ForeignKeyField(Page, null=True, on_delete="SET NULL")
    state = CharField(max_length=32, default=NOT_STARTED)
    kept_percent = FloatField(null=True)  # the quiz score kept by its policy
    passed = BooleanField(default=False)  # quiz passed (any kept attempt)
    attempts_used = IntegerField(default=0)
    started_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "scope", "module"), True),)


class PageVisit(BaseModel):
    """A page a learner opened, and when they marked it complete."""

    progress = ForeignKeyField(ModuleProgress, backref="visits", on_delete="CASCADE")
    page = ForeignKeyField(Page, backref="visits", on_delete="CASCADE")
    first_visited_at = DateTimeField(default=utcnow)
    last_visited_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True)  # the explicit "mark complete"

    class Meta:
        indexes = ((("progress", "page"), True),)


class QuizAttempt(BaseModel):
    """One attempt at a module's quiz: what was drawn, answered and scored."""

    user = ForeignKeyField(User, backref="attempts", on_delete="CASCADE")
    context = ForeignKeyField(
        LtiContext, backref="attempts", null=True, on_delete="CASCADE"
    )
    scope = IntegerField()
    module = ForeignKeyField(Module, backref="attempts", on_delete="CASCADE")
    module_version = ForeignKeyField(ModuleVersion)  # the quiz settings used
    number = IntegerField()  # 1, 2, … per (user, scope, module)
    # Sent back with the start form: a double click or resent form finds this row.
    idempotency_key = CharField(max_length=64, unique=True)
    question_versions = JSONField()  # QuestionVersion ids of the drawn entries
    layout = JSONField()  # item id -> display order (questions.quiz.present)
    responses = JSONField(default=dict)  # item id -> response, saved as they go
    status = CharField(max_length=16, default=ATTEMPT_IN_PROGRESS)
    earned = FloatField(null=True)
    possible = FloatField(null=True)
    percent = FloatField(null=True)
    passed = BooleanField(null=True)
    started_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "scope", "module", "number"), True),)


class AttemptItem(BaseModel):
    """The score of one scored item of a submitted attempt (for item statistics)."""

    attempt = ForeignKeyField(QuizAttempt, backref="items", on_delete="CASCADE")
    question_version = ForeignKeyField(QuestionVersion, backref="attempt_items")
    item_id = CharField(max_length=128)  # a case set's children share a version
    position = IntegerField()
    earned = FloatField()
    possible = FloatField()
    response = JSONField(null=True)

    class Meta:
        indexes = ((("attempt", "item_id"), True),)

    @classmethod
    def for_attempt(cls, attempt) -> peewee.ModelSelect:
        """The attempt's scored items, with the credit stored at submit."""
        return cls.select().where(cls.attempt == attempt)


PROGRESS_MODELS = [ModuleProgress, PageVisit, QuizAttempt, AttemptItem]
