"""Demo mode exists only where it is safe: refused in production configurations,
absent (404) when off."""

import os

import psycopg
import pytest
from click.testing import CliRunner

from lms_plugin.cli import main
from lms_plugin.demo import DemoModeRefused
from lms_plugin.demo.blueprint import is_loopback
from tests.conftest import POSTGRES_URL
from tests.conftest import reset_postgres
from tests.demo.support import close_databases
from tests.demo.support import make_demo_app
from tests.demo.support import register_rows


@pytest.mark.parametrize(
    "path", ["/demo/", "/demo/jwks", "/demo/.well-known/openid-configuration"]
)
def test_demo_routes_are_404_when_demo_mode_is_off(client, path):
    assert client.get(path).status_code == 404


def test_demo_mode_runs_on_sqlite_and_is_refused_with_postgresql(
    make_app, database_url
):
    if database_url.startswith("postgresql"):
        with pytest.raises(DemoModeRefused, match="PostgreSQL"):
            make_app(DEMO_MODE=True)
        return
    app = make_app(DEMO_MODE=True)
    try:
        with app.app_context():
            register_rows("http://localhost")
        assert app.test_client().get("/demo/").status_code == 200
    finally:
        close_databases()


def test_demo_mode_is_refused_for_a_public_base_url(tmp_path):
    with pytest.raises(DemoModeRefused, match="loopback"):
        make_demo_app(tmp_path, DEMO_BASE_URL="https://lms.example.org")


def test_demo_answers_only_loopback_host_names(demo_client):
    response = demo_client.get("/demo/", headers={"Host": "lms.example.org"})
    assert response.status_code == 403
    assert b"loopback" in response.data
    other = demo_client.get("/demo/?x=1", headers={"Host": "127.0.0.1:8000"})
    assert other.status_code == 302  # to DEMO_BASE_URL's host, where its cookie is
    assert other.headers["Location"] == "http://localhost/demo/?x=1"


def test_without_a_base_url_any_loopback_host_is_served(tmp_path):
    app = make_demo_app(tmp_path, DEMO_BASE_URL=None)
    try:
        with app.app_context():
            register_rows("http://127.0.0.1:8000")
        client = app.test_client()
        response = client.get("/demo/", headers={"Host": "127.0.0.1:8000"})
        assert response.status_code == 200
        doc = client.get(
            "/demo/.well-known/openid-configuration", headers={"Host": "[::1]:8000"}
        ).json
        assert doc["issuer"] == "http://[::1]:8000/demo"
    finally:
        close_databases()


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("lms.example.org", False),
        ("localhost.example.org", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_cli_demo_refuses_a_non_loopback_host(tmp_path):
    env = {"LMS_PLUGIN_INSTANCE_PATH": str(tmp_path)}
    result = CliRunner(env=env).invoke(main, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output


def test_cli_demo_refuses_postgresql_before_touching_it(tmp_path):
    problem = reset_postgres()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    before = _public_tables()
    env = {"DATABASE_URL": POSTGRES_URL, "LMS_PLUGIN_INSTANCE_PATH": str(tmp_path)}
    result = CliRunner(env=env).invoke(main, ["demo", "--port", "1"])
    assert result.exit_code == 1
    assert "refused with a PostgreSQL DATABASE_URL" in result.output
    assert _public_tables() == before  # no migration, no table, no row touched


def _public_tables() -> dict[str, int]:
    """Every table in the public schema with its row count."""
    conn = psycopg.connect(POSTGRES_URL)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public'"
            )
            names = sorted(row[0] for row in cur.fetchall())
            counts = {}
            for name in names:
                cur.execute(f'SELECT count(*) FROM "{name}"')
                counts[name] = cur.fetchone()[0]
            return counts
    finally:
        conn.close()


def test_the_demo_database_is_private_to_its_owner(tmp_path):
    previous = os.umask(0o022)  # under which SQLite would create it 0644
    try:
        make_demo_app(tmp_path)
    finally:
        os.umask(previous)
        close_databases()
    demo_file = tmp_path / "instance" / "demo.sqlite3"
    assert oct(demo_file.stat().st_mode & 0o777) == oct(0o600)
