"""Publish stage: parsed, validated content into the database, in one transaction.

Upserts by the authors' stable ids (primary keys never change), versions what
changed (by content hash), retires what disappeared, and writes nothing at all when
any problem is an error or when no file changed since the last publish. The only
stage that imports models. Modules stream through one at a time; rows are written
in bulk, in chunks, so a large course needs flat memory and few round trips.

Images used in the Markdown are stored as :class:`Asset` rows keyed by the SHA-256
of their bytes (only those not stored yet are written), and the rendered HTML points
at them by digest; the digests of a text's images are part of its content hash, so a
changed image is a changed page, question or module.

Here: the transaction, the course row and the report. What changed, item by item,
is ``publish_changes.py``'s; reading and writing the published rows is
``publish_rows.py``'s.
"""

from __future__ import annotations

from pathlib import Path

from lms_plugin.clock import utcnow
from lms_plugin.content import images as image_rules
from lms_plugin.content.data import Course as ParsedCourse
from lms_plugin.content.data import Problem
from lms_plugin.content.parse import MAX_FILE_BYTES
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.parse import source_digest
from lms_plugin.content.publish_changes import CourseChanges
from lms_plugin.content.publish_changes import PublishReport
from lms_plugin.content.publish_rows import PublishAborted
from lms_plugin.content.reading import display_path
from lms_plugin.content.render import RENDER_VERSION
from lms_plugin.content.render import markdown_html
from lms_plugin.content.validate import validate_course
from lms_plugin.content.validate import validate_module
from lms_plugin.content.validate_state import CourseIndex
from lms_plugin.db import database
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question


def publish_path(
    path: Path,
    max_bytes: int = MAX_FILE_BYTES,
    max_asset_bytes: int = image_rules.MAX_ASSET_BYTES,
) -> list[PublishReport]:
    """Publish every course at ``path`` (a course folder or a folder of courses)."""
    roots = find_courses(Path(path))
    if not roots:
        problem = Problem(str(path), 1, "no course.yaml found here or one level below")
        return [PublishReport(course=str(path), problems=[problem])]
    return [publish_course(root, max_bytes, max_asset_bytes) for root in roots]


def publish_course(
    root: Path,
    max_bytes: int = MAX_FILE_BYTES,
    max_asset_bytes: int = image_rules.MAX_ASSET_BYTES,
) -> PublishReport:
    """Validate and publish one course folder; write nothing if anything is wrong."""
    course = parse_course(Path(root), max_bytes, max_asset_bytes)
    report = PublishReport(course=course.id)
    digest = source_digest(Path(root), salt=RENDER_VERSION)
    with database.connection_context():
        row = Course.get_or_none(Course.slug == course.id)
        if row is not None and row.source_hash == digest:
            _count_unchanged(row, report)
            return report
        try:
            with database.atomic():
                _publish(course, row, digest, report, max_bytes)
        except PublishAborted as aborted:
            report.problems += aborted.problems
            report.added, report.changed, report.moved, report.retired = [], [], [], []
            report.unchanged.clear()
    return report


def _count_unchanged(row: Course, report: PublishReport) -> None:
    for kind, model in (("module", Module), ("page", Page), ("question", Question)):
        query = model.select().where(model.retired_at.is_null())
        if model is Module:
            query = query.where(Module.course == row)
        else:
            query = query.where(model.course == row)
        report.unchanged[kind] = query.count()


def _publish(course, row, digest, report: PublishReport, max_bytes: int) -> None:
    index = CourseIndex()
    report.problems += validate_course(course, index)
    report.problems += _slugs_taken_elsewhere(course, row)
    if course.meta is None:
        raise PublishAborted
    changes = CourseChanges(report, course)
    changes.read_published(_upsert_course(course, digest, changes))
    index.published_types = changes.question_types()
    changes.references(course.references, None, index.references)
    for module in iter_modules(course, max_bytes):
        problems = validate_module(module, index)
        report.problems += problems
        if not report.ok:
            continue  # keep validating; nothing will be committed
        changes.module(module, course, index)
    if not report.ok:
        raise PublishAborted
    changes.flush()
    changes.retire_missing()


def _slugs_taken_elsewhere(course: ParsedCourse, row) -> list[Problem]:
    query = Module.select(Module.slug, Course.slug.alias("owner")).join(Course)
    query = query.where(Module.slug.in_(list(course.module_ids)))
    if row is not None:
        query = query.where(Module.course != row)
    path = display_path(Path(course.root) / "course.yaml")
    return [
        Problem(path, 1, f"module id '{m.slug}' is already used by course '{m.owner}'")
        for m in query.objects()
    ]


def _upsert_course(course: ParsedCourse, digest: str, changes: CourseChanges) -> Course:
    meta = course.meta
    changes.images_in(meta.get("summary"))  # its images are stored with the rest
    fields = {
        "title": str(meta.get("title", "")),
        "summary_html": markdown_html(meta.get("summary"), images=changes.urls),
        "version": str(meta.get("version", "")),
        "audiences": list(meta.get("audiences") or []),
        "source_hash": digest,
        "published_at": utcnow(),
    }
    return Course.upsert({"slug": course.id}, fields)
