"""Completion rules, attempt bookkeeping and the score to post.

The rules themselves (:func:`module_state`, :func:`score_to_post`,
:func:`attempts_left`) are pure; the rest reads and writes the progress tables.
No Flask here: views pass in the user, context and resource link of the launch.
A submitted attempt, its items, the learner's progress and the score handed to
``lms_plugin.passback`` are written in one transaction: all or nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from peewee import IntegrityError

from lms_plugin import quizzes
from lms_plugin.db import database
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.lti import utcnow
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

#: Line item maximum when quiz.yaml names none (content B.4).
DEFAULT_SCORE_MAXIMUM = 100.0


class AttemptsExhausted(Exception):
    """No attempt is left under the quiz's limit."""


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
    kept = quizzes.kept_percent(percents, settings.get("score_to_keep", "highest"))
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
        f" (kept {kept:g}%)",
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


def find_progress(user: User, context: LtiContext | None, module: Module):
    """The user's progress in ``module`` in this context, or None."""
    return ModuleProgress.get_or_none(
        (ModuleProgress.user == user)
        & (ModuleProgress.scope == scope_of(context))
        & (ModuleProgress.module == module)
    )


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


def pages_of(module: Module) -> list[Page]:
    """The module's current pages, in order."""
    return list(
        Page.select()
        .where((Page.module == module) & Page.retired_at.is_null())
        .order_by(Page.position)
    )


def visits_of(progress: ModuleProgress | None) -> dict[int, PageVisit]:
    """The progress's page visits, keyed by page id."""
    if progress is None:
        return {}
    return {
        v.page_id: v for v in PageVisit.select().where(PageVisit.progress == progress)
    }


def record_visit(progress: ModuleProgress, page: Page) -> None:
    """Remember that the learner opened ``page`` (and resume there next time)."""
    now = utcnow()
    PageVisit.insert(progress=progress, page=page).on_conflict(
        conflict_target=[PageVisit.progress, PageVisit.page],
        update={PageVisit.last_visited_at: now},
    ).execute()
    ModuleProgress.update(last_page=page, updated_at=now).where(
        ModuleProgress.id == progress.id
    ).execute()


def mark_page_complete(progress: ModuleProgress, page: Page, version, link=None):
    """Record the explicit "mark complete" of ``page``; update completion."""
    with database.atomic():
        now = utcnow()
        PageVisit.insert(progress=progress, page=page, completed_at=now).on_conflict(
            conflict_target=[PageVisit.progress, PageVisit.page],
            update={PageVisit.completed_at: now, PageVisit.last_visited_at: now},
        ).execute()
        return refresh_completion(progress, version, link)


def refresh_completion(progress: ModuleProgress, version: ModuleVersion, link=None):
    """Apply the module's completion rule; a completion is kept once reached."""
    if progress.state == COMPLETED:
        return progress.state
    pages = pages_of(progress.module_id)
    done = PageVisit.select().where(
        (PageVisit.progress == progress)
        & PageVisit.completed_at.is_null(False)
        & PageVisit.page.in_([p.id for p in pages])
    )
    settings = version.quiz or {}
    state = module_state(
        version.completion or {},
        pages_total=len(pages),
        pages_done=done.count(),
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


def quiz_bank(module: Module) -> dict[str, tuple[int, dict]]:
    """Current question data of the module's bank: slug -> (version id, data)."""
    rows = (
        QuestionVersion.select(QuestionVersion.id, QuestionVersion.data)
        .join(
            Question,
            on=(QuestionVersion.question == Question.id)
            & (QuestionVersion.number == Question.version),
        )
        .where((Question.module == module) & Question.retired_at.is_null())
        .order_by(Question.position)
    )
    return {row.data["id"]: (row.id, row.data) for row in rows}


def attempt_questions(attempt: QuizAttempt) -> list[dict]:
    """The question data an attempt drew, in the order it showed them."""
    ids = attempt.question_versions
    rows = QuestionVersion.select().where(QuestionVersion.id.in_(ids))
    by_id = {row.id: row.data for row in rows}
    return [by_id[i] for i in ids]


def attempts_of(user: User, context: LtiContext | None, module: Module):
    """The user's attempts at the module's quiz in this context, oldest first."""
    return _attempts(user, scope_of(context), module)


def _attempts(user, scope: int, module):
    return (
        QuizAttempt.select()
        .where(
            (QuizAttempt.user == user)
            & (QuizAttempt.scope == scope)
            & (QuizAttempt.module == module)
        )
        .order_by(QuizAttempt.number)
    )


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
    existing = _resumable(user, context, module, key)
    if existing is not None:
        return existing
    attempts = list(attempts_of(user, context, module))
    settings = version.quiz
    if attempts_left(settings.get("max_attempts", 0), len(attempts)) == 0:
        raise AttemptsExhausted(module.slug)
    try:
        with database.atomic():
            return _create_attempt(
                user, context, module, version, key, len(attempts) + 1, rng
            )
    except IntegrityError:  # a concurrent start won the race: use its attempt
        found = _resumable(user, context, module, key)
        if found is None:
            raise
        return found


def _resumable(user, context, module, key) -> QuizAttempt | None:
    """The attempt started with ``key``, else an unfinished one (survives reload)."""
    by_key = QuizAttempt.get_or_none(QuizAttempt.idempotency_key == key)
    if by_key is not None and by_key.user_id == user.id:
        return by_key
    return (
        attempts_of(user, context, module)
        .where(QuizAttempt.status == ATTEMPT_IN_PROGRESS)
        .first()
    )


def _create_attempt(user, context, module, version, key, number, rng) -> QuizAttempt:
    settings = version.quiz
    rng = rng or random.Random(secrets.randbits(64))
    bank = quiz_bank(module)
    data = [entry for _, entry in bank.values()]
    draw = settings.get("draw") or []
    drawn = quizzes.draw_quiz(data, draw, rng, settings.get("shuffle_questions", True))
    if not draw:
        drawn = data  # no blueprint: the whole bank, in order
    layout = quizzes.present_quiz(drawn, rng, settings.get("shuffle_options", True))
    return QuizAttempt.create(
        user=user,
        context=context,
        scope=scope_of(context),
        module=module,
        module_version=version,
        number=number,
        idempotency_key=key,
        question_versions=[bank[entry["id"]][0] for entry in drawn],
        layout=layout,
        responses={},
    )


def parse_responses(questions: list[dict], form: dict[str, list[str]]) -> dict:
    """Every scored item's response from submitted form values."""
    responses = {}
    for entry in questions:
        for item in quizzes.scored_items(entry):
            response = quizzes.parse_response(item, form)
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


def submit_attempt(
    attempt: QuizAttempt, form: dict[str, list[str]], link: LtiResourceLink | None
) -> QuizAttempt:
    """Score and close an attempt once; a resubmission returns the stored result."""
    questions = attempt_questions(attempt)
    settings = attempt.module_version.quiz
    responses = parse_responses(questions, form)
    score = quizzes.score_quiz(questions, responses, settings["passing_percent"])
    with database.atomic():
        now = utcnow()
        closed = (
            QuizAttempt.update(
                status=ATTEMPT_SUBMITTED,
                responses=responses,
                earned=score.earned,
                possible=score.possible,
                percent=score.percent,
                passed=score.passed,
                submitted_at=now,
            )
            .where(
                (QuizAttempt.id == attempt.id)
                & (QuizAttempt.status == ATTEMPT_IN_PROGRESS)
            )
            .execute()
        )
        if closed:
            _store_items(attempt, questions, score)
            _after_submit(attempt, settings, link)
    return QuizAttempt.get_by_id(attempt.id)


def _store_items(attempt, questions, score: quizzes.QuizScore) -> None:
    versions = {}
    for version_id, entry in zip(attempt.question_versions, questions, strict=True):
        for item in quizzes.scored_items(entry):
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
    submitted = list(
        _attempts(attempt.user_id, attempt.scope, attempt.module_id).where(
            QuizAttempt.status == ATTEMPT_SUBMITTED
        )
    )
    percents = [a.percent for a in submitted]
    passed = any(a.passed for a in submitted)
    progress = open_progress(attempt.user_id, attempt.context, attempt.module_id)
    progress.passed = passed
    progress.attempts_used = len(submitted)
    progress.kept_percent = quizzes.kept_percent(
        percents, settings.get("score_to_keep", "highest")
    )
    refresh_completion(progress, attempt.module_version, link)
    post = score_to_post(percents, settings, passed=passed)
    _enqueue(progress, post, link, submitted=attempt)


def _enqueue(progress, post: ScoreToPost, link, submitted) -> None:
    """Hand a score to the passback outbox, inside the caller's transaction."""
    try:
        from lms_plugin.passback import enqueue_score
    except ImportError:  # the passback subsystem is not installed in this build
        return
    module = Module.get_by_id(progress.module_id)
    bound = link if link is not None and link.module_slug == module.slug else None
    extra = None
    if submitted is not None:
        extra = {
            "startedAt": submitted.started_at.isoformat(timespec="milliseconds") + "Z",
            "submittedAt": utcnow().isoformat(timespec="milliseconds") + "Z",
        }
    enqueue_score(
        user=User.get_by_id(progress.user_id),
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


# --- what the learner's pages show ------------------------------------------------


def numbering(questions: list[dict]) -> tuple[dict[str, int], int]:
    """Each scored item's number in the quiz, and how many there are."""
    items = [item for entry in questions for item in quizzes.scored_items(entry)]
    return {item["id"]: n for n, item in enumerate(items, start=1)}, len(items)


def resume_page(pages: list[Page], visits: dict, progress) -> Page | None:
    """Where to pick up: the last page opened, else the first not completed."""
    if progress is not None and progress.last_page_id:
        for page in pages:
            if page.id == progress.last_page_id:
                return page
    for page in pages:
        visit = visits.get(page.id)
        if visit is None or visit.completed_at is None:
            return page
    return pages[0] if pages else None


def module_view(user, context, module: Module, version: ModuleVersion) -> dict:
    """The overview's data: sections with their state, progress, quiz standing."""
    pages = pages_of(module)
    found = find_progress(user, context, module)
    visits = visits_of(found)
    attempts = list(attempts_of(user, context, module)) if version.quiz else []
    return {
        "module": module,
        "version": version,
        "pages": pages,
        "visits": visits,
        "progress": found,
        "done": sum(1 for v in visits.values() if v.completed_at),
        "resume": resume_page(pages, visits, found),
        "attempts": [a for a in attempts if a.status == ATTEMPT_SUBMITTED],
        "in_progress": any(a.status == ATTEMPT_IN_PROGRESS for a in attempts),
        "left": attempts_left(
            (version.quiz or {}).get("max_attempts", 0), len(attempts)
        ),
    }


def page_view(user, context, module, version, page_slug: str) -> dict | None:
    """A section's data (None if no such page); records the visit."""
    pages = pages_of(module)
    index = next((n for n, p in enumerate(pages) if p.slug == page_slug), None)
    if index is None:
        return None
    found = open_progress(user, context, module)
    record_visit(found, pages[index])
    return {
        "module": module,
        "version": version,
        "pages": pages,
        "page": pages[index],
        "index": index,
        "previous": pages[index - 1] if index > 0 else None,
        "next": pages[index + 1] if index + 1 < len(pages) else None,
        "visits": visits_of(found),
        "progress": found,
    }


def complete_page(user, context, module, version, page_slug, link) -> str | None:
    """Mark a page complete; where to go next: a page slug, "quiz" or "module"."""
    pages = pages_of(module)
    index = next((n for n, p in enumerate(pages) if p.slug == page_slug), None)
    if index is None:
        return None
    found = open_progress(user, context, module)
    mark_page_complete(found, pages[index], version, link)
    if index + 1 < len(pages):
        return pages[index + 1].slug
    return "quiz" if version.quiz and not found.passed else "module"


def quiz_view(user, context, module: Module, version: ModuleVersion) -> dict:
    """The quiz page's data: the attempt in progress, or rules and history."""
    attempts = list(attempts_of(user, context, module))
    current = next((a for a in attempts if a.status == ATTEMPT_IN_PROGRESS), None)
    view = {"module": module, "version": version, "settings": version.quiz}
    if current is not None:
        questions = attempt_questions(current)
        numbers, total = numbering(questions)
        view.update(
            attempt=current,
            questions=questions,
            numbers=numbers,
            total=total,
            saved=current.responses or {},
        )
        return view
    submitted = [a for a in attempts if a.status == ATTEMPT_SUBMITTED]
    settings = version.quiz
    view.update(
        attempts=submitted,
        left=attempts_left(settings.get("max_attempts", 0), len(submitted)),
        kept=quizzes.kept_percent(
            [a.percent for a in submitted], settings.get("score_to_keep", "highest")
        ),
        passed=any(a.passed for a in submitted),
        items=planned_items(module, settings),
    )
    return view


def planned_items(module: Module, settings: dict) -> int:
    """How many items an attempt asks: the draw's counts, or the whole bank."""
    draw = settings.get("draw") or []
    if draw:
        return sum(int(rule["count"]) for rule in draw)
    return numbering([entry for _, entry in quiz_bank(module).values()])[1]


def result_view(attempt: QuizAttempt, context) -> dict:
    """A submitted attempt's data: score, per-item results, whether to reveal."""
    questions = attempt_questions(attempt)
    version = attempt.module_version
    settings = version.quiz
    score = quizzes.score_quiz(
        questions, attempt.responses or {}, settings["passing_percent"]
    )
    submitted = list(
        _attempts(attempt.user_id, attempt.scope, attempt.module_id).where(
            QuizAttempt.status == ATTEMPT_SUBMITTED
        )
    )
    numbers, total = numbering(questions)
    reveal = quizzes.may_show_answers(
        settings.get("show_answers", "after_pass_or_last_attempt"),
        any(a.passed for a in submitted),
        len(submitted),
        settings.get("max_attempts", 0),
    )
    module = Module.get_by_id(attempt.module_id)
    return {
        "attempt": attempt,
        "module": module,
        "version": version,
        "settings": settings,
        "questions": questions,
        "results": {item.question_id: item for item in score.items},
        "numbers": numbers,
        "total": total,
        "reveal": reveal,
        "attempts": submitted,
        "left": attempts_left(settings.get("max_attempts", 0), len(submitted)),
        "passed_any": any(a.passed for a in submitted),
    }
