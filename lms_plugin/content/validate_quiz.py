"""Validate the question bank and the quiz: every question, its pools, the settings.

The per-type rules are the question types' own (:mod:`lms_plugin.questions`);
here is what a question means in its module and course (ids, objectives,
references, citations, a type that cannot change once published) and the quiz's
settings and draw against the bank.
"""

from __future__ import annotations

from pathlib import Path

from lms_plugin.content import lint
from lms_plugin.content import measures
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.validate_state import ModuleCheck
from lms_plugin.content.validate_state import check_citations
from lms_plugin.content.validate_state import check_reference_list
from lms_plugin.content.validate_state import require_minutes
from lms_plugin.questions import ENTRY_MARKDOWN
from lms_plugin.questions import TYPES

SCORE_TO_KEEP = ("highest", "latest")
SHOW_ANSWERS = ("after_submit", "after_pass_or_last_attempt", "never")


def check_bank(m: ModuleCheck) -> None:
    """Check every question of the bank, then the bank as a whole and its pools."""
    singles = longest = 0
    for question in m.module.questions:
        c = m.checker(question.path)
        q = question.data
        _check_question(m, c, q, f"question '{question.id or '?'}'")
        for child in TYPES.children(q):
            _check_question(m, c, child, f"question '{child.get('id')}'", child=True)
        kind, objective = TYPES.kind_of(q), q.get("objective")
        if (
            kind is not None
            and isinstance(objective, str)
            and objective in m.objectives
        ):
            m.pool[objective] += len(kind.scored_items(q))
        if m.strict:
            _measure_question(c, q, question.id)
        verdict = lint.longest_is_correct(q)
        if verdict is not None:
            singles += 1
            longest += verdict
    if singles >= 4 and longest * 2 > singles:
        m.checker(m.module.paths["bank.yaml"]).warn(
            1,
            f"the correct option is the longest in {longest} of {singles} single "
            "items; vary option lengths so length does not cue the answer",
        )
    if m.strict and m.module.questions:
        bank = m.checker(m.module.paths["bank.yaml"])
        measures.check_key_length_ranks(bank, [q.data for q in m.module.questions])
        measures.check_extreme_words(bank, [q.data for q in m.module.questions])
    for objective, line in m.objectives.items():
        if m.pool[objective] < 2:
            m.checker(m.module.paths["module.yaml"]).error(
                line,
                f"objective '{objective}' is assessed by {m.pool[objective]} "
                "question(s) in bank.yaml; it needs at least 2",
            )


def _measure_question(c: Checker, q: Node, qid: str) -> None:
    """The per-item release measures (``--strict``): ages stated in stems."""
    measures.check_ages(c, q, f"question '{qid or '?'}'")
    relevant = q.get("age_relevant") is True  # a set's flag covers its children
    for child in TYPES.children(q):
        measures.check_ages(c, child, f"question '{child.get('id')}'", relevant)


def _check_question(
    m: ModuleCheck, c: Checker, q: Node, label: str, child=False
) -> None:
    m.index.claim(c, q.get("id"), q.line_of("id"), "question")
    if "age_relevant" in q and not isinstance(q["age_relevant"], bool):
        c.error(
            q.line_of("age_relevant"), f"{label}: age_relevant must be true or false"
        )
    if not child:
        TYPES.check(c, q, label)
        objective = q.get("objective")
        if isinstance(objective, str) and objective not in m.objectives:
            c.error(
                q.line_of("objective"),
                f"{label}: objective '{objective}' is not in module.yaml",
            )
        _check_published_type(m, c, q, label)
    check_reference_list(m, c, q, label)
    for key, value, line in _markdown_fields(q):
        lint.check_markdown(c, value, line, label, m.index.assets)
        check_citations(m, c, value, line, label)
        if key in ("stem", "stimulus"):
            lint.check_phi(c, value, line, label)
    lint.lint_options(c, q, label)


def _check_published_type(m: ModuleCheck, c: Checker, q: Node, label: str) -> None:
    qid = q.get("id")
    published = m.index.published_types.get(qid) if isinstance(qid, str) else None
    if published and TYPES.kind_of(q) is not None and published != q["type"]:
        c.error(
            q.line_of("type"),
            f"{label} was published as '{published}'; its type cannot change to "
            f"'{q.get('type')}'. Give the new question a new id instead",
        )


def _markdown_fields(q: Node):
    """(key, text, first line) of each Markdown text in a question, children aside.

    The same fields ``render.render_question`` renders.
    """
    for key in ("stem", "stimulus", "rationale"):
        if isinstance(q.get(key), str):
            yield key, q[key], q.line_of(key) + (1 if "\n" in q[key] else 0)
    for list_key, text_keys in ENTRY_MARKDOWN.items():
        for entry in q.get(list_key) or ():
            if isinstance(entry, Node):
                for key in text_keys:
                    if isinstance(entry.get(key), str):
                        yield key, entry[key], entry.line_of(key)
    distractors = q.get("distractors")
    if isinstance(distractors, NodeList):
        for index, text in enumerate(distractors):
            if isinstance(text, str):
                yield "distractors", text, distractors.line_of(index)
    feedback = q.get("feedback")
    if isinstance(feedback, Node):
        for key, value in feedback.items():
            if isinstance(value, str):
                yield "feedback", value, feedback.line_of(key)


def check_quiz(m: ModuleCheck) -> int:
    """Check quiz.yaml: its settings and its draw against the bank; its minutes."""
    quiz, meta = m.module.quiz, m.module.meta
    c = m.checker(m.module.paths["quiz.yaml"])
    if quiz is None and Path(c.path).exists():
        return 0  # present but unreadable: parse already said why
    if quiz is None:
        completion = (
            meta.get("completion") if isinstance(meta.get("completion"), dict) else {}
        )
        if m.module.questions or completion.get("require_quiz_pass", True):
            c.error(
                1, "quiz.yaml is missing (or set completion.require_quiz_pass: false)"
            )
        return 0
    m.index.claim(c, quiz.get("id"), quiz.line_of("id"), "quiz")
    c.text(quiz, "title", "quiz")
    _check_quiz_settings(c, quiz)
    _check_draw(m, c, quiz)
    return require_minutes(c, quiz, "quiz")


def _check_quiz_settings(c: Checker, quiz: Node) -> None:
    percent = quiz.get("passing_percent", 80)
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not 0 <= percent <= 100
    ):
        c.error(quiz.line_of("passing_percent"), "passing_percent must be 0–100")
    attempts = quiz.get("max_attempts", 3)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        c.error(
            quiz.line_of("max_attempts"), "max_attempts must be 0 (unlimited) or more"
        )
    for key, allowed in (
        ("score_to_keep", SCORE_TO_KEEP),
        ("show_answers", SHOW_ANSWERS),
    ):
        if key in quiz and quiz[key] not in allowed:
            c.error(quiz.line_of(key), f"{key} must be one of {', '.join(allowed)}")
    for key in ("shuffle_questions", "shuffle_options"):
        if key in quiz and not isinstance(quiz[key], bool):
            c.error(quiz.line_of(key), f"{key} must be true or false")
    line_item = quiz.get("line_item", {})
    maximum = (
        line_item.get("score_maximum", 100) if isinstance(line_item, dict) else None
    )
    if (
        isinstance(maximum, bool)
        or not isinstance(maximum, int | float)
        or maximum <= 0
    ):
        c.error(
            quiz.line_of("line_item"), "line_item.score_maximum must be a number > 0"
        )


def _check_draw(m: ModuleCheck, c: Checker, quiz: Node) -> None:
    draw = quiz.get("draw")
    if not isinstance(draw, NodeList) or not draw:
        c.error(quiz.line_of("draw"), "quiz needs a 'draw:' list of {objective, count}")
        return
    drawn = set()
    for index, entry in enumerate(draw):
        line = draw.line_of(index)
        if not isinstance(entry, Node):
            c.error(line, "each draw entry is {objective: ..., count: ...}")
            continue
        objective, count = entry.get("objective"), entry.get("count")
        if not isinstance(objective, str):
            c.error(line, "each draw entry names one objective id: {objective: id}")
            continue
        drawn.add(objective)
        if objective not in m.objectives:
            c.error(
                line, f"draw names objective '{objective}', which is not in module.yaml"
            )
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            c.error(line, f"draw count for '{objective}' must be a whole number ≥ 1")
        elif count > m.pool[objective]:
            c.error(
                line,
                f"draw asks for {count} items on '{objective}' but the bank has "
                f"{m.pool[objective]}",
            )
        elif m.strict:
            measures.check_pool_depth(c, line, objective, m.pool[objective], count)
    for objective in m.objectives:
        if objective not in drawn:
            c.warn(draw.line, f"objective '{objective}' is never drawn in the quiz")
