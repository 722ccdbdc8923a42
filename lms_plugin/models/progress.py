"""A learner's progress: module progress, page visits, quiz attempts and their items.

Everything is per (user, context, module). Launches without a course context are
allowed, so rows carry ``scope``: the LtiContext id, or 0 without a context. A
unique index over a nullable column would let duplicates through (NULLs are
distinct in SQL), so the unique keys use ``scope``, never ``context``.

Attempts record exactly what the learner saw (``question_versions`` in order and
the ``layout`` of every item) and point at immutable :class:`QuestionVersion` and
:class:`ModuleVersion` rows, so a republished module never changes an old result.

The hot reads and writes of the learner pages are methods here, prepared (built
once): a progress row by its key, attempt summaries, an attempt by key or id,
closing an attempt. A module's sections with the learner's state in each, read
as one JSON value, are in :mod:`lms_plugin.models.sections`.
"""

import datetime
from typing import NamedTuple

import peewee
from peewee import Alias
from peewee import BooleanField
from peewee import CharField
from peewee import FloatField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import fn

from lms_plugin.clock import utcnow
from lms_plugin.db import BaseModel
from lms_plugin.db import DateTimeField
from lms_plugin.db import Param
from lms_plugin.db import Prepared
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
#: Module states for people (text, never colour alone).
STATE_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    COMPLETED_NOT_PASSED: "Completed, quiz not passed",
}

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

    @classmethod
    def find(cls, user, scope: int, module) -> "ModuleProgress | None":
        """The progress of ``user`` in ``module`` in a context scope, or None."""
        return _progress.first(user=user, scope=scope, module=module)

    @classmethod
    def by_module(cls, user, scope: int) -> dict[int, "ModuleProgress"]:
        """Every progress row of ``user`` in a context scope, keyed by module id."""
        rows = _progress_rows.rows(user=user, scope=scope)
        return {row.module_id: row for row in rows}

    def resume_at(self, page, now: datetime.datetime) -> None:
        """Remember ``page`` as where the learner picks up (one UPDATE)."""
        _resume_at.execute(page=page, now=now, progress=self.id)

    def section_counts(self) -> "SectionCounts":
        """The module's current sections, and how many of them the learner completed."""
        ((total, done),) = _section_counts.raw(module=self.module_id, progress=self.id)
        return SectionCounts(total, done)


class SectionCounts(NamedTuple):
    """What a module's "all pages" completion rule counts."""

    total: int  # current (not retired) pages of the module
    done: int  # of them, those the learner marked complete


@Prepared
def _progress():
    return ModuleProgress.select().where(
        (ModuleProgress.user == Param("user"))
        & (ModuleProgress.scope == Param("scope"))
        & (ModuleProgress.module == Param("module"))
    )


@Prepared
def _progress_rows():
    return ModuleProgress.select().where(
        (ModuleProgress.user == Param("user"))
        & (ModuleProgress.scope == Param("scope"))
    )


@Prepared
def _resume_at():
    return ModuleProgress.update(
        last_page=Param("page", ModuleProgress.last_page),
        updated_at=Param("now", ModuleProgress.updated_at),
    ).where(ModuleProgress.id == Param("progress"))


class PageVisit(BaseModel):
    """A page a learner opened, and when they marked it complete."""

    progress = ForeignKeyField(ModuleProgress, backref="visits", on_delete="CASCADE")
    page = ForeignKeyField(Page, backref="visits", on_delete="CASCADE")
    first_visited_at = DateTimeField(default=utcnow)
    last_visited_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True)  # the explicit "mark complete"

    class Meta:
        indexes = ((("progress", "page"), True),)


@Prepared
def _section_counts():
    done_page = Page.alias("done_page")
    done = (
        PageVisit.select(fn.COUNT(PageVisit.id))
        .join(done_page, on=PageVisit.page == done_page.id)
        .where(
            (done_page.module == Param("module"))
            & done_page.retired_at.is_null()
            & (PageVisit.progress == Param("progress"))
            & PageVisit.completed_at.is_null(False)
        )
    )
    current = (Page.module == Param("module")) & Page.retired_at.is_null()
    return Page.select(fn.COUNT(Page.id), Alias(done, "done")).where(current)


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

    @classmethod
    def summaries(cls, user, scope: int, module) -> list["AttemptSummary"]:
        """Attempts of ``user`` at ``module`` in a context scope, oldest first.

        Summaries, not rows: a learner's page lists every attempt, and the drawn
        questions, layout and answers of each are large.
        """
        rows = _summaries.raw(user=user, scope=scope, module=module)
        return [AttemptSummary.of(row) for row in rows]

    @classmethod
    def by_key(cls, key: str) -> "QuizAttempt | None":
        """The attempt a start form's idempotency key started, or None."""
        return _attempt_by_key.first(key=key)

    @classmethod
    def by_id(cls, attempt_id: int) -> "QuizAttempt | None":
        """The whole row of an attempt, or None."""
        return _attempt_by_id.first(id=attempt_id)

    def submitted_so_far(self) -> list["AttemptSummary"]:
        """Summaries of the submitted attempts in this one's series, oldest first.

        The series: the attempts of the same user at the same module in the same
        context scope (this one too, once submitted).
        """
        series = QuizAttempt.summaries(self.user_id, self.scope, self.module_id)
        return [a for a in series if a.status == ATTEMPT_SUBMITTED]

    def drawn_questions(self) -> list[dict]:
        """The question data the attempt drew, in the order it showed them."""
        return QuestionVersion.data_in_order(self.question_versions)

    def keep_responses(self, responses: dict) -> bool:
        """Store the answers of an unfinished attempt; False if it was submitted."""
        return bool(_keep_responses.execute(attempt=self.id, responses=responses))

    def close(self, scored: dict) -> bool:
        """Submit the attempt with its ``scored`` columns, once; then set them here.

        ``scored``: responses, earned, possible, percent, passed and submitted_at.
        False, and nothing changed, when it was submitted already.
        """
        if not _close_attempt.execute(attempt=self.id, **scored):
            return False
        self.status = ATTEMPT_SUBMITTED
        for name, value in scored.items():
            setattr(self, name, value)
        return True


class AttemptSummary(NamedTuple):
    """What lists of attempts show and count: no questions, layout or answers."""

    id: int
    number: int
    status: str
    percent: float | None
    passed: bool | None
    started_at: datetime.datetime
    submitted_at: datetime.datetime | None

    @classmethod
    def of(cls, row: tuple) -> "AttemptSummary":
        """A summary from the driver's row (SQLite gives text times, 0/1 booleans)."""
        id_, number, status, percent, passed, started_at, submitted_at = row
        as_time = QuizAttempt.started_at.python_value
        return cls(
            id_,
            number,
            status,
            percent,
            None if passed is None else bool(passed),
            as_time(started_at),
            as_time(submitted_at),
        )


@Prepared
def _summaries():
    columns = [getattr(QuizAttempt, name) for name in AttemptSummary._fields]
    return (
        QuizAttempt.select(*columns)
        .where(
            (QuizAttempt.user == Param("user"))
            & (QuizAttempt.scope == Param("scope"))
            & (QuizAttempt.module == Param("module"))
        )
        .order_by(QuizAttempt.number)
    )


@Prepared
def _attempt_by_key():
    return QuizAttempt.select().where(QuizAttempt.idempotency_key == Param("key"))


@Prepared
def _attempt_by_id():
    return QuizAttempt.select().where(QuizAttempt.id == Param("id"))


def _still_open():
    """The attempt ``Param("attempt")`` names, while it is in progress."""
    return (QuizAttempt.id == Param("attempt")) & (
        QuizAttempt.status == ATTEMPT_IN_PROGRESS
    )


@Prepared
def _keep_responses():
    responses = Param("responses", QuizAttempt.responses)
    return QuizAttempt.update(responses=responses).where(_still_open())


@Prepared
def _close_attempt():
    return QuizAttempt.update(
        status=ATTEMPT_SUBMITTED,
        responses=Param("responses", QuizAttempt.responses),
        earned=Param("earned", QuizAttempt.earned),
        possible=Param("possible", QuizAttempt.possible),
        percent=Param("percent", QuizAttempt.percent),
        passed=Param("passed", QuizAttempt.passed),
        submitted_at=Param("submitted_at", QuizAttempt.submitted_at),
    ).where(_still_open())


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
