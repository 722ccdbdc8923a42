"""The course context's gradebook: every member, and learners × modules with status,
kept score, attempts, last activity and the grade passback state of their score.

A fixed number of queries whatever the class size: members, modules, progress and
latest scores are each one query, joined in Python.
"""

from dataclasses import dataclass
from dataclasses import field

from peewee import fn

from lms_plugin.clock import utcnow
from lms_plugin.errors import LmsError
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENDING
from lms_plugin.models.passback import SENT
from lms_plugin.models.passback import SUPERSEDED
from lms_plugin.models.passback import ScorePost
from lms_plugin.models.progress import NOT_STARTED
from lms_plugin.models.progress import STATE_LABELS
from lms_plugin.models.progress import ModuleProgress

#: Roles shown in the roster, in order.
ROLE_LABELS = (
    ("instructor", "Instructor"),
    ("teaching_assistant", "Teaching assistant"),
    ("administrator", "Administrator"),
    ("content_developer", "Content developer"),
    ("learner", "Learner"),
)
#: Passback rows the instructor may send again (a pending one is sent sooner).
RESENDABLE = (FAILED, PENDING)


class ScoreNotFound(LmsError):
    status_code = 404
    title = "Not found"


@dataclass(frozen=True)
class Cell:
    """One learner in one module."""

    state: str
    kept_percent: float | None
    attempts: int
    last_activity: object  # datetime or None
    score: ScorePost | None  # the latest score queued for the gradebook

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def passback(self) -> str:
        """sent, pending, failed, replaced, or "" when nothing was queued."""
        return passback_state(self.score)


@dataclass
class Gradebook:
    """Members of a context, its modules and a cell per (learner, module)."""

    context: LtiContext
    members: list[LtiMembership]
    modules: list[Module]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)

    @property
    def learners(self) -> list[LtiMembership]:
        return [m for m in self.members if m.is_learner]

    def cell(self, membership: LtiMembership, module: Module) -> Cell:
        empty = Cell(NOT_STARTED, None, 0, None, None)
        return self.cells.get((membership.user_id, module.id), empty)


def passback_state(row: ScorePost | None) -> str:
    """The state of a queued score for people: sent, pending, failed or replaced."""
    if row is None:
        return ""
    if row.status in (PENDING, SENDING):
        return "pending"
    return {SENT: "sent", FAILED: "failed", SUPERSEDED: "replaced"}.get(
        row.status, row.status
    )


def display_name(user: User) -> str:
    """A member's name as the platform gave it, else a neutral stand-in."""
    full = " ".join(p for p in (user.given_name, user.family_name) if p)
    return user.name or full or user.email or f"User {user.sub}"


def role_labels(membership: LtiMembership) -> list[str]:
    """The member's roles in this context, for people."""
    return [label for role, label in ROLE_LABELS if getattr(membership, f"is_{role}")]


def members_of(context: LtiContext) -> list[LtiMembership]:
    """Every member of ``context`` with their user, learners by name."""
    query = (
        LtiMembership.select(LtiMembership, User)
        .join(User)
        .where(LtiMembership.context == context)
    )
    return sorted(query, key=lambda m: (display_name(m.user).casefold(), m.user.sub))


def modules_of(context: LtiContext) -> list[Module]:
    """Modules of this course: linked from it, or with progress in it."""
    linked = LtiResourceLink.select(LtiResourceLink.module_slug).where(
        (LtiResourceLink.context == context)
        & LtiResourceLink.module_slug.is_null(False)
    )
    started = ModuleProgress.select(ModuleProgress.module).where(
        ModuleProgress.scope == context.id
    )
    return list(
        Module.select(Module, ModuleVersion)
        .join(
            ModuleVersion,
            on=(ModuleVersion.module == Module.id)
            & (ModuleVersion.number == Module.version),
        )
        .where(Module.slug.in_(linked) | Module.id.in_(started))
        .order_by(Module.position, Module.slug)
    )


def latest_scores(context: LtiContext) -> dict[tuple[int, str], ScorePost]:
    """The newest queued score per (user, module) in ``context``."""
    newest = (
        ScorePost.select(fn.MAX(ScorePost.id))
        .where(ScorePost.context == context)
        .group_by(ScorePost.user, ScorePost.module_slug)
    )
    rows = ScorePost.select().where(ScorePost.id.in_(newest))
    return {(row.user_id, row.module_slug): row for row in rows}


def build(context: LtiContext) -> Gradebook:
    """The gradebook of ``context`` (four queries)."""
    book = Gradebook(context, members_of(context), modules_of(context))
    scores = latest_scores(context)
    slugs = {m.id: m.slug for m in book.modules}
    progress = ModuleProgress.select().where(
        (ModuleProgress.scope == context.id)
        & ModuleProgress.module.in_(list(slugs) or [0])
    )
    for row in progress:
        book.cells[(row.user_id, row.module_id)] = Cell(
            row.state,
            row.kept_percent,
            row.attempts_used,
            row.updated_at,
            scores.get((row.user_id, slugs[row.module_id])),
        )
    return book


def resend(context: LtiContext, score_id: int) -> str:
    """Queue a failed or pending score of ``context`` again; say what happened."""
    from lms_plugin.passback import requeue

    row = ScorePost.get_or_none(
        (ScorePost.id == score_id) & (ScorePost.context == context)
    )
    if row is None:
        raise ScoreNotFound("There is no score of this course at this address.")
    if row.status == FAILED:
        requeue([row.id])
        return "queued"
    if row.status == PENDING:
        # Already queued: send it now rather than after its backoff delay.
        ScorePost.update(next_attempt_at=utcnow(), attempts=0).where(
            (ScorePost.id == row.id) & (ScorePost.status == PENDING)
        ).execute()
        return "hurried"
    return "unchanged"
