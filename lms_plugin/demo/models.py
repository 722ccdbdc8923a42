"""The demo LMS's own tables, in its own SQLite file (``instance/demo.sqlite3``).

This is the platform's state, not the tool's: its signing key, one course with a
roster, the tool's placements (resource links), a gradebook, the registration it
made with the tool, and the short-lived OAuth2/OIDC bookkeeping. Created with
``create_tables`` on start; no migrations, and never a production database.
"""

import datetime
import json
from pathlib import Path

from peewee import BooleanField
from peewee import CharField
from peewee import DatabaseProxy
from peewee import DateTimeField
from peewee import FloatField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import SqliteDatabase
from peewee import TextField

from lms_plugin.db import private_sqlite_file

demo_database = DatabaseProxy()

LEARNER = "learner"
INSTRUCTOR = "instructor"

#: LIS v2 role URIs sent for each kind of course member (full URIs, as Canvas does).
ROLE_URIS = {
    LEARNER: [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
    ],
    INSTRUCTOR: [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
    ],
}

#: NRPS lists context roles only (institution roles are launch-only).
MEMBERSHIP_ROLE = {
    LEARNER: "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    INSTRUCTOR: "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
}


def utcnow() -> datetime.datetime:
    """Naive UTC now, the form every demo timestamp is stored in."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class DemoModel(Model):
    """Base of the demo tables: bound to the demo database, ``demo_`` names."""

    class Meta:
        database = demo_database
        legacy_table_names = False
        table_function = lambda model: f"demo_{model.__name__.lower()}"  # noqa: E731


class PlatformKey(DemoModel):
    """The platform's RSA key pair; signs id_tokens, published at /demo/jwks."""

    kid = CharField(unique=True)
    private_pem = TextField()
    public_jwk = TextField()  # JSON
    created_at = DateTimeField(default=utcnow)


class Person(DemoModel):
    """A user of the demo LMS; ``sub`` is the stable id sent to the tool."""

    sub = CharField(unique=True)
    name = CharField()
    given_name = CharField()
    family_name = CharField()
    email = CharField()
    role = CharField()  # LEARNER | INSTRUCTOR
    position = IntegerField(default=0)

    @property
    def is_instructor(self) -> bool:
        """True for the course's instructor."""
        return self.role == INSTRUCTOR


class Course(DemoModel):
    """The one course of the demo; its ``context_id`` is the LTI context id."""

    context_id = CharField(unique=True)
    label = CharField()
    title = CharField()


class Registration(DemoModel):
    """This platform's registration of the tool, one per issuer (base URL)."""

    issuer = CharField(unique=True)
    client_id = CharField()
    deployment_id = CharField()
    tool_login_url = TextField()
    tool_launch_url = TextField()  # default target_link_uri
    redirect_uris = TextField()  # JSON list the tool may receive id_tokens at
    tool_jwks_url = TextField()
    created_at = DateTimeField(default=utcnow)

    @property
    def redirect_uri_list(self) -> list[str]:
        """The registered redirect URIs."""
        return json.loads(self.redirect_uris)


class ResourceLink(DemoModel):
    """A placement of the tool in the course (a module the instructor added)."""

    link_id = CharField(unique=True)  # resource_link.id sent to the tool
    title = CharField()
    text = TextField(default="")
    url = TextField(default="")  # target_link_uri; empty: the tool's launch URL
    custom = TextField(default="{}")  # JSON custom parameters
    placement = CharField(default="module")  # module | course_navigation
    created_at = DateTimeField(default=utcnow)

    @property
    def custom_dict(self) -> dict:
        """The custom parameters as a dict."""
        return json.loads(self.custom)

    @property
    def line_item(self):
        """The line item the AGS claim names for this link (its first one)."""
        return self.line_items.order_by(LineItem.id).first()


class LineItem(DemoModel):
    """A gradebook column; coupled to a resource link or free-standing."""

    label = CharField()
    score_maximum = FloatField()
    resource_id = CharField(default="")
    tag = CharField(default="")
    resource_link = ForeignKeyField(
        ResourceLink, null=True, backref="line_items", on_delete="SET NULL"
    )
    start_at = CharField(default="")  # ISO 8601 as sent
    end_at = CharField(default="")
    created_at = DateTimeField(default=utcnow)


class Score(DemoModel):
    """The latest score the tool sent for one learner in one line item."""

    line_item = ForeignKeyField(LineItem, backref="scores", on_delete="CASCADE")
    person = ForeignKeyField(Person, backref="scores")
    score_given = FloatField(null=True)
    score_maximum = FloatField(null=True)
    activity_progress = CharField()
    grading_progress = CharField()
    comment = TextField(default="")
    timestamp = DateTimeField()  # UTC, for ordering checks
    timestamp_sent = CharField()  # exactly as received
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("line_item", "person"), True),)


class LaunchIntent(DemoModel):
    """What one login initiation is for; its ``hint`` is the lti_message_hint."""

    hint = CharField(unique=True)
    person = ForeignKeyField(Person)
    message_type = CharField()  # LtiResourceLinkRequest | LtiDeepLinkingRequest
    resource_link = ForeignKeyField(ResourceLink, null=True)
    document_target = CharField(default="iframe")
    deep_link_data = CharField(null=True, unique=True)  # echoed by the tool
    deep_link_used = BooleanField(default=False)
    expires_at = DateTimeField()


class AccessToken(DemoModel):
    """An issued OAuth2 bearer token (stored as its SHA-256), with its scopes."""

    token_hash = CharField(unique=True)
    client_id = CharField()
    scopes = TextField()  # space-separated
    expires_at = DateTimeField()


class SeenJwtId(DemoModel):
    """A client-assertion jti or deep-linking nonce already used (single use)."""

    value = CharField(unique=True)
    expires_at = DateTimeField(index=True)


class ToolKeySet(DemoModel):
    """The tool's JWKS as last fetched from its URL."""

    url = CharField(unique=True)
    jwks = TextField()
    fetched_at = DateTimeField(default=utcnow)


DEMO_MODELS = [
    PlatformKey,
    Person,
    Course,
    Registration,
    ResourceLink,
    LineItem,
    Score,
    LaunchIntent,
    AccessToken,
    SeenJwtId,
    ToolKeySet,
]


def open_database(path: Path) -> None:
    """Bind the demo tables to the SQLite file at ``path`` and create them."""
    private_sqlite_file(path)  # the demo's tokens and people: 0600, as the tool's
    demo_database.initialize(
        SqliteDatabase(
            str(path),
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000},
        )
    )
    with demo_database.connection_context():
        demo_database.create_tables(DEMO_MODELS, safe=True)
