"""The database: one deferred peewee database, its models' base, request hooks.

SQLite in the instance folder by default; PostgreSQL when ``DATABASE_URL`` says
``postgresql://``; both pooled (``engines.py``). Every model derives from
:class:`BaseModel`, whose :meth:`~BaseModel.upsert`, :meth:`~BaseModel.insert_absent`
and :meth:`~BaseModel.upsert_many` are the one way to write "this row, whether or
not it exists". Hot queries are :class:`Prepared` (``prepared.py``): their SQL is
built once, not on every request; they live with the models that they read.
Schema changes happen only through the numbered files in ``migrations/``, applied
by :func:`migrate` (``migrations.py``; ``lms-plugin db`` in ``cli.py``). Peewee's
private internals are used only in ``internals.py``, pinned by a contract test.
When every pooled connection is busy a request waits up to
``DATABASE_POOL_TIMEOUT`` seconds for one, then is answered 503 with
``Retry-After`` (``lms_plugin.errors``).
"""

import datetime

import peewee
from flask import Flask
from peewee import Model
from peewee import SqliteDatabase

from lms_plugin.db.engines import SQLITE_PRAGMAS
from lms_plugin.db.engines import ConnectionLost
from lms_plugin.db.engines import DatabaseUrlError
from lms_plugin.db.engines import database
from lms_plugin.db.engines import is_postgres
from lms_plugin.db.engines import make_database
from lms_plugin.db.engines import ping
from lms_plugin.db.engines import private_sqlite_file
from lms_plugin.db.migrations import migrate
from lms_plugin.db.prepared import Param
from lms_plugin.db.prepared import Prepared
from lms_plugin.db.prepared import upsert_row

__all__ = [
    "SQLITE_PRAGMAS",
    "BaseModel",
    "ConnectionLost",
    "DatabaseUrlError",
    "DateTimeField",
    "Param",
    "Prepared",
    "database",
    "init_app",
    "is_postgres",
    "make_database",
    "migrate",
    "ping",
    "private_sqlite_file",
]


class DateTimeField(peewee.DateTimeField):
    """A naive UTC datetime; read back from SQLite's text without ``strptime``.

    Peewee parses SQLite's stored text by trying ``strptime`` formats in turn,
    which showed up on every learner page (a dozen timestamps per page).
    ``datetime.fromisoformat`` reads the same text in a fraction of the time;
    anything it does not accept goes to peewee as before. PostgreSQL returns
    datetimes already.
    """

    def python_value(self, value):
        if isinstance(value, str):
            try:
                parsed = datetime.datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                return parsed
        return super().python_value(value)


class BaseModel(Model):
    """Base of every table: bound to the deferred database, snake_case names."""

    class Meta:
        database = database
        legacy_table_names = False

    @classmethod
    def upsert(
        cls, keys: dict, values: dict | None = None, inserted: dict | None = None
    ) -> "BaseModel":
        """Insert the row ``keys`` identify, or update its ``values``; the whole row.

        One statement (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``), safe
        under concurrency; ``keys`` must be the columns of a unique index.
        ``inserted`` are set only when the row is new; columns given nowhere get
        their defaults on insert and are left alone on update. The SQL of each
        shape (model, key, value and inserted names) is built once.
        """
        return upsert_row(cls, keys, values or {}, inserted or {})

    @classmethod
    def insert_absent(cls, **values) -> None:
        """Insert this row unless one with its unique key exists (then: nothing)."""
        cls.insert(**values).on_conflict_ignore().execute()

    @classmethod
    def upsert_many(cls, rows: list[dict], keys: tuple[str, ...], batch: int) -> None:
        """:meth:`upsert` for many rows, ``batch`` per statement; returns nothing.

        Every column the rows give other than ``keys`` is replaced on conflict.
        """
        if not rows:
            return
        fields = cls._meta.fields
        target = [fields[name] for name in keys]
        preserve = [fields[name] for name in rows[0] if name not in keys]
        for start in range(0, len(rows), batch):
            cls.insert_many(rows[start : start + batch]).on_conflict(
                conflict_target=target, preserve=preserve
            ).execute()


def init_app(app: Flask) -> None:
    """Bind the database to ``app``, open/close per request, add ``db`` commands."""
    from lms_plugin.db.cli import db_cli

    database.initialize(
        make_database(app.config["DATABASE_URL"], app.config["DATABASE_POOL_TIMEOUT"])
    )
    if isinstance(database.obj, SqliteDatabase) and database.obj.database != ":memory:":
        private_sqlite_file(database.obj.database)
    app.extensions["lms_plugin.db"] = database
    app.before_request(_connect)
    app.teardown_appcontext(_close)
    app.cli.add_command(db_cli)
    if app.config["AUTO_MIGRATE"]:
        migrate(app.config["MIGRATIONS_DIR"])


def _connect() -> None:
    database.connect(reuse_if_open=True)


def _close(exc: BaseException | None) -> None:
    if not database.is_closed():
        database.close()
