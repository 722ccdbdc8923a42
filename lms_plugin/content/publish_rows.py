"""The database side of publishing: a course's published rows, read, written, retired.

:class:`PublishedRows` reads once what a course has published (only the columns
compared, as tuples, so memory stays flat however big the course), then writes the
rows ``publish_changes.py`` queued, in bulk and in chunks, and retires what the
files no longer hold. Images are stored one per INSERT, only when the database
does not hold their digest yet. Everything runs inside ``publish.py``'s transaction;
:class:`PublishAborted` rolls it back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from peewee import chunked

from lms_plugin.content import images as image_rules
from lms_plugin.content.data import AssetFile
from lms_plugin.content.data import Problem
from lms_plugin.content.reading import display_path
from lms_plugin.models.content import Asset
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.content import Reference

CHUNK = 200  # rows per INSERT: well under SQLite's bound-variable limit
KINDS = ("module", "page", "question", "reference")

#: Tables in the order their queued rows are written: a version, page, question or
#: module reference needs its module's id, a question version its question's id.
WRITE_ORDER = (
    "module", "module_version", "reference", "page", "question", "question_version",
)  # fmt: skip


class PublishAborted(Exception):
    """Raised inside the transaction to roll it back; ``problems`` say why.

    Empty when the problems are on the report already (validation errors).
    """

    def __init__(self, *problems: Problem):
        super().__init__(*problems)
        self.problems = list(problems)


class PublishedRows:
    """What one course has published (the compared columns), and the writes to it."""

    def __init__(self, course: Course, now: datetime):
        self.course, self.now = course, now
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
        self.references = self._existing(Reference, Reference.key)
        self.question_ids: dict[str, int] = {}

    def _existing(self, model, key_field, *columns) -> dict:
        query = model.select(
            model.id, key_field.alias("key"), model.content_hash, model.retired_at,
            *columns,
        ).where(model.course == self.course)  # fmt: skip
        return {row.key: row for row in query.namedtuples()}

    def write(
        self, rows: dict[str, list[dict]], assets: dict[str, AssetFile]
    ) -> list[str]:
        """Store new images, then upsert ``rows`` table by table in WRITE_ORDER.

        ``assets``: digest -> file. Returns the names of the images stored.
        """
        stored = self._store_assets(assets)
        for table in WRITE_ORDER:
            if rows.get(table):
                getattr(self, f"_write_{table}")(rows[table])
        return stored

    def _store_assets(self, queued: dict[str, AssetFile]) -> list[str]:
        """Store the images the database does not hold yet, one per INSERT.

        One at a time: an image may be megabytes.
        """
        stored = []
        for batch in chunked(list(queued), CHUNK):
            known = Asset.select(Asset.digest).where(Asset.digest.in_(batch))
            known = {digest for (digest,) in known.tuples()}
            for digest in batch:
                if digest not in known:
                    self._store_asset(queued[digest])
                    stored.append(queued[digest].name)
        return stored

    def _store_asset(self, found: AssetFile) -> None:
        # The bytes are read again here and must still be what validation saw.
        data = Path(found.path).read_bytes()
        if hashlib.sha256(data).hexdigest() != found.digest:
            message = f"assets/{found.name} changed while publishing; publish again"
            raise PublishAborted(Problem(display_path(Path(found.path)), 1, message))
        Asset.insert_absent(  # another publish may have stored it
            digest=found.digest,
            media_type=image_rules.IMAGE_TYPES[found.kind].media_type,
            byte_size=len(data),
            data=data,
            created_at=self.now,
        )

    def _write_module(self, rows) -> None:
        Module.upsert_many(rows, ("slug",), batch=CHUNK)
        self._load_ids(Module, Module.slug, [r["slug"] for r in rows], self.module_ids)

    def _write_module_version(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        _insert(ModuleVersion, rows)

    def _write_reference(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids.get(row["module"])
        Reference.upsert_many(rows, ("course", "key"), batch=CHUNK)

    def _write_page(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        Page.upsert_many(rows, ("course", "slug"), batch=CHUNK)

    def _write_question(self, rows) -> None:
        for row in rows:
            row["module"] = self.module_ids[row["module"]]
        Question.upsert_many(rows, ("course", "slug"), batch=CHUNK)
        slugs = [r["slug"] for r in rows]
        self._load_ids(Question, Question.slug, slugs, self.question_ids)

    def _write_question_version(self, rows) -> None:
        for row in rows:
            row["question"] = self.question_ids[row["question"]]
        _insert(QuestionVersion, rows)

    def _load_ids(self, model, key_field, keys, into: dict) -> None:
        for batch in chunked(keys, CHUNK):
            query = model.select(model.id, key_field).where(
                key_field.in_(batch), model.course == self.course
            )
            into.update({getattr(r, key_field.name): r.id for r in query})

    def retire_missing(self, seen: dict[str, set]) -> list[tuple[str, str]]:
        """Set retired_at on published items not ``seen`` in the files.

        Returns the (kind, id) of the retired modules, pages and questions.
        """
        retired = []
        for kind, model, existing in (
            ("module", Module, self.modules),
            ("page", Page, self.pages),
            ("question", Question, self.questions),
            ("reference", Reference, self.references),
        ):
            gone = [
                (key, row.id)
                for key, row in existing.items()
                if key not in seen[kind] and row.retired_at is None
            ]
            for batch in chunked(gone, CHUNK):
                ids = [row_id for _, row_id in batch]
                model.update(retired_at=self.now).where(model.id.in_(ids)).execute()
            retired += [(kind, key) for key, _ in gone if kind != "reference"]
        return retired


def _insert(model, rows) -> None:
    for batch in chunked(rows, CHUNK):
        model.insert_many(batch).execute()
