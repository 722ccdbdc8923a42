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
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from peewee import chunked

from lms_plugin.clock import utcnow
from lms_plugin.content import images as image_rules
from lms_plugin.content.data import AssetFile
from lms_plugin.content.data import Course as ParsedCourse
from lms_plugin.content.data import Module as ParsedModule
from lms_plugin.content.data import Problem
from lms_plugin.content.parse import MAX_FILE_BYTES
from lms_plugin.content.parse import display_path
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.parse import source_digest
from lms_plugin.content.render import RENDER_VERSION
from lms_plugin.content.render import cited_keys
from lms_plugin.content.render import image_names
from lms_plugin.content.render import markdown_html
from lms_plugin.content.render import render_page
from lms_plugin.content.render import render_question
from lms_plugin.content.validate import validate_course
from lms_plugin.content.validate import validate_module
from lms_plugin.content.validate_state import CourseIndex
from lms_plugin.db import database
from lms_plugin.models.content import Asset
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.content import Reference
from lms_plugin.questions import TYPES

CHUNK = 200  # rows per INSERT: well under SQLite's bound-variable limit
KINDS = ("module", "page", "question", "reference")


@dataclass
class PublishReport:
    """What one publish did (or, with errors, why it did nothing)."""

    course: str
    problems: list[Problem] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    changed: list[tuple[str, str]] = field(default_factory=list)  # new content
    moved: list[tuple[str, str]] = field(default_factory=list)  # same, new place
    retired: list[tuple[str, str]] = field(default_factory=list)
    unchanged: Counter = field(default_factory=Counter)  # kind -> count

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)


class _Abort(Exception):
    """Raised inside the transaction to roll it back when errors were found."""


def content_hash(*parts) -> str:
    """A stable hash of JSON-able parts (plus the renderer version)."""
    text = json.dumps([RENDER_VERSION, *parts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


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
        except _Abort:
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
        raise _Abort
    writer = _Writer(report, course)
    row = writer.course = _upsert_course(course, row, digest, writer)
    writer.load_existing()
    index.published_types = writer.question_types()
    writer.references(course.references, None, index.references)
    for module in iter_modules(course, max_bytes):
        problems = validate_module(module, index)
        report.problems += problems
        if not report.ok:
            continue  # keep validating; nothing will be committed
        writer.module(module, course, index)
    if not report.ok:
        raise _Abort
    writer.flush()
    writer.retire_missing()


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


def _upsert_course(course: ParsedCourse, row, digest: str, writer) -> Course:
    meta = course.meta
    writer.images_in(meta.get("summary"))  # its images are stored with the rest
    fields = {
        "title": str(meta.get("title", "")),
        "summary_html": markdown_html(meta.get("summary"), images=writer.urls),
        "version": str(meta.get("version", "")),
        "audiences": list(meta.get("audiences") or []),
        "source_hash": digest,
        "published_at": utcnow(),
    }
    if row is None:
        return Course.create(slug=course.id, **fields)
    Course.update(**fields).where(Course.id == row.id).execute()
    return Course.get_by_id(row.id)


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def _refs_used(value, listed=()) -> set[str]:
    """Reference keys cited anywhere in a nested value, plus ``listed`` ones."""
    keys = set(listed or ())
    if isinstance(value, str):
        keys.update(cited_keys(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            keys |= _refs_used(item, item if key == "references" else ())
    elif isinstance(value, list):
        for item in value:
            keys |= _refs_used(item)
    return keys


def _images_used(value) -> set[str]:
    """File names of the assets/ images in every text of a nested value."""
    if isinstance(value, str):
        return image_names(value)
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return set()
    return set().union(*map(_images_used, value))


def _nonempty(used: dict) -> tuple:
    """``(used,)`` when a text shows images, else ``()``: a hash part only if any."""
    return (used,) if used else ()


def _ref_texts(keys, refs) -> dict:
    return {key: _plain(refs[key].data) for key in sorted(keys) if key in refs}


class _Writer:
    """Compares parsed items with the published ones and writes the differences."""

    def __init__(self, report: PublishReport, parsed: ParsedCourse):
        self.report, self.now = report, utcnow()
        self.course: Course | None = None  # the row, once upserted
        self.assets = parsed.assets.files if parsed.assets else {}
        self.urls = image_rules.urls(parsed.assets)  # file name -> served URL
        self.pending_assets: dict[str, AssetFile] = {}  # digest -> file
        self.seen_assets: set[str] = set()

    def load_existing(self) -> None:
        """Read what the course has published (after the course row exists)."""
        # Only the columns compared, as tuples: flat memory however big the course.
        self.modules = self._existing(
            Module, Module.slug, Module.position, Module.version
        )
        self.module_ids = {slug: row.id for slug, row in self.modules.items()}
        self.slug_of = {row.id: slug for slug, row in self.modules.items()}
        self.pages = self._existing(
            Page, Page.slug, Page.module.alias("module_id"), Page.position
        )
        self.questions = self._existing(
            Question, Question.slug, Question.module.alias("module_id"),
            Question.position, Question.version, Question.type, Question.objective,
        )  # fmt: skip
        self.refs = self._existing(Reference, Reference.key)
        self.question_ids: dict[str, int] = {}
        self.seen = {kind: set() for kind in KINDS}
        self.pending = {name: [] for name in _FLUSH_ORDER}

    def _existing(self, model, key_field, *columns) -> dict:
        query = model.select(
            model.id, key_field.alias("key"), model.content_hash, model.retired_at,
            *columns,
        ).where(model.course == self.course)  # fmt: skip
        return {row.key: row for row in query.namedtuples()}

    def _same(self, old, digest: str, module_slug: str, position: int) -> bool:
        """Is the published row identical in content and place?"""
        return (
            old is not None
            and old.content_hash == digest
            and self.slug_of.get(old.module_id) == module_slug
            and old.position == position
            and old.retired_at is None
        )

    def question_types(self) -> dict[str, str]:
        """Published question id -> type, for the type-change rule."""
        return {slug: row.type for slug, row in self.questions.items()}

    def _note(self, kind: str, key: str, old, new_content: bool) -> None:
        if old is None:
            self.report.added.append((kind, key))
        elif new_content or old.retired_at is not None:
            self.report.changed.append((kind, key))
        else:  # same content, new place (order or module)
            self.report.moved.append((kind, key))

    def module(self, module: ParsedModule, course: ParsedCourse, index) -> None:
        """Queue the writes one parsed (and valid) module needs."""
        refs = {**index.references, **{r.key: r for r in module.references}}
        position = course.module_ids.index(module.id)
        self._module_row(module, position, refs)
        self.references(module.references, module.id, refs)
        for number, page in enumerate(module.pages):
            self._page(module.id, number, page, refs)
        for number, question in enumerate(module.questions):
            self._question(module.id, number, question, refs)
        if sum(len(rows) for rows in self.pending.values()) >= CHUNK:
            self.flush()

    def images_in(self, value) -> dict[str, str]:
        """Name -> URL of the images in a nested value; queue them to be stored.

        Empty for most texts, and then left out of content hashes so that they
        stay what they were before images existed.
        """
        names = _images_used(value)
        used = {name: self.urls[name] for name in names if name in self.urls}
        for name in used:
            found = self.assets[name]
            if found.digest not in self.seen_assets:
                self.seen_assets.add(found.digest)
                self.pending_assets[found.digest] = found
        return used

    def _module_row(self, module: ParsedModule, position: int, refs) -> None:
        meta = _plain(module.meta)
        quiz = _plain(module.quiz) if module.quiz is not None else None
        shown = _nonempty(self.images_in(meta.get("summary")))
        refs_used = _ref_texts(_refs_used(meta), refs)
        digest = content_hash("module", meta, quiz, refs_used, *shown)
        self.seen["module"].add(module.id)
        old = self.modules.get(module.id)
        new_version = old is None or old.content_hash != digest
        if not new_version and old.position == position and old.retired_at is None:
            self.report.unchanged["module"] += 1
            return
        self._note("module", module.id, old, new_version)
        version = 1 if old is None else old.version + new_version
        self.pending["module"].append(
            {
                "course": self.course.id, "slug": module.id, "position": position,
                "version": version, "content_hash": digest, "retired_at": None,
                "updated_at": self.now,
            }
        )  # fmt: skip
        if new_version:
            self.pending["module_version"].append(
                _module_version(module.id, version, digest, meta, quiz, self.urls)
            )

    def references(self, references, module_slug, refs) -> None:
        """Queue reference rows that are new or changed."""
        for ref in references:
            if ref.key not in refs:
                continue
            digest = content_hash("reference", _plain(ref.data), module_slug)
            self.seen["reference"].add(ref.key)
            old = self.refs.get(ref.key)
            if old and old.content_hash == digest and old.retired_at is None:
                continue
            self.pending["reference"].append(
                {
                    "course": self.course.id, "module": module_slug, "key": ref.key,
                    "citation": str(ref.citation),
                    "url": str(ref.url) if ref.url else None,
                    "jurisdiction": ref.jurisdiction, "content_hash": digest,
                    "retired_at": None,
                }
            )  # fmt: skip

    def _page(self, module_slug: str, position: int, page, refs) -> None:
        meta = _plain(page.meta)
        listed = meta.get("references") or []
        used = _refs_used(page.body, listed)
        shown = _nonempty(self.images_in(page.body))
        digest = content_hash("page", meta, page.body, _ref_texts(used, refs), *shown)
        self.seen["page"].add(page.id)
        old = self.pages.get(page.id)
        if self._same(old, digest, module_slug, position):
            self.report.unchanged["page"] += 1
            return
        self._note("page", page.id, old, old is None or old.content_hash != digest)
        self.pending["page"].append(
            {
                "course": self.course.id, "module": module_slug, "slug": page.id,
                "position": position, "title": str(meta.get("title", "")),
                "type": meta.get("type"),
                "body_html": render_page(
                    page.id, page.body, listed, refs, self.urls
                ),
                "est_minutes": meta.get("est_minutes"),
                "objectives": list(meta.get("objectives") or []),
                "references": list(listed), "jurisdiction": meta.get("jurisdiction"),
                "content_hash": digest, "retired_at": None, "updated_at": self.now,
            }
        )  # fmt: skip

    def _question(self, module_slug: str, position: int, question, refs) -> None:
        data = TYPES.normalize(question.data)
        shown = _nonempty(self.images_in(data))
        refs_used = _ref_texts(_refs_used(data), refs)
        digest = content_hash("question", data, refs_used, *shown)
        self.seen["question"].add(question.id)
        old = self.questions.get(question.id)
        new_version = old is None or old.content_hash != digest
        if not new_version and self._same(old, digest, module_slug, position):
            if old.objective == data.get("objective"):
                self.report.unchanged["question"] += 1
                return
        self._note("question", question.id, old, new_version)
        version = 1 if old is None else old.version + new_version
        self.pending["question"].append(
            {
                "course": self.course.id, "module": module_slug, "slug": question.id,
                "type": data["type"], "objective": data["objective"],
                "position": position, "version": version, "content_hash": digest,
                "retired_at": None, "updated_at": self.now,
            }
        )  # fmt: skip
        if new_version:
            self.pending["question_version"].append(
                {
                    "question": question.id, "number": version,
                    "content_hash": digest,
                    "data": render_question(data, refs, self.urls),
                    "created_at": self.now,
                }
            )  # fmt: skip

    def flush(self) -> None:
        """Write every queued row: new images, then bulk upserts in dependency order."""
        self._flush_assets()
        for name in _FLUSH_ORDER:
            rows, self.pending[name] = self.pending[name], []
            if rows:
                getattr(self, f"_flush_{name}")(rows)

    def _flush_assets(self) -> None:
        """Store the queued images the database does not hold yet, one per INSERT.

        One at a time: an image may be megabytes. The bytes are read again here
        and must still be what validation saw.
        """
        queued, self.pending_assets = self.pending_assets, {}
        for batch in chunked(list(queued), CHUNK):
            stored = Asset.select(Asset.digest).where(Asset.digest.in_(batch))
            known = {digest for (digest,) in stored.tuples()}
            for digest in batch:
                if digest not in known:
                    self._store_asset(queued[digest])

    def _store_asset(self, found: AssetFile) -> None:
        data = Path(found.path).read_bytes()
        if hashlib.sha256(data).hexdigest() != found.digest:
            message = f"assets/{found.name} changed while publishing; publish again"
            self.report.problems.append(
                Problem(display_path(Path(found.path)), 1, message)
            )
            raise _Abort
        Asset.insert(
            digest=found.digest,
            media_type=image_rules.IMAGE_TYPES[found.kind].media_type,
            byte_size=len(data),
            data=data,
            created_at=self.now,
        ).on_conflict_ignore().execute()  # another publish may have stored it
        self.report.added.append(("asset", found.name))

    def _flush_module(self, rows) -> None:
        _upsert(Module, rows, [Module.slug])
        self._load_ids(Module, Module.slug, [r["slug"] for r in rows], self.module_ids)

    def _flush_module_version(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        _insert(ModuleVersion, rows)

    def _flush_reference(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids.get(row["module"])
        _upsert(Reference, rows, [Reference.course, Reference.key])

    def _flush_page(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        _upsert(Page, rows, [Page.course, Page.slug])

    def _flush_question(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        _upsert(Question, rows, [Question.course, Question.slug])
        slugs = [r["slug"] for r in rows]
        self._load_ids(Question, Question.slug, slugs, self.question_ids)

    def _flush_question_version(self, rows) -> None:
        for row in rows:
            row["question"] = self.question_ids[row["question"]]
        _insert(QuestionVersion, rows)

    def _load_ids(self, model, key_field, keys, into: dict) -> None:
        for batch in chunked(keys, CHUNK):
            query = model.select(model.id, key_field).where(
                key_field.in_(batch), model.course == self.course
            )
            into.update({getattr(r, key_field.name): r.id for r in query})

    def retire_missing(self) -> None:
        """Set retired_at on published items no longer in the files."""
        for kind, model, existing in (
            ("module", Module, self.modules),
            ("page", Page, self.pages),
            ("question", Question, self.questions),
            ("reference", Reference, self.refs),
        ):
            gone = [
                (key, row.id)
                for key, row in existing.items()
                if key not in self.seen[kind] and row.retired_at is None
            ]
            for batch in chunked(gone, CHUNK):
                ids = [row_id for _, row_id in batch]
                model.update(retired_at=self.now).where(model.id.in_(ids)).execute()
            self.report.retired += [
                (kind, key) for key, _ in gone if kind != "reference"
            ]


_FLUSH_ORDER = (
    "module", "module_version", "reference", "page", "question", "question_version",
)  # fmt: skip


def _module_version(slug, number, digest, meta: dict, quiz, urls) -> dict:
    completion = {"require_all_pages": True, "require_quiz_pass": True}
    completion.update(meta.get("completion") or {})
    return {
        "module": slug, "number": number, "content_hash": digest,
        "title": str(meta.get("title", "")),
        "summary_html": markdown_html(meta.get("summary"), images=urls),
        "est_minutes": meta.get("est_minutes"),
        "objectives": meta.get("objectives") or [],
        "competencies": meta.get("competencies") or {},
        "completion": completion, "audiences": meta.get("audiences") or [],
        "quiz": _quiz_settings(quiz),
        "meta": {k: meta.get(k) for k in ("version", "status", "review") if k in meta},
    }  # fmt: skip


QUIZ_DEFAULTS = {
    "passing_percent": 80,
    "max_attempts": 3,
    "score_to_keep": "highest",
    "shuffle_questions": True,
    "shuffle_options": True,
    "show_answers": "after_pass_or_last_attempt",
}


def _quiz_settings(quiz: dict | None) -> dict | None:
    return None if quiz is None else {**QUIZ_DEFAULTS, **quiz}


def _upsert(model, rows, conflict_target) -> None:
    fields = [f for f in rows[0] if f not in {t.name for t in conflict_target}]
    preserve = [model._meta.fields[f] for f in fields]
    for batch in chunked(rows, CHUNK):
        model.insert_many(batch).on_conflict(
            conflict_target=conflict_target, preserve=preserve
        ).execute()


def _insert(model, rows) -> None:
    for batch in chunked(rows, CHUNK):
        model.insert_many(batch).execute()
