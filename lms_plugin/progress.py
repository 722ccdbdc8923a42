"""Completion rules, attempt bookkeeping and the score to post.

The rules themselves (:func:`module_state`, :func:`score_to_post`,
:func:`attempts_left`) are pure; the rest reads and writes the progress tables.
No Flask here: views pass in the user, context and resource link of the launch.
A submitted attempt, its items, the learner's progress and the score handed to
``lms_plugin.passback`` are written in one transaction: all or nothing.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from peewee import JOIN
from peewee import SQL
from peewee import Alias
from peewee import Case
from peewee import IntegrityError
from peewee import PostgresqlDatabase
from peewee import fn

from lms_plugin import numbers
from lms_plugin.clock import utcnow
from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.progress import ATTEMPT_IN_PROGRESS
from lms_plugin.models.progress import ATTEMPT_SUBMITTED
from lms_plugin.models.progress import COMPLETED
from lms_plugin.models.progress import COMPLETED_NOT_PASSED
from lms_plugin.models.progress import IN_PROGRESS
from lms_plugin.models.progress import NOT_STARTED
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import PageVisit
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.progress import scope_of
from lms_plugin.questions import quiz
from lms_plugin.questions.base import AnswerError

#: Line item maximum when quiz.yaml names none (content B.4).
DEFAULT_SCORE_MAXIMUM = 100.0


class AttemptsExhausted(Exception):
    """No attempt is left under the quiz's limit."""


class StartKeyTaken(LmsError):
    """A start form's idempotency key that belongs to someone else's attempt."""

    status_code = 400
    title = "Form expired"


class AnswerRefused(LmsError):
    """Submitted answers no form of the quiz could send; nothing is saved or scored."""

    status_code = 400
    title = "Your answers could not be read"


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


def score_to_post(
    percents: list[float], settings: dict, *, passed: bool
) -> ScoreToPost | None:
    """The kept score, scaled to the line item, for the attempts submitted so far."""
    kept = quiz.kept_percent(percents, settings.get("score_to_keep", "highest"))
    if kept is None:
        return None
    maximum = float(
        (settings.get("line_item") or {}).get("score_maximum", DEFAULT_SCORE_MAXIMUM)
    )
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
    maximum = float(
        ((settings or {}).get("line_item") or {}).get(
            "score_maximum", DEFAULT_SCORE_MAXIMUM
        )
    )
    return ScoreToPost(maximum, maximum, "Completed", "FullyGraded", "Module completed")


# --- module progress -----------------------------------------------------------


@Prepared
def _progress():
    return ModuleProgress.select().where(
        (ModuleProgress.user == Param("user"))
        & (ModuleProgress.scope == Param("scope"))
        & (ModuleProgress.module == Param("module"))
    )


def find_progress(user: User, context: LtiContext | None, module: Module):
    """The user's progress in ``module`` in this context, or None."""
    return _progress.first(user=user, scope=scope_of(context), module=module)


def open_progress(
    user: User, context: LtiContext | None, module: Module
) -> ModuleProgress:
    """The user's progress in ``module``, created on first use (race-safe)."""
    found = find_progress(user, context, module)
    if found is not None:
        return found
    ModuleProgress.insert(
        user=user,
        context=context,
        scope=scope_of(context),
        module=module,
        state=IN_PROGRESS,
    ).on_conflict_ignore().execute()
    return find_progress(user, context, module)


def progress_by_module(user: User, context: LtiContext | None) -> dict[int, object]:
    """Every progress row of the user in this context, keyed by module id."""
    rows = ModuleProgress.select().where(
        (ModuleProgress.user == user) & (ModuleProgress.scope == scope_of(context))
    )
    return {row.module_id: row for row in rows}


#: Page columns for lists of sections (everything but the bodies).
PAGE_OUTLINE = (Page.id, Page.slug, Page.position, Page.title, Page.est_minutes)


def _current_pages(*columns):
    return (
        Page.select(*columns)
        .where((Page.module == Param("module")) & Page.retired_at.is_null())
        .order_by(Page.position)
    )


_outline = Prepared(lambda: _current_pages(*PAGE_OUTLINE))


def pages_of(module: Module) -> list[Page]:
    """The module's current pages, in order, without their bodies."""
    return _outline.rows(module=module)


@Prepared
def _page():
    return Page.select(*PAGE_OUTLINE, Page.body_html).where(
        (Page.module == Param("module"))
        & (Page.slug == Param("slug"))
        & Page.retired_at.is_null()
    )


def current_page(module: Module, slug: str) -> Page | None:
    """A current page of the module by slug, with its body; None if there is none."""
    return _page.first(module=module, slug=slug)


#: A section's state for the learner (:attr:`Section.state`).
NOT_OPENED, OPENED, DONE = 0, 1, 2


class Section(NamedTuple):
    """A current page of a module as section lists show it, with the learner's state."""

    id: int
    slug: str
    title: str
    est_minutes: int
    state: int  # NOT_OPENED, OPENED, or DONE (marked complete)

    @property
    def opened(self) -> bool:
        return self.state != NOT_OPENED

    @property
    def done(self) -> bool:
        return self.state == DONE


def section_list_query(module, progress):
    """The module's current pages with the learner's state, as one JSON array.

    A select of one value: ``[position, id, slug, title, minutes, state]`` per
    page (:func:`sections_from` reads it). ``module`` and ``progress`` are what
    the pages and visits are matched on: :class:`Param` slots, or an outer
    query's columns when this is a correlated subquery (``learner`` puts it in
    the module lookup, so a module page needs no statement of its own for it).
    JSON text on SQLite; psycopg decodes PostgreSQL's ``json``.
    """
    page, visit = Page.alias("section_page"), PageVisit.alias("section_visit")
    state = Case(
        None,
        [
            (visit.completed_at.is_null(False), SQL(str(DONE))),
            (visit.id.is_null(False), SQL(str(OPENED))),
        ],
        SQL(str(NOT_OPENED)),
    )
    fields = (page.position, page.id, page.slug, page.title, page.est_minutes, state)
    if isinstance(database.obj, PostgresqlDatabase):
        listed = fn.json_agg(fn.json_build_array(*fields))
    else:
        listed = fn.json_group_array(fn.json_array(*fields))
    return (
        page.select(fn.COALESCE(listed, SQL("'[]'")))
        .join(
            visit,
            JOIN.LEFT_OUTER,
            on=(visit.page == page.id) & (visit.progress == progress),
        )
        .where((page.module == module) & page.retired_at.is_null())
    )


def sections_from(listed) -> list[Section]:
    """The sections in :func:`section_list_query`'s value, in page order."""
    items = json.loads(listed) if isinstance(listed, str) else listed or []
    return [Section(*item[1:]) for item in sorted(items)]


_sections = Prepared(
    lambda: section_list_query(Param("module", Page.module), Param("progress"))
)


def sections_of(module, progress: ModuleProgress | None) -> list[Section]:
    """The module's current pages in order, each with its state in ``progress``."""
    ((listed,),) = _sections.raw(module=module, progress=progress)
    return sections_from(listed)


def record_visit(progress: ModuleProgress, page: Page) -> None:
    """Remember that the learner opened ``page`` (and resume there next time)."""
    now = utcnow()
    PageVisit.upsert({"progress": progress, "page": page}, {"last_visited_at": now})
    _resume_at.execute(page=page, now=now, progress=progress.id)


_resume_at = Prepared(
    lambda: ModuleProgress.update(
        last_page=Param("page", ModuleProgress.last_page),
        updated_at=Param("now", ModuleProgress.updated_at),
    ).where(ModuleProgress.id == Param("progress"))
)


def mark_page_complete(progress: ModuleProgress, page: Page, version, link=None):
    """Record the explicit "mark complete" of ``page``; update completion."""
    with database.atomic():
        now = utcnow()
        PageVisit.insert(progress=progress, page=page, completed_at=now).on_conflict(
            conflict_target=[PageVisit.progress, PageVisit.page],
            update={PageVisit.completed_at: now, PageVisit.last_visited_at: now},
        ).execute()
        return refresh_completion(progress, version, link)


@Prepared
def _section_counts():
    """The module's current sections, and how many of them the learner completed."""
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


def refresh_completion(progress: ModuleProgress, version: ModuleVersion, link=None):
    """Apply the module's completion rule; a completion is kept once reached."""
    if progress.state == COMPLETED:
        return progress.state
    ((pages_total, pages_done),) = _section_counts.raw(
        module=progress.module_id, progress=progress.id
    )
    settings = version.quiz or {}
    state = module_state(
        version.completion or {},
        pages_total=pages_total,
        pages_done=pages_done,
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
        _enqueue(progress, completion_score(None), link, submitted=None)


# --- quiz attempts ----------------------------------------------------------


@Prepared
def _bank():
    return (
        QuestionVersion.select(QuestionVersion.id, QuestionVersion.data)
        .join(
            Question,
            on=(QuestionVersion.question == Question.id)
            & (QuestionVersion.number == Question.version),
        )
        .where((Question.module == Param("module")) & Question.retired_at.is_null())
        .order_by(Question.position)
    )


def quiz_bank(module: Module) -> dict[str, tuple[int, dict]]:
    """Current question data of the module's bank: slug -> (version id, data)."""
    return {row.data["id"]: (row.id, row.data) for row in _bank.rows(module=module)}


def attempt_questions(attempt: QuizAttempt) -> list[dict]:
    """The question data an attempt drew, in the order it showed them."""
    ids = attempt.question_versions
    rows = QuestionVersion.select().where(QuestionVersion.id.in_(ids))
    by_id = {row.id: row.data for row in rows}
    return [by_id[i] for i in ids]


def attempts_of(user: User, context: LtiContext | None, module: Module):
    """The user's attempts at the module's quiz in this context, oldest first."""
    return attempts_in_scope(user, scope_of(context), module)


#: What lists of attempts read: not the drawn questions, layout or answers.
ATTEMPT_SUMMARY = (
    QuizAttempt.id,
    QuizAttempt.number,
    QuizAttempt.status,
    QuizAttempt.percent,
    QuizAttempt.passed,
    QuizAttempt.started_at,
    QuizAttempt.submitted_at,
)


@Prepared
def _attempts():
    return (
        QuizAttempt.select(*ATTEMPT_SUMMARY)
        .where(
            (QuizAttempt.user == Param("user"))
            & (QuizAttempt.scope == Param("scope"))
            & (QuizAttempt.module == Param("module"))
        )
        .order_by(QuizAttempt.number)
    )


def attempts_in_scope(user, scope: int, module) -> list[QuizAttempt]:
    """Attempts of ``user`` at ``module`` in a context scope, oldest first.

    Only the :data:`ATTEMPT_SUMMARY` fields are read: a learner's page lists
    every attempt, and the drawn questions and answers of each are large.
    """
    return _attempts.rows(user=user, scope=scope, module=module)


def new_attempt_key() -> str:
    """An idempotency key for the start form (one attempt per key)."""
    return secrets.token_urlsafe(24)


def start_attempt(
    user: User,
    context: LtiContext | None,
    module: Module,
    version: ModuleVersion,
    key: str,
    rng: random.Random | None = None,
) -> QuizAttempt:
    """Start an attempt, or return the one this key or an unfinished one names.

    :raises AttemptsExhausted: when the limit is reached.
    """
    attempts = attempts_of(user, context, module)
    existing = _resumable(user, key, attempts)
    if existing is not None:
        return existing
    settings = version.quiz
    if attempts_left(settings.get("max_attempts", 0), len(attempts)) == 0:
        raise AttemptsExhausted(module.slug)
    row = _new_attempt(user, context, module, version, key, len(attempts) + 1, rng)
    try:
        # Only the INSERT in the transaction: on SQLite a read first would make
        # the write a lock upgrade, which fails at once under concurrent writers.
        with database.atomic():
            return QuizAttempt.create(**row)
    except IntegrityError:  # a concurrent start won the race: use its attempt
        found = _resumable(user, key, attempts_of(user, context, module))
        if found is None:
            raise
        return found


@Prepared
def _attempt_by_key():
    return QuizAttempt.select().where(QuizAttempt.idempotency_key == Param("key"))


@Prepared
def _attempt_by_id():
    return QuizAttempt.select().where(QuizAttempt.id == Param("id"))


def _resumable(user, key, attempts: list[QuizAttempt]) -> QuizAttempt | None:
    """The attempt started with ``key``, else an unfinished one (survives reload).

    ``attempts`` are the user's attempts at the module in this context.
    """
    by_key = _attempt_by_key.first(key=key)
    if by_key is not None:
        if by_key.user_id != user.id:
            raise StartKeyTaken("This form has expired. Reload the page and try again.")
        return by_key
    return unfinished_attempt(attempts)


def unfinished_attempt(attempts: list[QuizAttempt]) -> QuizAttempt | None:
    """The whole row of the attempt in progress among ``attempts``, if any."""
    found = next((a for a in attempts if a.status == ATTEMPT_IN_PROGRESS), None)
    return _attempt_by_id.first(id=found.id) if found is not None else None


def _new_attempt(user, context, module, version, key, number, rng) -> dict:
    """Draw and lay out a new attempt's questions; the row to insert."""
    settings = version.quiz
    rng = rng or random.Random(secrets.randbits(64))
    bank = quiz_bank(module)
    data = [entry for _, entry in bank.values()]
    draw = settings.get("draw") or []
    drawn = quiz.draw(data, draw, rng, settings.get("shuffle_questions", True))
    if not draw:
        drawn = data  # no blueprint: the whole bank, in order
    layout = quiz.present(drawn, rng, settings.get("shuffle_options", True))
    return {
        "user": user,
        "context": context,
        "scope": scope_of(context),
        "module": module,
        "module_version": version,
        "number": number,
        "idempotency_key": key,
        "question_versions": [bank[entry["id"]][0] for entry in drawn],
        "layout": layout,
        "responses": {},
    }


def parse_responses(questions: list[dict], form: dict[str, list[str]]) -> dict:
    """Every scored item's response from submitted form values.

    :raises AnswerRefused: a value the quiz's form cannot send (a 400).
    """
    responses = {}
    for entry in questions:
        for item in quiz.scored_items(entry):
            try:
                response = quiz.parse_response(item, form)
            except AnswerError as error:
                raise AnswerRefused(str(error)) from None
            if response is not None:
                responses[item["id"]] = response
    return responses


def save_responses(attempt: QuizAttempt, form: dict[str, list[str]]) -> bool:
    """Keep an unfinished attempt's answers; False if it was submitted already."""
    responses = parse_responses(attempt_questions(attempt), form)
    updated = (
        QuizAttempt.update(responses=responses)
        .where(
            (QuizAttempt.id == attempt.id) & (QuizAttempt.status == ATTEMPT_IN_PROGRESS)
        )
        .execute()
    )
    return bool(updated)


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
    ).where(
        (QuizAttempt.id == Param("attempt"))
        & (QuizAttempt.status == ATTEMPT_IN_PROGRESS)
    )


def submit_attempt(
    attempt: QuizAttempt, form: dict[str, list[str]], link: LtiResourceLink | None
) -> QuizAttempt:
    """Score and close an attempt once; a resubmission returns the stored result.

    The attempt's user, context, module and module version are read through its
    foreign keys; a caller that has them already can attach them to save the
    statements (``learner`` does).
    """
    questions = attempt_questions(attempt)
    settings = attempt.module_version.quiz
    responses = parse_responses(questions, form)
    score = quiz.score(questions, responses, settings["passing_percent"])
    scored = {
        "responses": responses,
        "earned": score.earned,
        "possible": score.possible,
        "percent": score.percent,
        "passed": score.passed,
        "submitted_at": utcnow(),
    }
    with database.atomic():
        if not _close_attempt.execute(attempt=attempt.id, **scored):
            return _attempt_by_id.first(id=attempt.id)  # submitted before
        attempt.status = ATTEMPT_SUBMITTED
        for name, value in scored.items():
            setattr(attempt, name, value)
        _store_items(attempt, questions, score)
        _after_submit(attempt, settings, link)
    return attempt


def _store_items(attempt, questions, score: quiz.QuizScore) -> None:
    versions = {}
    for version_id, entry in zip(attempt.question_versions, questions, strict=True):
        for item in quiz.scored_items(entry):
            versions[item["id"]] = version_id
    AttemptItem.insert_many(
        [
            {
                "attempt": attempt.id,
                "question_version": versions[item.question_id],
                "item_id": item.question_id,
                "position": position,
                "earned": item.earned,
                "possible": item.possible,
                "response": item.response,
            }
            for position, item in enumerate(score.items, start=1)
        ]
    ).execute()


def _after_submit(attempt: QuizAttempt, settings: dict, link) -> None:
    """Update the learner's progress and hand the kept score to passback."""
    submitted = [
        a
        for a in attempts_in_scope(attempt.user_id, attempt.scope, attempt.module_id)
        if a.status == ATTEMPT_SUBMITTED
    ]
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
    _enqueue(progress, post, link, submitted=attempt)


def _enqueue(progress, post: ScoreToPost, link, submitted) -> None:
    """Hand a score to the passback outbox, inside the caller's transaction."""
    from lms_plugin.passback import enqueue_score  # late: tests replace the module

    module = progress.module
    bound = link if link is not None and link.module_slug == module.slug else None
    extra = None
    if submitted is not None:
        extra = {
            "startedAt": submitted.started_at.isoformat(timespec="milliseconds") + "Z",
            "submittedAt": submitted.submitted_at.isoformat(timespec="milliseconds")
            + "Z",
        }
    enqueue_score(
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
        submission=extra,
    )
