"""DATABASE_URL parsing and the db commands."""

import pytest
from peewee import SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from lms_plugin.db import DatabaseUrlError
from lms_plugin.db import make_database


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite:////abs/dir/file.db", "/abs/dir/file.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls(url, path):
    db = make_database(url)
    assert isinstance(db, SqliteDatabase)
    assert db.database == path


def test_postgres_url():
    db = make_database("postgresql://u%40x:p%2Fw@db.example:6543/lms?max_connections=5")
    assert isinstance(db, PooledPostgresqlDatabase)
    assert db.database == "lms"
    assert db.connect_params["user"] == "u@x"
    assert db.connect_params["password"] == "p/w"
    assert db.connect_params["port"] == 6543
    assert db._max_connections == 5


def test_unknown_scheme_is_refused():
    with pytest.raises(DatabaseUrlError, match="mysql"):
        make_database("mysql://localhost/x")


def test_db_status_and_upgrade_commands(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applied 0 migration(s)" in result.output
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert "pending" not in result.output
