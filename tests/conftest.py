"""Shared fixtures: an app on a fresh database of each backend, client, CLI runner.

Tests that touch the database run once on SQLite and once on PostgreSQL. Set
LMS_PLUGIN_TEST_DATABASES=sqlite to run SQLite only, and
LMS_PLUGIN_TEST_POSTGRES_URL to point at another PostgreSQL database. Under CI
(CI=true) an unreachable PostgreSQL fails the run instead of skipping.
"""

import os

import pytest

from lms_plugin import create_app
from lms_plugin.db import database

POSTGRES_URL = os.environ.get(
    "LMS_PLUGIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("LMS_PLUGIN_TEST_DATABASES", "sqlite,postgresql").split(",")


def reset_postgres(url: str = POSTGRES_URL) -> str | None:
    """Empty the PostgreSQL test database; return why not if unreachable."""
    try:
        import psycopg2
    except ImportError:
        return "psycopg2 is not installed"
    try:
        conn = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError as error:
        return f"PostgreSQL unreachable at {url}: {error}".strip()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()
    return None


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
        }
        config.update(overrides)
        return create_app(config)

    yield factory
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
    """The test app served by waitress on a loopback port."""
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
