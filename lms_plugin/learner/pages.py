"""What each learner page shows: plain data assembled from the progress tables.

One function per page (``module_view``, ``page_view``, ``quiz_view``,
``result_view``) returns the template's context; ``complete_page`` is the one
write, and says where to go next. No Flask here: the views pass the current launch
(:class:`lms_plugin.auth.CurrentLaunch`) and the module as the learner stands in it
(:class:`lms_plugin.models.learning.LearnerModule`).
"""

import dataclasses

from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.learning import LearnerModule
from lms_plugin.models.progress import ATTEMPT_SUBMITTED
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.sections import DONE
from lms_plugin.models.sections import NOT_OPENED
from lms_plugin.models.sections import OPENED
from lms_plugin.models.sections import Section
from lms_plugin.progress.attempts import attempts_of
from lms_plugin.progress.attempts import quiz_bank
from lms_plugin.progress.attempts import unfinished_attempt
from lms_plugin.progress.completion import attempts_left
from lms_plugin.progress.completion import mark_page_complete
from lms_plugin.progress.completion import open_progress
from lms_plugin.progress.completion import record_visit
from lms_plugin.questions import quiz
from lms_plugin.questions.base import ItemScore


def numbering(questions: list[dict]) -> tuple[dict[str, int], int]:
    """Each scored item's number in the quiz, and how many there are."""
    items = [item for entry in questions for item in quiz.scored_items(entry)]
    return {item["id"]: n for n, item in enumerate(items, start=1)}, len(items)


def resume_page(sections: list[Section], progress) -> Section | None:
    """Where to pick up: the last page opened, else the first not done."""
    if progress is not None and progress.last_page_id:
        for section in sections:
            if section.id == progress.last_page_id:
                return section
    for section in sections:
        if section.state != DONE:
            return section
    return sections[0] if sections else None


def module_view(standing: LearnerModule) -> dict:
    """The overview's data: sections with their state, progress, quiz standing."""
    found, sections, version = standing.progress, standing.sections, standing.version
    return {
        "module": standing.module,
        "version": version,
        "sections": sections,
        "progress": found,
        "done": sum(1 for s in sections if s.state == DONE),
        "resume": resume_page(sections, found),
        "in_progress": standing.attempts_open > 0,
        "left": attempts_left(
            (version.quiz or {}).get("max_attempts", 0), standing.attempts_made
        ),
    }


def _progress_row(launch, standing: LearnerModule):
    """The learner's progress in the module, opened on first use."""
    if standing.progress is not None:
        return standing.progress
    return open_progress(launch.user, launch.context, standing.module)


def page_view(launch, standing: LearnerModule, page_slug: str) -> dict | None:
    """A section's data (None if no such page); records the visit."""
    module, version = standing.module, standing.version
    page = Page.current_by_slug(module, page_slug)
    if page is None:
        return None
    found = _progress_row(launch, standing)
    record_visit(found, page)
    sections = list(standing.sections)  # as they were before this visit
    index = next((n for n, s in enumerate(sections) if s.id == page.id), None)
    if index is None:  # published between the two reads
        return None
    if sections[index].state == NOT_OPENED:
        sections[index] = sections[index]._replace(state=OPENED)
    return {
        "module": module,
        "version": version,
        "sections": sections,
        "page": page,
        "index": index,
        "previous": sections[index - 1] if index > 0 else None,
        "next": sections[index + 1] if index + 1 < len(sections) else None,
        "done": sections[index].state == DONE,
        "progress": found,
    }


def complete_page(launch, standing: LearnerModule, page_slug: str) -> str | None:
    """Mark a page complete; where to go next: a page slug, "quiz" or "module"."""
    version, sections = standing.version, standing.sections
    index = next((n for n, s in enumerate(sections) if s.slug == page_slug), None)
    if index is None:
        return None
    found = _progress_row(launch, standing)
    mark_page_complete(found, sections[index].id, version, launch.link)
    if index + 1 < len(sections):
        return sections[index + 1].slug
    return "quiz" if version.quiz and not found.passed else "module"


def quiz_view(user, context, module: Module, version: ModuleVersion) -> dict:
    """The quiz page's data: the attempt in progress, or rules and history."""
    attempts = attempts_of(user, context, module)
    current = unfinished_attempt(attempts)
    view = {"module": module, "version": version, "settings": version.quiz}
    if current is not None:
        questions = current.drawn_questions()
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
        kept=quiz.kept_percent(
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


def as_scored(item: ItemScore, row) -> ItemScore:
    """``item`` with the credit stored when the attempt was submitted.

    The page rescores the responses for the choices' feedback, but the credit is
    what the attempt earned then: a later change of a scoring rule must not make
    the page disagree with the stored total.
    """
    if row is None:
        return item
    return dataclasses.replace(item, earned=row.earned, possible=row.possible)


def result_view(attempt: QuizAttempt, context) -> dict:
    """A submitted attempt's data: score, per-item results, whether to reveal."""
    questions = attempt.drawn_questions()
    version = attempt.module_version
    settings = version.quiz
    score = quiz.score(questions, attempt.responses or {}, settings["passing_percent"])
    scored = {row.item_id: row for row in AttemptItem.for_attempt(attempt)}
    submitted = attempt.submitted_so_far()
    numbers, total = numbering(questions)
    reveal = quiz.may_show_answers(
        settings.get("show_answers", "after_pass_or_last_attempt"),
        any(a.passed for a in submitted),
        len(submitted),
        settings.get("max_attempts", 0),
    )
    module = attempt.module
    return {
        "attempt": attempt,
        "module": module,
        "version": version,
        "settings": settings,
        "questions": questions,
        "results": {
            item.question_id: as_scored(item, scored.get(item.question_id))
            for item in score.items
        },
        "numbers": numbers,
        "total": total,
        "reveal": reveal,
        "attempts": submitted,
        "left": attempts_left(settings.get("max_attempts", 0), len(submitted)),
        "passed_any": any(a.passed for a in submitted),
    }
