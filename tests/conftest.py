"""Shared fixtures: an app on a fresh database of each backend, client, CLI runner.

Tests that touch the database run once on SQLite and once on PostgreSQL. Set
LMS_PLUGIN_TEST_DATABASES=sqlite to run SQLite only, and
LMS_PLUGIN_TEST_POSTGRES_URL to point at another PostgreSQL server. Each test
process creates its own database on that server (named after the URL's database,
the process id and a random suffix) on first use and drops it when the session
ends, so two runs on one machine, or pytest-xdist workers, never share tables.
Under CI (CI=true) an unreachable PostgreSQL fails the run instead of skipping.
"""

import atexit
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest

from lms_plugin import create_app
from lms_plugin.db import database

SERVER_URL = os.environ.get(
    "LMS_PLUGIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _run_database_url(server_url: str) -> str:
    """The URL of this process's own database on the server of server_url."""
    parts = urlsplit(server_url)
    base = parts.path.lstrip("/") or "test"
    name = f"{base}_run_{os.getpid()}_{secrets.token_hex(3)}"
    return urlunsplit(parts._replace(path="/" + name))


POSTGRES_URL = _run_database_url(SERVER_URL)
_created: list[str] = []
BACKENDS = os.environ.get("LMS_PLUGIN_TEST_DATABASES", "sqlite,postgresql").split(",")


MIGRATIONS = sorted(
    path.stem
    for path in (Path(__file__).parent.parent / "migrations").glob("[0-9]*.py")
)


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _create_run_database(url: str) -> None:
    """Create url's database from the server URL's, once per process."""
    import psycopg

    if url in _created:
        return
    with psycopg.connect(SERVER_URL, connect_timeout=3, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{_database_name(url)}"')
    _created.append(url)


def drop_run_databases() -> None:
    """Drop the databases this process created (at the end of the session)."""
    if not _created:
        return
    import psycopg

    with psycopg.connect(SERVER_URL, connect_timeout=3, autocommit=True) as admin:
        while _created:
            name = _database_name(_created.pop())
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


atexit.register(drop_run_databases)


def pytest_sessionfinish(session, exitstatus):
    """Close the app's pooled connections, then drop this run's database."""
    if database.obj is not None:
        if not database.is_closed():
            database.close()
        close_all = getattr(database.obj, "close_all", None)
        if close_all:
            close_all()
    drop_run_databases()


def reset_postgres(url: str = POSTGRES_URL) -> str | None:
    """Empty the PostgreSQL test database; return why not if unreachable.

    This process's own database (POSTGRES_URL) is created on first use. When
    every migration is applied already, the tables are only truncated (much
    faster than rebuilding); otherwise the schema is dropped, and the app under
    test migrates it afresh.
    """
    try:
        import psycopg
    except ImportError:
        return "psycopg (3) is not installed"
    try:
        if url == POSTGRES_URL:
            _create_run_database(url)
        conn = psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as error:
        return f"PostgreSQL unreachable at {url}: {error}".strip()
    with conn.cursor() as cur:
        # Test data need not survive a crash: commit without waiting for disk.
        cur.execute("SELECT current_database()")
        name = cur.fetchone()[0]
        cur.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(row[0] for row in cur.fetchall())
        applied = []
        if "schema_migration" in tables:
            cur.execute('SELECT name FROM "schema_migration" ORDER BY name')
            applied = [row[0] for row in cur.fetchall()]
        data_tables = [t for t in tables if t != "schema_migration"]
        if applied == MIGRATIONS and data_tables:
            _empty_tables(cur, data_tables)
        else:
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()
    return None


def _empty_tables(cur, tables: list[str]) -> None:
    """Delete every row; far faster than TRUNCATE for the few rows tests leave."""
    try:  # skip FK checks while emptying (needs a superuser, as on CI)
        cur.execute("SET session_replication_role = replica")
    except Exception:
        names = ", ".join(f'"{t}"' for t in tables)
        cur.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    cur.execute("".join(f'DELETE FROM "{t}";' for t in tables))
    cur.execute("SET session_replication_role = DEFAULT")


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A URL of an empty database: SQLite in tmp_path, or the PostgreSQL test DB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    problem = reset_postgres()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return POSTGRES_URL


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build apps on the test database; close their connections afterwards."""

    def factory(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "AUTO_PUBLISH": False,  # content tests publish what they need
            "PASSBACK_THREAD": False,  # passback tests start senders themselves
        }
        config.update(overrides)
        return create_app(config)

    yield factory
    if database.obj is None:  # create_app failed before binding the database
        return
    if not database.is_closed():
        database.close()
    close_all = getattr(database.obj, "close_all", None)
    if close_all:
        close_all()


@pytest.fixture
def app(make_app):
    """The tool on a fresh, migrated database."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; cookies cleared per test."""
    from tests.browser import make_browser

    driver = make_browser()
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def live_server(app):
    """The test app on the production server, on a loopback port."""
    from tests.browser import LiveServer

    with LiveServer(app) as server:
        yield server


@pytest.fixture
def page(browser, live_server):
    """A browser with no cookies, pointed at the live server."""
    browser.delete_all_cookies()
    return browser


@pytest.fixture
def platform(app):
    """A registered LTI test platform (tests/lti_platform.py), JWKS inline."""
    from tests.lti_platform import TestPlatform

    platform = TestPlatform()
    platform.register()
    return platform


@pytest.fixture
def serve_lms():
    """Start fake LMSs on 127.0.0.1; stop them after the test."""
    from tests.registration_platform import FakeLms
    from tests.registration_platform import ServedLms

    served = []

    def start(**fields) -> FakeLms:
        server = ServedLms(FakeLms(**fields))
        served.append(server)
        return server.lms

    yield start
    for server in served:
        server.close()
