"""Completion: a learner's progress in a module, the rule that completes it, the score.

The rules (:func:`module_state`, :func:`attempts_left`, :func:`score_to_post`)
are pure. The rest writes the learner's :class:`ModuleProgress` and page visits,
applies the rule (:func:`refresh_completion`) and hands the score to post to the
passback outbox, in the caller's transaction: after a submitted attempt
(:func:`record_attempt`), or when a module without a quiz is completed.
"""

from dataclasses import dataclass

from lms_plugin import numbers
from lms_plugin import passback
from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.lti.services import ags
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.progress import COMPLETED
from lms_plugin.models.progress import COMPLETED_NOT_PASSED
from lms_plugin.models.progress import IN_PROGRESS
from lms_plugin.models.progress import NOT_STARTED
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import PageVisit
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.progress import scope_of
from lms_plugin.questions import quiz

#: Line item maximum when quiz.yaml names none (content B.4).
DEFAULT_SCORE_MAXIMUM = 100.0


# --- pure rules -------------------------------------------------------------


def module_state(
    completion: dict,
    *,
    pages_total: int,
    pages_done: int,
    has_quiz: bool,
    passed: bool,
    attempts_exhausted: bool,
    started: bool,
) -> str:
    """The completion state a module's rule gives (content B.3)."""
    pages_ok = not completion.get("require_all_pages", True) or (
        pages_done >= pages_total
    )
    need_pass = has_quiz and completion.get("require_quiz_pass", True)
    if pages_ok and (passed or not need_pass):
        return COMPLETED
    if pages_ok and attempts_exhausted:
        return COMPLETED_NOT_PASSED
    return IN_PROGRESS if started else NOT_STARTED


def attempts_left(max_attempts: int, used: int) -> int | None:
    """Attempts still allowed, or None when unlimited (``max_attempts`` 0)."""
    return None if max_attempts <= 0 else max(0, max_attempts - used)


@dataclass(frozen=True)
class ScoreToPost:
    """What AGS receives for a learner's quiz (content B.4)."""

    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    comment: str


def _score_maximum(settings: dict | None) -> float:
    line_item = (settings or {}).get("line_item") or {}
    return float(line_item.get("score_maximum", DEFAULT_SCORE_MAXIMUM))


def score_to_post(
    percents: list[float], settings: dict, *, passed: bool
) -> ScoreToPost | None:
    """The kept score, scaled to the line item, for the attempts submitted so far."""
    kept = quiz.kept_percent(percents, settings.get("score_to_keep", "highest"))
    if kept is None:
        return None
    maximum = _score_maximum(settings)
    exhausted = attempts_left(settings.get("max_attempts", 0), len(percents)) == 0
    done = passed or exhausted
    return ScoreToPost(
        score_given=round(kept * maximum / 100.0, 4),
        score_maximum=maximum,
        activity_progress="Completed" if done else "Submitted",
        grading_progress="FullyGraded",
        comment=f"Attempt {len(percents)}: {'passed' if passed else 'not passed'}"
        f" (kept {numbers.percent(kept)})",
    )


def completion_score(settings: dict | None) -> ScoreToPost:
    """Full credit for completing a module without a quiz."""
    maximum = _score_maximum(settings)
    return ScoreToPost(maximum, maximum, "Completed", "FullyGraded", "Module completed")


# --- the learner's progress and page visits -------------------------------------


def open_progress(
    user: User, context: LtiContext | None, module: Module
) -> ModuleProgress:
    """The user's progress in ``module`` in this context, created on first use.

    Race-safe: a concurrent first use makes one row, which both get.
    """
    scope = scope_of(context)
    found = ModuleProgress.find(user, scope, module)
    if found is not None:
        return found
    return ModuleProgress.upsert(
        {"user": user, "scope": scope, "module": module},
        inserted={"context": context, "state": IN_PROGRESS},
    )


def record_visit(progress: ModuleProgress, page) -> None:
    """Remember that the learner opened ``page`` (and resume there next time)."""
    now = utcnow()
    PageVisit.upsert({"progress": progress, "page": page}, {"last_visited_at": now})
    progress.resume_at(page, now)


def mark_page_complete(progress: ModuleProgress, page_id: int, version, link=None):
    """Record the explicit "mark complete" of a page; update completion."""
    with database.atomic():
        now = utcnow()
        PageVisit.upsert(
            {"progress": progress, "page": page_id},
            {"completed_at": now, "last_visited_at": now},
        )
        return refresh_completion(progress, version, link)


# --- completion ------------------------------------------------------------------


def refresh_completion(progress: ModuleProgress, version: ModuleVersion, link=None):
    """Apply the module's completion rule; a completion is kept once reached."""
    if progress.state == COMPLETED:
        return progress.state
    sections = progress.section_counts()
    settings = version.quiz or {}
    state = module_state(
        version.completion or {},
        pages_total=sections.total,
        pages_done=sections.done,
        has_quiz=bool(version.quiz),
        passed=progress.passed,
        attempts_exhausted=attempts_left(
            settings.get("max_attempts", 0), progress.attempts_used
        )
        == 0,
        started=True,
    )
    _store_state(progress, state, version, link)
    return state


def _store_state(progress, state, version, link) -> None:
    changed = state != progress.state
    progress.state = state
    progress.updated_at = utcnow()
    if state in (COMPLETED, COMPLETED_NOT_PASSED) and progress.completed_at is None:
        progress.completed_at = progress.updated_at
    progress.save()
    if changed and state == COMPLETED and not version.quiz:
        _enqueue(progress, completion_score(None), link, attempt=None)


def record_attempt(
    attempt: QuizAttempt, settings: dict, link: LtiResourceLink | None
) -> None:
    """After a submit: update the learner's progress and queue the kept score.

    Runs in the submit's transaction; ``attempt`` is closed already.
    """
    submitted = attempt.submitted_so_far()
    percents = [a.percent for a in submitted]
    passed = any(a.passed for a in submitted)
    progress = open_progress(attempt.user, attempt.context, attempt.module)
    # The same user, context and module as the attempt's: attached, _enqueue reads
    # them without a statement (learner attaches them to the attempt already).
    progress.user, progress.context, progress.module = (
        attempt.user,
        attempt.context,
        attempt.module,
    )
    progress.passed = passed
    progress.attempts_used = len(submitted)
    progress.kept_percent = quiz.kept_percent(
        percents, settings.get("score_to_keep", "highest")
    )
    refresh_completion(progress, attempt.module_version, link)
    post = score_to_post(percents, settings, passed=passed)
    _enqueue(progress, post, link, attempt=attempt)


def _enqueue(progress, post: ScoreToPost, link, attempt: QuizAttempt | None) -> None:
    """Hand a score to the passback outbox, inside the caller's transaction.

    With an ``attempt``, AGS ``submission`` carries its stored start and submit
    times (never the moment the score is queued).
    """
    module = progress.module
    bound = link if link is not None and link.module_slug == module.slug else None
    submission = None
    if attempt is not None:
        submission = ags.submission_times(attempt.started_at, attempt.submitted_at)
    passback.enqueue_score(
        user=progress.user,
        context=progress.context,
        resource_link=bound,
        module_slug=module.slug,
        score_given=post.score_given,
        score_maximum=post.score_maximum,
        activity_progress=post.activity_progress,
        grading_progress=post.grading_progress,
        timestamp=utcnow(),
        comment=post.comment,
        submission=submission,
    )
