"""What publishing a course changes: parsed items compared with the published rows.

:class:`CourseChanges` hashes each parsed module, page, question and reference
(:func:`content_hash`: its content, the texts of the references it cites and the
URLs of the images it shows), compares it with what ``publish_rows.py`` read from
the database, notes it on the :class:`PublishReport` (added, changed, moved or
unchanged) and queues the row it needs, with a new version when the content
changed. Queued rows are written a chunk at a time, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from lms_plugin.clock import utcnow
from lms_plugin.content import images as image_rules
from lms_plugin.content.data import AssetFile
from lms_plugin.content.data import Course as ParsedCourse
from lms_plugin.content.data import Module as ParsedModule
from lms_plugin.content.data import Problem
from lms_plugin.content.publish_rows import CHUNK
from lms_plugin.content.publish_rows import KINDS
from lms_plugin.content.publish_rows import WRITE_ORDER
from lms_plugin.content.publish_rows import PublishedRows
from lms_plugin.content.render import RENDER_VERSION
from lms_plugin.content.render import cited_keys
from lms_plugin.content.render import image_names
from lms_plugin.content.render import markdown_html
from lms_plugin.content.render import render_page
from lms_plugin.content.render import render_question
from lms_plugin.models.content import Course
from lms_plugin.questions import TYPES


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


def content_hash(*parts) -> str:
    """A stable hash of JSON-able parts (plus the renderer version)."""
    text = json.dumps([RENDER_VERSION, *parts], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


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


class CourseChanges:
    """Compares parsed items with the published ones and queues the differences."""

    def __init__(self, report: PublishReport, parsed: ParsedCourse):
        self.report, self.now = report, utcnow()
        self.assets = parsed.assets.files if parsed.assets else {}
        self.urls = image_rules.urls(parsed.assets)  # file name -> served URL
        self.pending_assets: dict[str, AssetFile] = {}  # digest -> file
        self.seen_assets: set[str] = set()
        self.seen = {kind: set() for kind in KINDS}
        self.pending = {table: [] for table in WRITE_ORDER}

    def read_published(self, course: Course) -> None:
        """Read what ``course`` has published (after its row is written)."""
        self.course = course
        self.published = PublishedRows(course, self.now)

    def question_types(self) -> dict[str, str]:
        """Published question id -> type, for the type-change rule."""
        return {slug: row.type for slug, row in self.published.questions.items()}

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

    def _same(self, old, digest: str, module_slug: str, position: int) -> bool:
        """Is the published row identical in content and place?"""
        return (
            old is not None
            and old.content_hash == digest
            and self.published.slug_of.get(old.module_id) == module_slug
            and old.position == position
            and old.retired_at is None
        )

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

    def _module_row(self, module: ParsedModule, position: int, refs) -> None:
        meta = _plain(module.meta)
        quiz = _plain(module.quiz) if module.quiz is not None else None
        shown = _nonempty(self.images_in(meta.get("summary")))
        refs_used = _ref_texts(_refs_used(meta), refs)
        digest = content_hash("module", meta, quiz, refs_used, *shown)
        self.seen["module"].add(module.id)
        old = self.published.modules.get(module.id)
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
            old = self.published.references.get(ref.key)
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
        old = self.published.pages.get(page.id)
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
        old = self.published.questions.get(question.id)
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
        """Write every queued row (new images first) and note the images stored."""
        assets, self.pending_assets = self.pending_assets, {}
        rows, self.pending = self.pending, {table: [] for table in WRITE_ORDER}
        stored = self.published.write(rows, assets)
        self.report.added += [("asset", name) for name in stored]

    def retire_missing(self) -> None:
        """Retire the published items the files no longer hold."""
        self.report.retired += self.published.retire_missing(self.seen)


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
