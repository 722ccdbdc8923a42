"""Schema changes: the numbered files in ``migrations/``, applied in turn under a lock.

:func:`migrate` applies every pending one; several processes starting at once
take turns (a PostgreSQL advisory lock, or a lock file beside the SQLite file).
"""

import contextlib
import fcntl
import os

from playhouse.migrations import Runner

from lms_plugin.db.engines import database
from lms_plugin.db.engines import is_postgres


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
