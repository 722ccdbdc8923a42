"""Validate stage: parsed course data -> every problem, with file and line.

Pure: reads only the plain data from ``parse``. Course-wide facts (ids taken,
references) accumulate in a :class:`~lms_plugin.content.validate_state.CourseIndex`
while modules stream past, so a course of any size is checked module by module in
flat memory. Here are the course, its modules and pages; the bank and the quiz are
checked in ``validate_quiz``.
"""

from __future__ import annotations

from pathlib import Path

from lms_plugin.content import lint
from lms_plugin.content import measures
from lms_plugin.content import review
from lms_plugin.content.checker import BLOOM
from lms_plugin.content.checker import ID
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Course
from lms_plugin.content.data import Module
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.data import Page
from lms_plugin.content.data import Problem
from lms_plugin.content.images import MAX_ASSET_BYTES
from lms_plugin.content.parse import MAX_FILE_BYTES
from lms_plugin.content.parse import PAGE_NAME
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.reading import display_path
from lms_plugin.content.validate_quiz import check_bank
from lms_plugin.content.validate_quiz import check_quiz
from lms_plugin.content.validate_state import CourseIndex
from lms_plugin.content.validate_state import ModuleCheck
from lms_plugin.content.validate_state import check_citations
from lms_plugin.content.validate_state import check_reference_list
from lms_plugin.content.validate_state import require_minutes

PAGE_TYPES = ("lesson", "case", "reflection", "summary")
STATUSES = ("draft", "in-review", "reviewed", "retired")


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


def validate_module(
    module: Module, index: CourseIndex, strict: bool = False
) -> list[Problem]:
    """Check one module: metadata, references, pages, quiz, bank and review record."""
    m = ModuleCheck(module, index, problems=list(module.problems), strict=strict)
    if module.meta is None:
        return m.problems
    _check_module_meta(m)
    local = _check_references(
        m.checker(module.paths["references.yaml"]), module.references, index, strict
    )
    m.references = {**index.references, **local}
    page_minutes = sum(_check_page(m, page) for page in module.pages)
    check_bank(m)
    quiz_minutes = check_quiz(m)
    _check_minutes(m, page_minutes + quiz_minutes)
    _check_review(m, strict)
    return m.problems


def _check_review(m: ModuleCheck, strict: bool) -> None:
    path = m.module.paths.get("review.yaml")
    if path is None:
        return  # plain data, no folder behind it
    c = m.checker(path)
    if m.module.review is not None:
        review.check_review(c, m.module.review, m.references, m.module.digest, strict)
    elif strict and not Path(path).exists():
        review.missing_review(c, 1)


def _check_module_meta(m: ModuleCheck) -> None:
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
    require_minutes(c, meta, "module")
    objectives = meta.get("objectives")
    if not isinstance(objectives, NodeList) or not objectives:
        c.error(meta.line_of("objectives"), "module needs an 'objectives:' list")
        objectives = []
    for objective in objectives:
        _check_objective(m, c, objective)
    if meta.get("status", "draft") not in STATUSES:
        c.warn(meta.line_of("status"), f"status should be one of {', '.join(STATUSES)}")
    _check_completion(c, meta)


def _check_objective(m: ModuleCheck, c: Checker, objective) -> None:
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


def _check_page(m: ModuleCheck, page: Page) -> int:
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
    minutes = require_minutes(c, meta, label)
    _check_objective_refs(m, c, meta, label)
    listed = check_reference_list(m, c, meta, label)
    check_citations(m, c, page.body, page.body_line, label, listed)
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


def _check_objective_refs(m: ModuleCheck, c: Checker, meta: Node, label: str) -> None:
    objectives = meta.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        c.warn(meta.line_of("objectives"), f"{label} lists no objectives")
        return
    for objective in objectives:
        if not isinstance(objective, str):
            c.error(meta.line_of("objectives"), f"{label}: list objective ids only")
        elif objective not in m.objectives:
            c.error(
                meta.line_of("objectives"),
                f"{label}: objective '{objective}' is not in module.yaml",
            )


def _check_minutes(m: ModuleCheck, parts: int) -> None:
    stated = m.module.meta.get("est_minutes")
    if not isinstance(stated, int) or isinstance(stated, bool) or not parts:
        return
    if abs(stated - parts) > 0.25 * parts:
        m.checker(m.module.paths["module.yaml"]).warn(
            m.module.meta.line_of("est_minutes"),
            f"est_minutes is {stated} but pages and quiz add up to {parts}; "
            "keep them within 25%",
        )
