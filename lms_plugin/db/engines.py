"""Peewee databases from ``DATABASE_URL``: pooled SQLite or pooled PostgreSQL.

Both keep a pool of open connections: a request checks one out and gives it back,
so no request pays for connecting (or, on SQLite, for its pragmas and the WAL
checkpoint that closing the last connection runs). The PostgreSQL pool skips the
liveness ping for a connection given back moments ago and replaces one the server
dropped (:class:`_PostgresPool`); the SQLite file and its side files are private to
their owner (:func:`private_sqlite_file`).
"""

import logging
import os
import sqlite3
import threading
import time
import weakref
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlparse

import peewee
from peewee import Database
from peewee import DatabaseProxy
from peewee import SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.pool import PooledSqliteDatabase

from lms_plugin.db import internals

log = logging.getLogger(__name__)

#: The tool's database: bound to one of these by ``lms_plugin.db.init_app``.
database = DatabaseProxy()

#: SQLite settings for one writer and many readers (the embedded default).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


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


def is_postgres() -> bool:
    """True when the bound database is PostgreSQL."""
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def ping() -> None:
    """Run the cheapest statement there is; raises whatever the driver raises."""
    database.execute_sql("SELECT 1").fetchone()


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


class _PostgresPool(internals.PoolHooks, PooledPostgresqlDatabase):
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
        self._untouched = threading.local()  # per thread: nothing sent on it yet
        super().__init__(*args, **kwargs)

    def trusted(self, conn) -> bool:
        returned = self._returned_at.pop(conn, None)
        if returned is None or time.monotonic() - returned >= self.PING_AFTER:
            return False
        idle, _ = internals.idle_in_transaction_status(self, conn)
        return not conn.closed and idle

    def returned(self, conn) -> None:
        self._returned_at[conn] = time.monotonic()

    def checked_out(self) -> None:
        self._untouched.value = True

    def execute_sql(self, sql, params=None):
        return self._once_more_if_dropped(
            _reads_only(sql), super().execute_sql, sql, params
        )

    def begin(self, *args, **kwargs):
        return self._once_more_if_dropped(True, super().begin, *args, **kwargs)

    def _once_more_if_dropped(self, rerun_safe: bool, run, *args, **kwargs):
        if self.is_closed() and self.autoconnect:
            self.connect()  # as peewee's cursor() would, so this is the first
        untouched = getattr(self._untouched, "value", False)
        self._untouched.value = False
        try:
            return run(*args, **kwargs)
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            if not (untouched and self._dropped(internals.current_connection(self))):
                raise
            self._replace_dropped_connection()
            if not rerun_safe:
                raise ConnectionLost(str(error)) from error
        return run(*args, **kwargs)

    def _dropped(self, conn) -> bool:
        """True when the driver says the connection to the server is gone."""
        _, unknown = internals.idle_in_transaction_status(self, conn)
        return bool(conn.closed) or unknown

    def _replace_dropped_connection(self) -> None:
        log.warning("database connection dropped by the server; reconnecting")
        # The caller's connection contexts and transaction stack stay as they are.
        kept = internals.take_transaction_stack(self)
        self.manual_close()  # out of the pool for good
        self.close_idle()  # a restart dropped the idle ones too
        self.connect()
        internals.restore_transaction_stack(self, kept)
        self._untouched.value = False  # the statement run again is its first


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
