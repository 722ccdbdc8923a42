"""Published course content: courses, modules, pages, questions, references, images.

Rows are written only by ``lms_plugin.content.publish``, which upserts by the
stable ids authors give in ``courses/`` (the ``slug`` columns): primary keys never
change, nothing is deleted, and removed items get ``retired_at``. Columns ending in
``_html`` hold sanitized HTML and are the only ones templates may mark safe. The
learner pages' reads of a current page and of a question bank are classmethods
here (prepared).

Versioning: a module whose module.yaml or quiz.yaml changed gets a new
:class:`ModuleVersion`; a question whose content changed gets a new
:class:`QuestionVersion`. ``Module.version`` / ``Question.version`` name the
current version number. Learner attempts point at ``QuestionVersion.id`` (and the
quiz settings at ``ModuleVersion.id``); those rows are immutable. Pages are updated
in place and tracked by ``content_hash``.

``QuestionVersion.data`` contract (what the quiz engine scores from): the question
mapping in courses/FORMAT.md shape, defaults filled in::

    {"id", "type", "objective", "points" (default 1), "bloom", "difficulty",
     "stem", "stem_html", "rationale", "rationale_html", "references": [keys],
     # single / multiple ("scoring": "partial" | "all_or_nothing", default partial)
     "options": [{"id", "text", "text_html", "correct": bool,
                  "feedback", "feedback_html"}],
     # true_false
     "answer": bool, "feedback": {"true", "false"}, "feedback_html": {...},
     # matching ("scoring" default partial)
     "pairs": [{"id", "prompt", "prompt_html", "answer", "answer_html",
                "feedback", "feedback_html"}], "distractors": [text],
     "distractors_html": [html],
     # ordering: items in the CORRECT order ("scoring" default partial)
     "items": [{"id", "text", "text_html", "feedback", "feedback_html"}],
     # short_text: compare lms_plugin.questions.short_text.normalize_text()
     "answers": [text], "feedback": {"correct", "incorrect"}, "feedback_html": {...},
     # case_set: children are full question dicts of the other types, each
     # with its own id, the set's objective and its own *_html fields
     "stimulus", "stimulus_html", "questions": [...]}

Every Markdown field ``X`` also appears as ``X_html``, rendered and sanitized;
``rationale_html`` ends with the numbered reference list of the question's citations.

Images: an ``<img>`` in any ``_html`` column has the source
``/content/assets/<digest>.<ext>`` (root-relative: templates add the mount point),
naming an :class:`Asset` row by the SHA-256 of its bytes. Assets are shared by every
course and never deleted: old question versions may still show them.
"""

import json
from typing import NamedTuple

from peewee import BlobField
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from lms_plugin.clock import utcnow
from lms_plugin.db import BaseModel
from lms_plugin.db import DateTimeField
from lms_plugin.db import Param
from lms_plugin.db import Prepared


class JSONField(TextField):
    """A JSON document stored as text (same on SQLite and PostgreSQL)."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class Course(BaseModel):
    """A course folder as last published."""

    slug = CharField(max_length=128, unique=True)
    title = TextField()
    summary_html = TextField(default="")
    version = CharField(max_length=32, default="")
    audiences = JSONField(default=list)
    source_hash = CharField(max_length=64, default="")  # of every file, last publish
    published_at = DateTimeField(default=utcnow)


class Module(BaseModel):
    """A module, identified forever by its folder name (``slug``)."""

    course = ForeignKeyField(Course, backref="modules")
    slug = CharField(max_length=128, unique=True)
    position = IntegerField()
    version = IntegerField(default=1)  # current ModuleVersion.number
    content_hash = CharField(max_length=64)
    retired_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def active(cls):
        """Modules still in the course, in course order."""
        return cls.select().where(cls.retired_at.is_null()).order_by(cls.position)

    def current(self) -> "ModuleVersion":
        """The module's current version."""
        return self.versions.where(ModuleVersion.number == self.version).get()


class ModuleVersion(BaseModel):
    """An immutable snapshot of a module's metadata and quiz settings."""

    module = ForeignKeyField(Module, backref="versions")
    number = IntegerField()
    content_hash = CharField(max_length=64)
    title = TextField()
    summary_html = TextField(default="")
    est_minutes = IntegerField()
    objectives = JSONField(default=list)  # [{id, text, bloom}]
    competencies = JSONField(default=dict)  # framework -> [names]
    completion = JSONField(default=dict)  # {require_all_pages, require_quiz_pass}
    audiences = JSONField(default=list)
    quiz = JSONField(null=True)  # quiz.yaml with defaults, or null without a quiz
    meta = JSONField(default=dict)  # version label, status, review
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("module", "number"), True),)


class Page(BaseModel):
    """A page of a module; updated in place, its changes tracked by content_hash."""

    course = ForeignKeyField(Course, backref="pages")
    module = ForeignKeyField(Module, backref="pages")
    slug = CharField(max_length=128)
    position = IntegerField()
    title = TextField()
    type = CharField(max_length=32)
    body_html = TextField()
    est_minutes = IntegerField()
    objectives = JSONField(default=list)
    references = JSONField(default=list)
    jurisdiction = CharField(max_length=64, null=True)
    content_hash = CharField(max_length=64)
    retired_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("course", "slug"), True),)

    @classmethod
    def current_by_slug(cls, module, slug: str) -> "Page | None":
        """A current (not retired) page of ``module`` by slug, or None."""
        return _current_page.first(module=module, slug=slug)


@Prepared
def _current_page():
    return Page.select().where(
        (Page.module == Param("module"))
        & (Page.slug == Param("slug"))
        & Page.retired_at.is_null()
    )


class Question(BaseModel):
    """A bank item's identity; its content lives in :class:`QuestionVersion`."""

    course = ForeignKeyField(Course, backref="questions")
    module = ForeignKeyField(Module, backref="questions")
    slug = CharField(max_length=128)
    type = CharField(max_length=32)  # fixed once published
    objective = CharField(max_length=128)
    position = IntegerField()
    version = IntegerField(default=1)  # current QuestionVersion.number
    content_hash = CharField(max_length=64)
    retired_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("course", "slug"), True),)

    def current(self) -> "QuestionVersion":
        """The question's current version."""
        return self.versions.where(QuestionVersion.number == self.version).get()


class QuestionVersion(BaseModel):
    """An immutable version of a question; ``data`` follows the module docstring."""

    question = ForeignKeyField(Question, backref="versions")
    number = IntegerField()
    content_hash = CharField(max_length=64)
    data = JSONField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("question", "number"), True),)

    @classmethod
    def bank_of(cls, module) -> list["BankQuestion"]:
        """The current version of each question of ``module``'s bank, in bank order."""
        as_data = cls.data.python_value
        return [
            BankQuestion(id_, as_data(data)) for id_, data in _bank.raw(module=module)
        ]

    @classmethod
    def data_in_order(cls, ids: list[int]) -> list[dict]:
        """The ``data`` of the versions ``ids`` name, in that order."""
        by_id = {row.id: row.data for row in cls.select().where(cls.id.in_(ids))}
        return [by_id[i] for i in ids]


class BankQuestion(NamedTuple):
    """A question of a bank as an attempt draws it: its current version's id and data.

    Not the whole :class:`QuestionVersion`: the other columns cost a measurable
    share of starting an attempt and nothing reads them.
    """

    version_id: int
    data: dict


@Prepared
def _bank():
    return (
        QuestionVersion.select(QuestionVersion.id, QuestionVersion.data)
        .join(
            Question,
            on=(QuestionVersion.question == Question.id)
            & (QuestionVersion.number == Question.version),
        )
        .where((Question.module == Param("module")) & Question.retired_at.is_null())
        .order_by(Question.position)
    )


class Reference(BaseModel):
    """A citable source from a references.yaml (``module`` null: course-wide)."""

    course = ForeignKeyField(Course, backref="references")
    module = ForeignKeyField(Module, backref="references", null=True)
    key = CharField(max_length=128)
    citation = TextField()
    url = TextField(null=True)
    jurisdiction = CharField(max_length=64, null=True)
    content_hash = CharField(max_length=64)
    retired_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("course", "key"), True),)


class Asset(BaseModel):
    """An image from a course's assets/ folder, stored once per content.

    Content-addressed: ``digest`` is the SHA-256 of ``data``, so a row never
    changes; a changed image is a new row (and a new URL).
    """

    digest = CharField(max_length=64, unique=True)  # hex
    media_type = CharField(max_length=32)
    byte_size = IntegerField()
    data = BlobField()
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def media_type_of(cls, digest: str) -> str | None:
        """The media type of the image ``digest`` (enough for a revalidation)."""
        rows = _asset_media_type.raw(digest=digest)
        return rows[0][0] if rows else None

    @classmethod
    def image(cls, digest: str) -> "StoredImage | None":
        """The image ``digest``: its media type and bytes, or None."""
        rows = _asset_image.raw(digest=digest)
        return StoredImage(rows[0][0], bytes(rows[0][1])) if rows else None


class StoredImage(NamedTuple):
    """An image as it is served."""

    media_type: str
    data: bytes


_asset_media_type = Prepared(
    lambda: Asset.select(Asset.media_type).where(Asset.digest == Param("digest"))
)
_asset_image = Prepared(
    lambda: Asset.select(Asset.media_type, Asset.data).where(
        Asset.digest == Param("digest")
    )
)


CONTENT_MODELS = [
    Course,
    Module,
    ModuleVersion,
    Page,
    Question,
    QuestionVersion,
    Reference,
    Asset,
]
