"""The database: one deferred peewee database, request hooks, and migrations.

SQLite in the instance folder by default; PostgreSQL when ``DATABASE_URL`` says
``postgresql://``. Both keep a pool of open connections: a request checks one
out and gives it back, so no request pays for connecting (or, on SQLite, for
its pragmas and the WAL checkpoint that closing the last connection runs).
Schema changes happen only through the numbered files in ``migrations/``,
applied by :func:`migrate`. Hot queries are :class:`Prepared`: their SQL is
built once, not on every request. When every pooled connection is busy a request
waits up to ``DATABASE_POOL_TIMEOUT`` seconds for one, then is answered 503 with
``Retry-After`` (:func:`_pool_exhausted`).
"""

import contextlib
import datetime
import fcntl
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlparse

import click
import peewee
from flask import Flask
from flask import current_app
from flask.cli import AppGroup
from peewee import EXCLUDED
from peewee import JOIN
from peewee import ROW
from peewee import Alias
from peewee import ColumnBase
from peewee import Database
from peewee import DatabaseProxy
from peewee import Field
from peewee import Model
from peewee import ModelInsert
from peewee import ModelSelect
from peewee import SqliteDatabase
from playhouse.migrations import Runner
from playhouse.pool import MaxConnectionsExceeded
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.pool import PooledSqliteDatabase

database = DatabaseProxy()
log = logging.getLogger(__name__)

#: SQLite settings for one writer and many readers (the embedded default).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


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
        return _upsert(cls, keys, values or {}, inserted or {})

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


class DatabaseUrlError(ValueError):
    """DATABASE_URL names an engine or form the tool does not support."""


#: RETURNING (upserts that give back their row) arrived in SQLite 3.35 (2021).
SQLITE_MINIMUM = (3, 35)


def _check_sqlite_version(version: tuple = sqlite3.sqlite_version_info) -> None:
    if version < SQLITE_MINIMUM:
        raise DatabaseUrlError(
            f"SQLite {'.'.join(map(str, version))} is too old: the tool needs "
            f"{'.'.join(map(str, SQLITE_MINIMUM))} or newer (a newer Python, or "
            "DATABASE_URL=postgresql://...)"
        )


def make_database(url: str, pool_timeout: float = 10) -> Database:
    """Build a peewee database from a ``sqlite:///`` or ``postgresql://`` URL.

    ``pool_timeout``: seconds to wait for a free pooled connection when every
    one is in use (0: do not wait) before peewee's pool raises
    :class:`~playhouse.pool.MaxConnectionsExceeded`.
    """
    # Peewee's pool reads a timeout of 0 as "wait forever", None as "never wait".
    wait = pool_timeout if pool_timeout and pool_timeout > 0 else None
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        _check_sqlite_version()
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
        path = unquote(parsed.path)[1:]
        if not path or path == ":memory:":
            return SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS)
        # A pooled connection moves between threads, never used by two at once.
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=64,
            stale_timeout=300,
            timeout=wait,
            check_same_thread=False,
        )
    if parsed.scheme in ("postgres", "postgresql"):
        options = dict(parse_qsl(parsed.query))
        return _PostgresPool(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port,
            max_connections=int(options.pop("max_connections", 32)),
            stale_timeout=int(options.pop("stale_timeout", 300)),
            timeout=wait,
            # psycopg 3 when installed (the postgres extra): statements run
            # often are prepared on the server; psycopg2 still works.
            prefer_psycopg3=True,
            **options,
        )
    raise DatabaseUrlError(f"unsupported DATABASE_URL scheme: {parsed.scheme!r}")


class ConnectionLost(peewee.OperationalError):
    """The server dropped the connection under a write: it may or may not have run.

    Not run again (it could write twice); the request is answered 503 with
    ``Retry-After``, and the pool already holds a fresh connection.
    """


def _reads_only(sql: str) -> bool:
    """True for a plain SELECT, which may safely run again after a drop."""
    return sql.lstrip()[:7].upper() == "SELECT "


class _PostgresPool(PooledPostgresqlDatabase):
    """Peewee's PostgreSQL pool: pinging only idle connections, replacing dropped ones.

    Peewee sends ``SELECT 1`` whenever it hands out a pooled connection, to
    find those the server dropped: one more round trip on every request (68 µs
    of client CPU and 30 µs in the server on the benchmark machine). A
    connection given back less than :data:`PING_AFTER` seconds ago, idle and
    not closed by the driver, is handed out without it; one idle longer is
    pinged as before.

    A connection the server dropped in that window (a restart, a proxy's idle
    timeout) fails the first statement run on it. The pool forgets the dead
    connection (and closes its idle ones, most likely dropped too) and checks
    out a new one. The statement is run again only when that cannot write twice:
    a ``BEGIN``, or a ``SELECT`` (a write may have committed on the server just
    before the connection died, and the driver cannot tell). A write is
    :class:`ConnectionLost` instead, answered 503 with ``Retry-After``. A
    failure after the first statement is raised as before.
    """

    #: Seconds a returned connection is trusted without a ping.
    PING_AFTER = 2.0

    def __init__(self, *args, **kwargs):
        self._returned_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)

    def _is_closed(self, conn) -> bool:
        returned = self._returned_at.pop(conn, None)
        if (
            returned is not None
            and time.monotonic() - returned < self.PING_AFTER
            and not conn.closed
            and self._adapter.txn_status(conn) == self._adapter.txn_idle
        ):
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        if not close_conn:  # before the pool can hand it out again
            self._returned_at[conn] = time.monotonic()
        super()._close(conn, close_conn)

    def _initialize_connection(self, conn):
        super()._initialize_connection(conn)
        self._state.untouched = True  # checked out; nothing sent on it yet

    def execute_sql(self, sql, params=None):
        return self._once_more_if_dropped(
            _reads_only(sql), super().execute_sql, sql, params
        )

    def begin(self, *args, **kwargs):
        return self._once_more_if_dropped(True, super().begin, *args, **kwargs)

    def _once_more_if_dropped(self, rerun_safe: bool, run, *args, **kwargs):
        state = self._state
        if state.closed and self.autoconnect:
            self.connect()  # as peewee's cursor() would, so this is the first
        untouched, state.untouched = getattr(state, "untouched", False), False
        try:
            return run(*args, **kwargs)
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            if not (untouched and self._dropped(state.conn)):
                raise
            self._replace_dropped_connection()
            if not rerun_safe:
                raise ConnectionLost(str(error)) from error
        return run(*args, **kwargs)

    def _dropped(self, conn) -> bool:
        """True when the driver says the connection to the server is gone."""
        adapter = self._adapter
        return bool(conn.closed) or adapter.txn_status(conn) == adapter.txn_unknown

    def _replace_dropped_connection(self) -> None:
        log.warning("database connection dropped by the server; reconnecting")
        state = self._state
        # The caller's connection contexts and transaction stack stay as they are.
        kept = state.ctx, state.transactions, state.commit_callbacks
        state.transactions = []  # none begun on the dead connection yet
        self.manual_close()  # out of the pool for good
        self.close_idle()  # a restart dropped the idle ones too
        self.connect()
        state.ctx, state.transactions, state.commit_callbacks = kept
        state.untouched = False  # the statement run again is its first


class _Slot(NamedTuple):
    """Where a :class:`Param` sits among a built query's values."""

    name: str
    convert: Callable | None  # a field's db_value, as peewee would apply it


class Param(ColumnBase):
    """A named value left open in a :class:`Prepared` query: ``User.id == Param("id")``.

    The value given at run time goes through the field conversion peewee would
    apply to a literal there: the compared field's in a condition (so a model
    instance for a foreign key works), or ``field``'s when given (insert values).
    """

    def __init__(self, name: str, field: Field | None = None):
        super().__init__()
        self.name = name
        self.field = field

    def __sql__(self, ctx):
        convert = self.field.db_value if self.field is not None else ctx.state.converter
        ctx._values.append(_Slot(self.name, convert))
        return ctx.literal(ctx.state.param or "?")


class Prepared:
    """A query whose SQL is built once per database, then run with new values.

    Peewee builds a query's SQL by walking its expression tree, which on the
    hot paths cost far more than running the SQL. Give (or decorate) a function
    that returns the query (with :class:`Param` for what varies); call :meth:`rows` or
    :meth:`first` with the values (rows come back as the query would give them,
    joined models attached), or :meth:`execute` for a write's row count.
    """

    def __init__(self, build: Callable):
        self._build = build
        self._built: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.__doc__ = build.__doc__
        self.__name__ = getattr(build, "__name__", "prepared")

    def _query(self):
        target = database.obj
        built = self._built.get(target)
        if built is None:
            query = self._build()
            sql, values = query.sql()
            built = (query, sql, tuple(values), _RowReader.for_query(query))
            self._built[target] = built
        return built

    def _run(self, params: dict):
        query, sql, values, reader = self._query()
        bound = [_bind(value, params) for value in values]
        return query, reader, database.execute_sql(sql, bound)

    def rows(self, **params) -> list:
        """Every row, for these values of the query's :class:`Param` slots."""
        query, reader, cursor = self._run(params)
        if reader is not None:
            return [reader.read(row) for row in cursor.fetchall()]
        # Peewee's own row reader for this query (any shape it supports).
        return list(query._get_cursor_wrapper(cursor))

    def first(self, **params):
        """The first row, or None."""
        rows = self.rows(**params)
        return rows[0] if rows else None

    def raw(self, **params) -> list[tuple]:
        """Every row as the driver gives it: a tuple, no value converted.

        For selects of integers and text, which both drivers already give as
        Python values, read where model instances would cost more than the SQL.
        """
        return self._run(params)[2].fetchall()

    def execute(self, **params) -> int:
        """Run a write; how many rows it changed."""
        return self._run(params)[2].rowcount


class _RowReader:
    """Model instances from the rows of one select shape, planned once.

    Peewee's cursor wrappers work out, on every execution, which column belongs
    to which model and how joined rows attach; for a prepared select that plan
    never changes. Shapes read here, as peewee reads them: fields of one model
    and of models it joins directly (inner or left outer; a joined row whose
    columns are all NULL is not attached, or is None for an outer join), named
    expressions (``.alias()``, an attribute of the first model), and the row an
    INSERT … RETURNING gives back. Anything else (joins from joined models,
    model aliases, dict or tuple rows) is left to peewee. A column is converted
    only where the driver's value is not already what peewee would give (see
    :func:`_converter`).
    """

    def __init__(self, models: list, columns: list, joins: list, named: list):
        self.models = models  # the select's model first
        self.joins = joins  # (attribute on the first model, model index, outer?)
        self.named = named  # (row position, attribute) of named expressions
        # Per model: the slice of the row it reads, when its columns are
        # adjacent (they are, in selects of whole models); else None.
        self.slices = _slices(models, columns)
        self.columns = columns  # per column: (model index, field name, converter)
        self.converted = [
            (index, name, convert) for index, name, convert in columns if convert
        ]

    @classmethod
    def for_query(cls, query) -> "_RowReader | None":
        model = getattr(query, "model", None)
        if query._row_type not in (None, ROW.MODEL):
            return None
        if isinstance(query, ModelInsert):  # INSERT … RETURNING: no joins
            return cls._plan([model], [], query._returning or ())
        if not isinstance(query, ModelSelect) or query._load_tree:
            return None  # with_related(): let peewee load the related rows
        models, joins = [model], []
        for source, edges in query._joins.items():
            for dest, attr, constructor, join_type in edges:
                if source is not model or dest is not constructor:
                    return None  # a join from a joined model, or an alias
                outer = join_type == JOIN.LEFT_OUTER
                if not (outer or join_type == JOIN.INNER) or dest in models:
                    return None
                if outer and isinstance(model._meta.fields.get(attr), Field):
                    return None  # peewee marks an absent row in __rel__ there
                models.append(dest)
                joins.append((attr, len(models) - 1, outer))
        return cls._plan(models, joins, query._returning)

    @classmethod
    def _plan(cls, models, joins, returning) -> "_RowReader | None":
        # Models joined only to filter are not read (nor attached, as in peewee).
        selected = {node.model for node in returning if isinstance(node, Field)}
        joins = [(attr, models[i], outer) for attr, i, outer in joins]
        joins = [join for join in joins if join[1] in selected]
        models = [models[0], *(model for _, model, _ in joins)]
        joins = [(attr, n, outer) for n, (attr, _, outer) in enumerate(joins, 1)]
        columns, named = [], []
        for position, node in enumerate(returning):
            if isinstance(node, Field) and node.model in models and not named:
                columns.append((models.index(node.model), node.name, _converter(node)))
            elif isinstance(node, Alias) and not isinstance(node.unwrap(), Field):
                named.append((position, node._alias))  # after every field
            else:
                return None
        if not columns:
            return None
        return cls(models, columns, joins, named)

    def read(self, row):
        instances = [model.__new__(model) for model in self.models]
        if self.slices is not None:
            for instance, (start, stop, names) in zip(
                instances, self.slices, strict=True
            ):
                instance.__data__ = dict(zip(names, row[start:stop], strict=True))
                instance._dirty, instance.__rel__ = set(), {}
        else:
            for instance in instances:
                instance.__data__, instance._dirty, instance.__rel__ = {}, set(), {}
            for value, (index, name, _) in zip(row, self.columns, strict=False):
                instances[index].__data__[name] = value
        for index, name, convert in self.converted:
            data = instances[index].__data__
            data[name] = convert(data[name])
        first = instances[0]
        for position, attr in self.named:
            setattr(first, attr, row[position])
        for attr, index, outer in self.joins:
            joined = instances[index]
            if any(value is not None for value in joined.__data__.values()):
                setattr(first, attr, joined)
            elif outer:
                setattr(first, attr, None)
        first._dirty.clear()
        return first


def _slices(models: list, columns: list) -> list | None:
    """Per model, (start, stop, field names) of its columns, if they are adjacent."""
    slices = []
    for index in range(len(models)):
        positions = [n for n, column in enumerate(columns) if column[0] == index]
        if not positions or positions != list(range(positions[0], positions[-1] + 1)):
            return None
        names = tuple(columns[n][1] for n in positions)
        slices.append((positions[0], positions[-1] + 1, names))
    return slices


#: Conversions that give back what SQLite and PostgreSQL drivers already return
#: (``int`` for integer columns, ``str`` for text): skipped when reading rows.
_AS_GIVEN = {peewee.IntegerField.adapt, peewee._StringField.adapt}


def _converter(field: Field) -> Callable | None:
    """What a column of ``field`` needs to become peewee's value; None: nothing."""
    target = field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
    kind = type(target)
    if kind.python_value is Field.python_value and kind.adapt in _AS_GIVEN:
        return None
    return field.python_value


def _bind(value, params: dict):
    if not isinstance(value, _Slot):
        return value
    given = params[value.name]
    return value.convert(given) if value.convert else given


class _Upsert:
    """One upsert shape: its prepared statement and the fields filled by default."""

    def __init__(self, model, key_names: tuple, value_names: tuple, inserted: tuple):
        fields = model._meta.fields
        given = {*key_names, *value_names, *inserted}
        self.defaulted = [
            field
            for name, field in fields.items()
            if name not in given and field.default is not None
        ]
        names = [*key_names, *value_names, *inserted]
        names += [field.name for field in self.defaulted]
        # Nothing to update still updates a key to itself: DO NOTHING returns no row.
        updated = value_names or key_names[:1]
        self.query = Prepared(
            lambda: (
                model.insert(
                    {fields[name]: Param(name, fields[name]) for name in names}
                )
                .on_conflict(
                    conflict_target=[fields[name] for name in key_names],
                    update={
                        fields[name]: getattr(EXCLUDED, fields[name].column_name)
                        for name in updated
                    },
                )
                .returning(model)
            )
        )

    def defaults(self) -> dict:
        """The default of each defaulted field, taken now (``utcnow`` and the like)."""
        return {
            field.name: field.default() if callable(field.default) else field.default
            for field in self.defaulted
        }


#: Upsert shapes by (model, key names, value names, inserted names).
_upserts: dict[tuple, _Upsert] = {}


def _upsert(model: type[Model], keys: dict, values: dict, inserted: dict) -> Model:
    shape = (model, tuple(keys), tuple(values), tuple(inserted))
    found = _upserts.get(shape)
    if found is None:
        found = _upserts[shape] = _Upsert(*shape)
    return found.query.first(**found.defaults(), **keys, **values, **inserted)


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
    lock = os.open(f"{path}.migrate-lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


#: Suffixes of the files SQLite keeps beside a database in WAL mode.
SQLITE_SIDE_FILES = ("-wal", "-shm")


def private_sqlite_file(path: str | os.PathLike) -> None:
    """Create the SQLite file at ``path`` readable by its owner only (0600).

    SQLite itself creates a database 0644 (less the umask), and its ``-wal`` and
    ``-shm`` files with the database file's mode: created here first, empty (a
    valid empty database), all three stay private. A file from before that others
    may read loses that permission (logged). Called once when the database is
    bound, never per request.
    """
    path = os.fspath(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for name in (path, *(path + suffix for suffix in SQLITE_SIDE_FILES)):
        try:
            mode = os.stat(name).st_mode
        except FileNotFoundError:
            continue
        if mode & 0o077:
            try:
                os.chmod(name, mode & 0o700)
            except PermissionError:  # another user's file: say so, use it as it is
                log.warning("%s is readable by others (mode %o)", name, mode & 0o777)
                continue
            log.warning("made %s private to its owner (it was mode %o)", name, mode)


def init_app(app: Flask) -> None:
    """Bind the database to ``app``, open/close per request, add ``db`` commands."""
    database.initialize(
        make_database(app.config["DATABASE_URL"], app.config["DATABASE_POOL_TIMEOUT"])
    )
    if isinstance(database.obj, SqliteDatabase) and database.obj.database != ":memory:":
        private_sqlite_file(database.obj.database)
    app.extensions["lms_plugin.db"] = database
    app.before_request(_connect)
    app.teardown_appcontext(_close)
    app.register_error_handler(MaxConnectionsExceeded, _pool_exhausted)
    app.register_error_handler(ConnectionLost, _connection_lost)
    app.cli.add_command(db_cli)
    if app.config["AUTO_MIGRATE"]:
        migrate(app.config["MIGRATIONS_DIR"])


def _connect() -> None:
    database.connect(reuse_if_open=True)


def _close(exc: BaseException | None) -> None:
    if not database.is_closed():
        database.close()


#: Seconds a client is asked to wait before retrying when the pool was exhausted.
POOL_RETRY_AFTER = 5


def _pool_exhausted(error: MaxConnectionsExceeded):
    """503 with ``Retry-After``: every connection stayed busy for the whole wait."""
    log.warning("database pool exhausted: %s", error)
    return _unavailable(
        "Every connection to the database was in use. "
        f"Please try again in {POOL_RETRY_AFTER} seconds."
    )


def _connection_lost(error: ConnectionLost):
    """503 with ``Retry-After``: a write's connection dropped; not run twice."""
    log.warning("database connection lost under a write: %s", error)
    return _unavailable(
        "The connection to the database was lost while saving. "
        f"Please try again in {POOL_RETRY_AFTER} seconds."
    )


def _unavailable(message: str):
    """The tool-busy page with ``Retry-After``, rendered without the database.

    Rendered without the signed-in user, and its CSP names the frame ancestors
    last read (never a query that would wait for the pool again).
    """
    from lms_plugin import security
    from lms_plugin.errors import render_error

    body, status = render_error(503, "The tool is busy", message)
    return (
        body,
        status,
        {
            "Retry-After": str(POOL_RETRY_AFTER),
            "Content-Security-Policy": security.content_security_policy(cached=True),
        },
    )


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
