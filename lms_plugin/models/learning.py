"""What the learner's pages read: a module, its current version, the learner's standing.

Query functions over the content and progress models, prepared once
(:class:`~lms_plugin.db.Prepared`), each returning complete model rows or an
explicit :class:`LearnerModule`: the module page and the section pages need one
statement for all of it.
"""

from typing import NamedTuple

from peewee import JOIN
from peewee import Alias
from peewee import fn

from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import User
from lms_plugin.models.progress import ATTEMPT_IN_PROGRESS
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.progress import scope_of
from lms_plugin.models.sections import Section
from lms_plugin.models.sections import section_list_query
from lms_plugin.models.sections import sections_from

#: A module joined with its current version.
CURRENT_VERSION = (ModuleVersion.module == Module.id) & (
    ModuleVersion.number == Module.version
)


class LearnerModule(NamedTuple):
    """A module still in the course, as one learner stands in it."""

    module: Module
    version: ModuleVersion  # the current one
    progress: ModuleProgress | None  # None before the learner opened it
    attempts_made: int  # at its quiz, in this scope
    attempts_open: int  # of those, still in progress
    sections: list[Section]  # its pages with the learner's state


@Prepared
def _with_standing():
    """A module by slug, its current version and one learner's standing in it."""
    mine = (QuizAttempt.user == Param("user")) & (QuizAttempt.scope == Param("scope"))
    made = QuizAttempt.select(fn.COUNT(QuizAttempt.id)).where(
        mine & (QuizAttempt.module == Module.id)
    )
    still_open = made.where(QuizAttempt.status == ATTEMPT_IN_PROGRESS)
    return (
        Module.select(
            Module,
            ModuleVersion,
            ModuleProgress,
            # Named scalar subqueries (COUNT gives a row even with no attempts).
            fn.COALESCE(made, 0).alias("attempts_made"),
            fn.COALESCE(still_open, 0).alias("attempts_open"),
            Alias(
                section_list_query(Module.id, ModuleProgress.id),
                "section_list",
            ),
        )
        .join(ModuleVersion, on=CURRENT_VERSION)
        .switch(Module)
        .join(
            ModuleProgress,
            JOIN.LEFT_OUTER,
            on=(ModuleProgress.module == Module.id)
            & (ModuleProgress.user == Param("user"))
            & (ModuleProgress.scope == Param("scope")),
            attr="learner_progress",
        )
        .where((Module.slug == Param("slug")) & Module.retired_at.is_null())
    )


def module_for_learner(
    slug: str, user: User, context: LtiContext | None
) -> LearnerModule | None:
    """The module ``slug`` with ``user``'s standing in ``context``; None if absent."""
    row = _with_standing.first(slug=slug, user=user.id, scope=scope_of(context))
    if row is None:
        return None
    return LearnerModule(
        module=row,
        version=row.moduleversion,
        progress=row.learner_progress,
        attempts_made=row.attempts_made,
        attempts_open=row.attempts_open,
        sections=sections_from(row.section_list),
    )


def _with_version():
    """Modules joined with their current version."""
    return Module.select(Module, ModuleVersion).join(ModuleVersion, on=CURRENT_VERSION)


_current = Prepared(
    lambda: _with_version().where(
        (Module.slug == Param("slug")) & Module.retired_at.is_null()
    )
)


def current_module(slug: str) -> tuple[Module, ModuleVersion] | None:
    """The module ``slug`` still in the course and its current version, or None."""
    row = _current.first(slug=slug)
    return None if row is None else (row, row.moduleversion)


def any_module(slug: str) -> Module | None:
    """The module ``slug``, retired or not, its current version attached."""
    return _with_version().where(Module.slug == slug).first()


def catalog():
    """Every module still in the course, with its current version and its course."""
    return (
        Module.select(Module, ModuleVersion, Course)
        .join(ModuleVersion, on=CURRENT_VERSION)
        .switch(Module)
        .join(Course)
        .where(Module.retired_at.is_null())
        .order_by(Course.title, Module.position)
    )


@Prepared
def _attempt():
    """An attempt of a user in a context scope, with its module and quiz version."""
    return (
        QuizAttempt.select(QuizAttempt, Module, ModuleVersion)
        .join(Module)
        .switch(QuizAttempt)
        .join(ModuleVersion)
        .where(
            (QuizAttempt.id == Param("id"))
            & (QuizAttempt.user == Param("user"))
            & (QuizAttempt.scope == Param("scope"))
        )
    )


def attempt_of(attempt_id: int, user: User, context: LtiContext | None):
    """``user``'s attempt ``attempt_id`` in ``context``'s scope, or None.

    It comes with its module and module version, and with ``user`` and
    ``context`` attached, so reading them costs no statement.
    """
    attempt = _attempt.first(id=attempt_id, user=user.id, scope=scope_of(context))
    if attempt is None:
        return None
    attempt.user = user
    if context is not None and attempt.context_id == context.id:
        attempt.context = context
    return attempt
