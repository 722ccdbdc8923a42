"""The database: one deferred peewee database, request hooks, and migrations.

SQLite in the instance folder by default; PostgreSQL (pooled connections) when
``DATABASE_URL`` says ``postgresql://``. Schema changes happen only through the
numbered files in ``migrations/``, applied by :func:`migrate`.
"""

import contextlib
import fcntl
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlparse

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup
from peewee import Database
from peewee import DatabaseProxy
from peewee import Model
from peewee import SqliteDatabase
from playhouse.migrations import Runner

database = DatabaseProxy()

#: SQLite settings for one writer and many readers (the embedded default).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


class BaseModel(Model):
    """Base of every table: bound to the deferred database, snake_case names."""

    class Meta:
        database = database
        legacy_table_names = False


class DatabaseUrlError(ValueError):
    """DATABASE_URL names an engine or form the tool does not support."""


def make_database(url: str) -> Database:
    """Build a peewee database from a ``sqlite:///`` or ``postgresql://`` URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
        path = unquote(parsed.path)[1:]
        return SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS)
    if parsed.scheme in ("postgres", "postgresql"):
        from playhouse.pool import PooledPostgresqlDatabase

        options = dict(parse_qsl(parsed.query))
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port,
            max_connections=int(options.pop("max_connections", 32)),
            stale_timeout=int(options.pop("stale_timeout", 300)),
            **options,
        )
    raise DatabaseUrlError(f"unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def is_postgres() -> bool:
    """True when the bound database is PostgreSQL."""
    from peewee import PostgresqlDatabase

    return isinstance(database.obj, PostgresqlDatabase)


def migrate(directory: str) -> list[str]:
    """Apply every pending migration in ``directory``; return their names.

    Safe when several processes start at once: they take turns under a lock
    (a PostgreSQL advisory lock, or a lock file beside the SQLite database).
    """
    with database.connection_context(), _migration_lock():
        return Runner(database.obj, directory).up()


#: Arbitrary constant naming our advisory lock in PostgreSQL.
_MIGRATION_LOCK_ID = 7_310_452_118


@contextlib.contextmanager
def _migration_lock():
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_ID,))
        try:
            yield
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_ID,))
        return
    path = database.obj.database
    if path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def init_app(app: Flask) -> None:
    """Bind the database to ``app``, open/close per request, add ``db`` commands."""
    database.initialize(make_database(app.config["DATABASE_URL"]))
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


db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply pending migrations."""
    applied = migrate(current_app.config["MIGRATIONS_DIR"])
    click.echo(
        f"applied {len(applied)} migration(s)"
        + "".join(f"\n  {name}" for name in applied)
    )


@db_cli.command("status")
def status_command() -> None:
    """List migrations and whether each is applied."""
    with database.connection_context():
        runner = Runner(database.obj, current_app.config["MIGRATIONS_DIR"])
        for migration in runner.status():
            mark = "applied" if migration.applied else "pending"
            click.echo(f"{mark:8} {migration.name}")


@db_cli.command("generate")
@click.argument("name")
def generate_command(name: str) -> None:
    """Write migrations/NNNN_NAME.py from the models' drift against this database.

    For developers: migrate a scratch database first, then review the generated
    file by hand (Python-side defaults are left out on purpose).
    """
    from playhouse.migrations import template
    from playhouse.schema_diff import diff_models

    from lms_plugin.models import MODELS

    with database.connection_context():
        diff = diff_models(database.obj, MODELS)
        if not any(diff):
            click.echo("schema matches the models; nothing to generate")
            return
        runner = Runner(database.obj, current_app.config["MIGRATIONS_DIR"])
        click.echo(runner.create(name, body=template(diff)))
