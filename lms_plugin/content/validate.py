"""Validate stage: parsed course data -> every problem, with file and line.

Pure: reads only the plain data from ``parse``. Course-wide facts (ids taken,
references) accumulate in a :class:`CourseIndex` while modules stream past, so a
course of any size is checked module by module in flat memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lms_plugin.content import lint
from lms_plugin.content import measures
from lms_plugin.content import review
from lms_plugin.content.checker import BLOOM
from lms_plugin.content.checker import ID
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Assets
from lms_plugin.content.data import Course
from lms_plugin.content.data import Module
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.data import Page
from lms_plugin.content.data import Problem
from lms_plugin.content.data import Reference
from lms_plugin.content.images import MAX_ASSET_BYTES
from lms_plugin.content.parse import MAX_FILE_BYTES
from lms_plugin.content.parse import PAGE_NAME
from lms_plugin.content.parse import display_path
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.render import CITATION
from lms_plugin.content.render import cited_keys
from lms_plugin.questions import ENTRY_MARKDOWN
from lms_plugin.questions import TYPES

PAGE_TYPES = ("lesson", "case", "reflection", "summary")
STATUSES = ("draft", "in-review", "reviewed", "retired")
SCORE_TO_KEEP = ("highest", "latest")
SHOW_ANSWERS = ("after_submit", "after_pass_or_last_attempt", "never")


@dataclass
class CourseIndex:
    """What validation of one module needs to know about the rest of the course."""

    references: dict[str, Reference] = field(default_factory=dict)  # course-wide
    reference_keys: dict[str, str] = field(default_factory=dict)  # key -> "path:line"
    ids: dict[str, str] = field(default_factory=dict)  # id -> "path:line"
    #: question id -> type as published (publish fills it to catch type changes)
    published_types: dict[str, str] = field(default_factory=dict)
    #: the course's assets/ folder, which images must come from
    assets: Assets | None = None

    def claim(self, c: Checker, value, line: int, what: str) -> bool:
        """Register a course-wide id; report malformed or duplicate ones."""
        if not isinstance(value, str) or not ID.match(value):
            c.error(
                line,
                f"{what} id {value!r} must be lower-case letters, digits and '-', "
                "starting with a letter or digit",
            )
            return False
        if value in self.ids:
            c.error(line, f"{what} id '{value}' is already used at {self.ids[value]}")
            return False
        self.ids[value] = f"{c.path}:{line}"
        return True


def validate_path(
    path: Path,
    max_bytes: int = MAX_FILE_BYTES,
    max_asset_bytes: int = MAX_ASSET_BYTES,
    strict: bool = False,
) -> list[Problem]:
    """Validate every course at ``path`` (a course folder or a folder of courses).

    ``strict`` adds the release checks (``--strict``): a whole, current review
    record per module and the bank measures of ``lint``.
    """
    roots = find_courses(Path(path))
    if not roots:
        return [Problem(str(path), 1, "no course.yaml found here or one level below")]
    problems = []
    for root in roots:
        course = parse_course(root, max_bytes, max_asset_bytes)
        index = CourseIndex()
        problems += validate_course(course, index, strict)
        for module in iter_modules(course, max_bytes):
            problems += validate_module(module, index, strict)
    return problems


def validate_course(
    course: Course, index: CourseIndex, strict: bool = False
) -> list[Problem]:
    """Check course.yaml, the module list and course-wide references."""
    path = display_path(Path(course.root) / "course.yaml")
    c = Checker(path)
    c.problems += course.problems
    index.assets = course.assets
    meta = course.meta
    if meta is None:
        return c.problems
    folder = Path(course.root).name
    if meta.get("id") != folder:
        c.error(meta.line_of("id"), f"course id must equal its folder name '{folder}'")
    c.text(meta, "title", "course")
    summary_line = meta.line_of("summary") + 1
    lint.check_markdown(
        c, meta.get("summary"), summary_line, "course summary", index.assets
    )
    _check_module_list(c, course, meta)
    index.references = _check_references(c, course.references, index, strict)
    return c.problems


def _check_module_list(c: Checker, course: Course, meta: Node) -> None:
    listed = meta.get("modules")
    if not isinstance(listed, NodeList) or not listed:
        c.error(meta.line_of("modules"), "course needs a 'modules:' list of module ids")
        return
    for position, module_id in enumerate(listed):
        line = listed.line_of(position)
        if listed.index(module_id) != position:
            c.error(line, f"module '{module_id}' is listed twice")
        elif module_id not in course.module_folders:
            message = (
                f"module '{module_id}' is listed but modules/{module_id}/ is missing"
            )
            c.error(line, message)
    for folder in course.module_folders:
        if folder not in listed:
            message = f"modules/{folder}/ is not listed; it will not be published"
            c.warn(meta.line_of("modules"), message)


def _check_references(
    c: Checker, refs, index: CourseIndex, strict: bool = False
) -> dict:
    """Check reference entries; return the usable ones by key.

    ``strict`` adds the traceability measures (DOI or URL, a year or access date).
    """
    usable = {}
    for ref in refs:
        r = Checker(ref.path)
        if not ID.match(ref.key or ""):
            r.error(ref.line, f"reference key {ref.key!r} must be like 'baile-2000'")
        elif ref.key in index.reference_keys:
            where = index.reference_keys[ref.key]
            r.error(ref.line, f"reference '{ref.key}' is already defined at {where}")
        else:
            index.reference_keys[ref.key] = f"{ref.path}:{ref.line}"
            usable[ref.key] = ref
        r.text(ref.data, "citation", f"reference '{ref.key}'")
        if ref.url is not None and not str(ref.url).startswith(("http://", "https://")):
            line = ref.data.line_of("url")
            r.error(
                line, f"reference '{ref.key}': url must start with https:// or http://"
            )
        review.check_date(r, ref.data, "accessed", f"reference '{ref.key}'")
        if strict:
            measures.check_reference_source(r, ref)
        c.problems += r.problems
    return usable


@dataclass
class _ModuleCheck:
    """One module's checker state: its objectives, usable references, pools."""

    module: Module
    index: CourseIndex
    objectives: dict[str, int] = field(default_factory=dict)  # id -> line
    references: dict[str, Reference] = field(default_factory=dict)
    pool: Counter = field(default_factory=Counter)  # objective -> scored items
    problems: list[Problem] = field(default_factory=list)
    strict: bool = False  # run the release measures too (--strict)

    def checker(self, path: str) -> Checker:
        c = Checker(path)
        c.problems = self.problems
        return c


def validate_module(
    module: Module, index: CourseIndex, strict: bool = False
) -> list[Problem]:
    """Check one module: metadata, references, pages, quiz, bank and review record."""
    m = _ModuleCheck(module, index, problems=list(module.problems), strict=strict)
    if module.meta is None:
        return m.problems
    _check_module_meta(m)
    local = _check_references(
        m.checker(module.paths["references.yaml"]), module.references, index, strict
    )
    m.references = {**index.references, **local}
    page_minutes = sum(_check_page(m, page) for page in module.pages)
    _check_bank(m)
    quiz_minutes = _check_quiz(m)
    _check_minutes(m, page_minutes + quiz_minutes)
    _check_review(m, strict)
    return m.problems


def _check_review(m: _ModuleCheck, strict: bool) -> None:
    path = m.module.paths.get("review.yaml")
    if path is None:
        return  # plain data, no folder behind it
    c = m.checker(path)
    if m.module.review is not None:
        review.check_review(c, m.module.review, m.references, m.module.digest, strict)
    elif strict and not Path(path).exists():
        review.missing_review(c, 1)


def _check_module_meta(m: _ModuleCheck) -> None:
    meta, c = m.module.meta, m.checker(m.module.paths["module.yaml"])
    if meta.get("id") != m.module.id:
        c.error(
            meta.line_of("id"), f"module id must equal its folder name '{m.module.id}'"
        )
    m.index.claim(c, m.module.id, meta.line_of("id"), "module")
    c.text(meta, "title", "module")
    if c.text(meta, "summary", "module"):
        line = meta.line_of("summary") + 1
        lint.check_markdown(c, meta["summary"], line, "summary", m.index.assets)
    _require_minutes(c, meta, "module")
    objectives = meta.get("objectives")
    if not isinstance(objectives, NodeList) or not objectives:
        c.error(meta.line_of("objectives"), "module needs an 'objectives:' list")
        objectives = []
    for objective in objectives:
        _check_objective(m, c, objective)
    if meta.get("status", "draft") not in STATUSES:
        c.warn(meta.line_of("status"), f"status should be one of {', '.join(STATUSES)}")
    _check_completion(c, meta)


def _check_objective(m: _ModuleCheck, c: Checker, objective) -> None:
    if not isinstance(objective, Node):
        c.error(
            m.module.meta.line_of("objectives"), "each objective needs id, text, bloom"
        )
        return
    if m.index.claim(c, objective.get("id"), objective.line, "objective"):
        m.objectives[objective["id"]] = objective.line
    c.text(objective, "text", f"objective '{objective.get('id')}'")
    if objective.get("bloom") not in BLOOM:
        c.warn(
            objective.line_of("bloom"),
            f"objective bloom should be one of {', '.join(BLOOM)}",
        )


def _check_completion(c: Checker, meta: Node) -> None:
    completion = meta.get("completion", {})
    if not isinstance(completion, dict):
        c.error(meta.line_of("completion"), "completion must be a mapping")
        return
    for key, value in completion.items():
        if key not in ("require_all_pages", "require_quiz_pass"):
            c.error(completion.line_of(key), f"unknown completion rule '{key}'")
        elif not isinstance(value, bool):
            c.error(
                completion.line_of(key), f"completion '{key}' must be true or false"
            )


def _require_minutes(c: Checker, node: Node, label: str) -> int:
    minutes = node.get("est_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        c.error(
            node.line_of("est_minutes"),
            f"{label} needs 'est_minutes' (whole minutes > 0)",
        )
        return 0
    return minutes


def _check_page(m: _ModuleCheck, page: Page) -> int:
    c, meta = m.checker(page.path), page.meta
    label = f"page '{page.id or Path(page.path).name}'"
    if not PAGE_NAME.match(Path(page.path).name):
        c.warn(1, "page file names should look like 01-short-title.md")
    m.index.claim(c, meta.get("id"), meta.line_of("id"), "page")
    c.text(meta, "title", label)
    if meta.get("type") not in PAGE_TYPES:
        c.error(
            meta.line_of("type"),
            f"{label}: type must be one of {', '.join(PAGE_TYPES)}",
        )
    minutes = _require_minutes(c, meta, label)
    _check_objective_refs(m, c, meta, label)
    listed = _check_reference_list(m, c, meta, label)
    _check_citations(m, c, page.body, page.body_line, label, listed)
    lint.check_markdown(c, page.body, page.body_line, label, m.index.assets)
    vignette = meta.get("type") == "case"
    lint.check_phi(c, page.body, page.body_line, label, vignette=vignette)
    for offset, line in enumerate(page.body.splitlines()):
        if line.startswith("# "):
            c.warn(
                page.body_line + offset,
                f"{label}: the title is the page's only H1; start with ##",
            )
    text = f"{meta.get('title', '')}\n{page.body}"
    if lint.needs_jurisdiction(text) and not meta.get("jurisdiction"):
        c.warn(
            meta.line,
            f"{label} is about privacy, consent, insurance or law: "
            "add 'jurisdiction:' (e.g. US)",
        )
    return minutes


def _check_objective_refs(m: _ModuleCheck, c: Checker, meta: Node, label: str) -> None:
    objectives = meta.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        c.warn(meta.line_of("objectives"), f"{label} lists no objectives")
        return
    for objective in objectives:
        if objective not in m.objectives:
            c.error(
                meta.line_of("objectives"),
                f"{label}: objective '{objective}' is not in module.yaml",
            )


def _check_reference_list(m: _ModuleCheck, c: Checker, node: Node, label: str) -> list:
    listed = node.get("references", [])
    if not isinstance(listed, list):
        c.error(
            node.line_of("references"), f"{label}: references must be a list of keys"
        )
        return []
    for key in listed:
        if key not in m.references:
            c.error(
                node.line_of("references"),
                f"{label}: reference '{key}' is not in any references.yaml",
            )
    return listed


def _check_citations(
    m: _ModuleCheck, c: Checker, text, line: int, label: str, listed=None
) -> None:
    if not isinstance(text, str):
        return
    for match in CITATION.finditer(text):
        where = line + text.count("\n", 0, match.start())
        for key in cited_keys(match.group(0)):
            if key not in m.references:
                c.error(
                    where,
                    f"{label} cites [@{key}], which is not in any references.yaml",
                )
            elif listed is not None and key not in listed:
                c.warn(
                    where,
                    f"{label} cites [@{key}]; add it to the page's references list",
                )


def _check_bank(m: _ModuleCheck) -> None:
    singles = longest = 0
    for question in m.module.questions:
        c = m.checker(question.path)
        q = question.data
        _check_question(m, c, q, f"question '{question.id or '?'}'")
        for child in TYPES.children(q):
            _check_question(m, c, child, f"question '{child.get('id')}'", child=True)
        if q.get("objective") in m.objectives and q.get("type") in TYPES:
            m.pool[q["objective"]] += len(TYPES[q["type"]].scored_items(q))
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
    m: _ModuleCheck, c: Checker, q: Node, label: str, child=False
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
    _check_reference_list(m, c, q, label)
    for key, value, line in _markdown_fields(q):
        lint.check_markdown(c, value, line, label, m.index.assets)
        _check_citations(m, c, value, line, label)
        if key in ("stem", "stimulus"):
            lint.check_phi(c, value, line, label)
    lint.lint_options(c, q, label)


def _check_published_type(m: _ModuleCheck, c: Checker, q: Node, label: str) -> None:
    published = m.index.published_types.get(q.get("id"))
    if published and q.get("type") in TYPES and published != q["type"]:
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


def _check_quiz(m: _ModuleCheck) -> int:
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
    return _require_minutes(c, quiz, "quiz")


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


def _check_draw(m: _ModuleCheck, c: Checker, quiz: Node) -> None:
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


def _check_minutes(m: _ModuleCheck, parts: int) -> None:
    stated = m.module.meta.get("est_minutes")
    if not isinstance(stated, int) or isinstance(stated, bool) or not parts:
        return
    if abs(stated - parts) > 0.25 * parts:
        m.checker(m.module.paths["module.yaml"]).warn(
            m.module.meta.line_of("est_minutes"),
            f"est_minutes is {stated} but pages and quiz add up to {parts}; "
            "keep them within 25%",
        )
