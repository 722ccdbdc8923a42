"""What each learner page shows: plain data assembled from the progress tables.

One function per page (``module_view``, ``page_view``, ``quiz_view``,
``result_view``) returns the template's context; ``complete_page`` is the one
write, and says where to go next. No Flask here either.
"""

from lms_plugin import quizzes
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.progress import ATTEMPT_SUBMITTED
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.progress import attempt_counts
from lms_plugin.progress import attempt_questions
from lms_plugin.progress import attempts_in_scope
from lms_plugin.progress import attempts_left
from lms_plugin.progress import attempts_of
from lms_plugin.progress import find_progress
from lms_plugin.progress import mark_page_complete
from lms_plugin.progress import open_progress
from lms_plugin.progress import pages_of
from lms_plugin.progress import quiz_bank
from lms_plugin.progress import record_visit
from lms_plugin.progress import unfinished_attempt
from lms_plugin.progress import visits_of


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
    pages = pages_of(module, outline=True)
    found = find_progress(user, context, module)
    visits = visits_of(found)
    used, in_progress = (
        attempt_counts(user, context, module) if version.quiz else (0, 0)
    )
    return {
        "module": module,
        "version": version,
        "pages": pages,
        "visits": visits,
        "progress": found,
        "done": sum(1 for v in visits.values() if v.completed_at),
        "resume": resume_page(pages, visits, found),
        "in_progress": in_progress > 0,
        "left": attempts_left((version.quiz or {}).get("max_attempts", 0), used),
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
    pages = pages_of(module, outline=True)
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
    attempts = attempts_of(user, context, module)
    current = unfinished_attempt(attempts)
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
    submitted = [
        a
        for a in attempts_in_scope(attempt.user_id, attempt.scope, attempt.module_id)
        if a.status == ATTEMPT_SUBMITTED
    ]
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
