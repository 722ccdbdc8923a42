"""Quiz attempts: start (or resume), save answers, submit once.

An attempt is drawn and laid out when it starts and keeps exactly what the
learner saw. Submitting scores it, closes it, stores its items and hands on to
:func:`lms_plugin.progress.completion.record_attempt` (the learner's progress and
the score to post), all in one transaction: all or nothing.
"""

import random
import secrets

from peewee import IntegrityError

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.progress import ATTEMPT_IN_PROGRESS
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import AttemptSummary
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.progress import scope_of
from lms_plugin.progress.completion import attempts_left
from lms_plugin.progress.completion import record_attempt
from lms_plugin.questions import quiz
from lms_plugin.questions.base import AnswerError


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


def quiz_bank(module: Module) -> dict[str, tuple[int, dict]]:
    """Current question data of the module's bank: slug -> (version id, data)."""
    rows = QuestionVersion.bank_of(module)
    return {row.data["id"]: (row.version_id, row.data) for row in rows}


def attempts_of(
    user: User, context: LtiContext | None, module: Module
) -> list[AttemptSummary]:
    """The user's attempts at the module's quiz in this context, oldest first."""
    return QuizAttempt.summaries(user, scope_of(context), module)


def unfinished_attempt(attempts: list[AttemptSummary]) -> QuizAttempt | None:
    """The whole row of the attempt in progress among ``attempts``, if any."""
    found = next((a for a in attempts if a.status == ATTEMPT_IN_PROGRESS), None)
    return QuizAttempt.by_id(found.id) if found is not None else None


# --- start -----------------------------------------------------------------------


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
        # A plain INSERT, the only statement of its transaction: on SQLite a read
        # first would make the write a lock upgrade, which fails at once under
        # concurrent writers. Not an upsert: both unique keys (the start key, the
        # attempt's number) mean a concurrent start won, and its attempt is used.
        with database.atomic():
            return QuizAttempt.create(**row)
    except IntegrityError:
        found = _resumable(user, key, attempts_of(user, context, module))
        if found is None:
            raise
        return found


def _resumable(user, key, attempts: list[AttemptSummary]) -> QuizAttempt | None:
    """The attempt started with ``key``, else an unfinished one (survives reload).

    ``attempts`` are the user's attempts at the module in this context.
    """
    by_key = QuizAttempt.by_key(key)
    if by_key is not None:
        if by_key.user_id != user.id:
            raise StartKeyTaken("This form has expired. Reload the page and try again.")
        return by_key
    return unfinished_attempt(attempts)


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


# --- answers -------------------------------------------------------------------


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
    return attempt.keep_responses(parse_responses(attempt.drawn_questions(), form))


def submit_attempt(
    attempt: QuizAttempt, form: dict[str, list[str]], link: LtiResourceLink | None
) -> QuizAttempt:
    """Score and close an attempt once; a resubmission returns the stored result.

    The attempt's user, context, module and module version are read through its
    foreign keys; a caller that has them already can attach them to save the
    statements (``learner`` does).
    """
    questions = attempt.drawn_questions()
    settings = attempt.module_version.quiz
    responses = parse_responses(questions, form)
    score = quiz.score(questions, responses, settings["passing_percent"])
    scored = {
        "responses": responses,
        "earned": score.earned,
        "possible": score.possible,
        "percent": score.percent,
        "passed": score.passed,
        "submitted_at": utcnow(),  # AGS submittedAt is this stored value
    }
    with database.atomic():
        if not attempt.close(scored):
            return QuizAttempt.by_id(attempt.id)  # submitted before
        _store_items(attempt, questions, score)
        record_attempt(attempt, settings, link)
    return attempt


def _store_items(attempt, questions, score: quiz.QuizScore) -> None:
    """Insert the scored items of a just-closed attempt (once: not an upsert)."""
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
