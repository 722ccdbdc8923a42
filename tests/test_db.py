"""DATABASE_URL parsing, db commands, pooled connections, prepared queries, upserts."""

import datetime
import time

import peewee
import pytest
from hypothesis import given
from hypothesis import strategies as st
from peewee import JOIN
from peewee import Alias
from peewee import SqliteDatabase
from peewee import fn
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.pool import PooledSqliteDatabase

from lms_plugin.db import ConnectionLost
from lms_plugin.db import DatabaseUrlError
from lms_plugin.db import DateTimeField
from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.db import database
from lms_plugin.db import make_database
from lms_plugin.db.engines import _check_sqlite_version
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import User
from tests.factories import make_module
from tests.factories import make_page


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


# --- pooled SQLite -------------------------------------------------------------


def test_a_sqlite_file_gets_a_pool_and_memory_does_not():
    assert isinstance(make_database("sqlite:///x.db"), PooledSqliteDatabase)
    assert not isinstance(make_database("sqlite:///:memory:"), PooledSqliteDatabase)


def test_requests_reuse_a_pooled_connection(app):
    given = []  # kept alive, so a new connection could not reuse an old one's id

    @app.get("/_test/connection")
    def connection():
        given.append(database.connection())
        return ""

    client = app.test_client()
    for _ in range(3):
        client.get("/_test/connection")
    assert given[1] is given[0] and given[2] is given[0]  # one thread: one connection


def test_a_transaction_left_open_is_rolled_back_before_reuse(app):
    """A request that fails mid-transaction does not leak it to the next one."""

    @app.get("/_test/abandon")
    def abandon():
        database.begin()
        Course.create(slug="abandoned", title="Abandoned")
        raise RuntimeError("the view failed before committing")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    assert client.get("/_test/abandon").status_code == 500
    with database.connection_context():
        assert not Course.select().where(Course.slug == "abandoned").exists()


# --- waiting for a pooled connection -------------------------------------------


def _hold_every_connection(app, seconds: float):
    """Check out the pool's only connection in another thread for ``seconds``."""
    import threading

    database.obj._max_connections = 1
    held, done = threading.Event(), threading.Event()

    def hold():
        with app.app_context(), database.connection_context():
            database.execute_sql("SELECT 1")
            held.set()
            done.wait(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    return thread, done


def test_a_request_waits_for_a_busy_pool_then_gets_503_with_retry_after(make_app):
    app = make_app(DATABASE_POOL_TIMEOUT=0.5)
    thread, done = _hold_every_connection(app, 30)
    try:
        started = time.monotonic()
        response = app.test_client().get("/healthz", headers={"Accept": "text/html"})
        waited = time.monotonic() - started
    finally:
        done.set()
        thread.join()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "The tool is busy" in response.get_data(as_text=True)
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert 0.5 <= waited < 5
    thread, done = _hold_every_connection(app, 30)
    try:
        as_json = app.test_client().get(
            "/healthz", headers={"Accept": "application/json"}
        )
    finally:
        done.set()
        thread.join()
    assert as_json.status_code == 503 and as_json.json["error"] == "The tool is busy"


def test_a_request_that_waits_gets_the_connection_given_back(make_app):
    app = make_app(DATABASE_POOL_TIMEOUT=10)
    thread, done = _hold_every_connection(app, 0.3)  # given back after 0.3 s
    try:
        response = app.test_client().get("/healthz")
    finally:
        done.set()
        thread.join()
    assert response.status_code == 200, response.get_data(as_text=True)


def test_pool_timeout_reaches_peewee_pool():
    waits = make_database("postgresql://db.example/lms", pool_timeout=2.5)
    assert waits._wait_timeout == 2.5
    never = make_database("sqlite:///x.db", pool_timeout=0)
    assert never._wait_timeout is None  # 0: answer at once, never wait


def _postgres_pool():
    pool = database.obj
    if not isinstance(pool, PooledPostgresqlDatabase):
        pytest.skip("the PostgreSQL pool")
    return pool


def _terminate(pid: int) -> None:
    """End a PostgreSQL backend as a server restart would; wait until it is gone."""
    import psycopg

    from tests.conftest import POSTGRES_URL

    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)


def test_a_postgres_connection_is_pinged_only_after_sitting_idle(app, monkeypatch):
    pool = _postgres_pool()
    pings = []
    ping = pool._adapter.is_connection_closed
    monkeypatch.setattr(
        pool._adapter, "is_connection_closed", lambda c: pings.append(c) or ping(c)
    )
    for _ in range(3):  # handed back just now each time: no round trip
        with database.connection_context():
            database.execute_sql("SELECT 1")
    assert pings == []
    monkeypatch.setattr(pool, "PING_AFTER", 0.0)
    with database.connection_context():
        database.execute_sql("SELECT 1")
    assert len(pings) == 1


def test_a_connection_the_server_dropped_is_replaced_after_sitting_idle(
    app, monkeypatch
):
    pool = _postgres_pool()
    with database.connection_context():
        (pid,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
    _terminate(pid)
    monkeypatch.setattr(pool, "PING_AFTER", 0.0)
    with database.connection_context():
        (now,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
    assert now != pid


def _backend_pid() -> int:
    with database.connection_context():
        (pid,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
    return pid


def test_a_request_on_a_connection_dropped_soon_after_succeeds(app):
    """Handed out unpinged, the dropped connection is replaced and the query rerun."""
    _postgres_pool()

    @app.get("/_test/backend")
    def backend():
        return str(_backend_pid())

    client = app.test_client()
    pid = int(client.get("/_test/backend").get_data(as_text=True))
    _terminate(pid)
    response = client.get("/_test/backend")
    assert response.status_code == 200
    assert int(response.get_data(as_text=True)) != pid
    assert client.get("/healthz").status_code == 200


def test_a_transaction_begun_on_a_dropped_connection_is_begun_on_a_new_one(app):
    _postgres_pool()
    pid = _backend_pid()
    _terminate(pid)
    with database.connection_context():
        with database.atomic():
            Course.create(slug="after-drop", title="After the drop")
            (now,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
    assert now != pid
    with database.connection_context():
        assert Course.select().where(Course.slug == "after-drop").count() == 1


def test_a_write_on_a_dropped_connection_is_never_run_twice(app):
    """The server may have run it before the connection died: no rerun."""
    _postgres_pool()
    pid = _backend_pid()
    _terminate(pid)
    insert = 'INSERT INTO "course" ("slug", "title") VALUES (%s, %s)'
    with pytest.raises(ConnectionLost), database.connection_context():
        database.execute_sql(insert, ("once", "Once"))
    with database.connection_context():
        assert Course.select().where(Course.slug == "once").count() <= 1
        assert _backend_pid() != pid  # the pool holds a fresh connection


def test_a_request_whose_first_statement_writes_on_a_dropped_connection_is_a_503(app):
    _postgres_pool()

    @app.get("/_test/write")  # a GET: no CSRF token to bring
    def write():
        Course.create(slug="posted", title="Posted")
        return "ok"

    client = app.test_client()
    _terminate(_backend_pid())
    response = client.get("/_test/write")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "lost while saving" in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


def test_a_statement_after_the_first_is_not_run_again(app):
    """Once something was sent on a connection, its loss is the request's error."""
    _postgres_pool()
    with pytest.raises(peewee.DatabaseError), database.connection_context():
        with database.atomic():
            Course.create(slug="before-drop", title="Before the drop")
            (pid,) = database.execute_sql("SELECT pg_backend_pid()").fetchone()
            _terminate(pid)
            Course.create(slug="lost", title="Lost with its transaction")
    database.obj.close_all()  # the dead connection's state is left in this thread
    with database.connection_context():
        assert not Course.select().where(Course.slug.in_(["before-drop", "lost"]))


# --- prepared queries ----------------------------------------------------------


def _module_by_slug_builds():
    builds = []

    def build():
        builds.append(1)
        return (
            Module.select(Module, ModuleVersion)
            .join(
                ModuleVersion,
                on=(ModuleVersion.module == Module.id)
                & (ModuleVersion.number == Module.version),
            )
            .where(Module.slug == Param("slug"))
        )

    return Prepared(build), builds


def test_prepared_gives_the_rows_of_the_plain_select(app):
    query, builds = _module_by_slug_builds()
    with database.connection_context():
        module = make_module(slug="m01-one", title="One")
        make_module(slug="m02-two", title="Two")
        row = query.first(slug="m01-one")
        assert row.id == module.id and row.slug == "m01-one"
        assert row.moduleversion.title == "One"  # the joined model is attached
        assert query.first(slug="m02-two").moduleversion.title == "Two"
        assert query.first(slug="m03-none") is None
        assert [m.slug for m in query.rows(slug="m02-two")] == ["m02-two"]
    assert len(builds) == 1  # SQL built once for this database


def test_prepared_values_are_bound_parameters(app):
    query, _ = _module_by_slug_builds()
    with database.connection_context():
        make_module(slug="m01-one")
        assert query.rows(slug="x' OR '1'='1") == []


def test_prepared_converts_values_like_peewee(app):
    """A model instance where a foreign key is compared works as in a select."""
    pages = Prepared(lambda: Page.select().where(Page.module == Param("module")))
    with database.connection_context():
        module = make_module()
        page = make_page(module)
        make_page(make_module())  # another module's page
        assert [p.id for p in pages.rows(module=module)] == [page.id]
        assert [p.id for p in pages.rows(module=module.id)] == [page.id]


def _as_peewee_reads(row) -> dict:
    """A row's values with their types (1 == True), its joined rows and named
    expressions (None for an outer join that found nothing)."""

    def typed(value):
        if isinstance(value, peewee.Model):
            return {name: typed(v) for name, v in value.__data__.items()}
        return type(value), value

    extra = {k: typed(v) for k, v in vars(row).items() if k not in _INTERNALS}
    return {"data": typed(row), **extra}


_INTERNALS = {"__data__", "_dirty", "__rel__"}


def test_prepared_rows_are_the_rows_peewee_reads(app, platform):
    """Text, integers, booleans, datetimes, JSON, nulls, keys, inner joins."""
    from lms_plugin.models.progress import ModuleProgress

    with database.connection_context():
        module = make_module(quiz={"title": "Q", "passing_percent": 80})
        make_page(module, title="Ünïcode & <tags>", retired_at=None)
        user = User.create(registration=LtiRegistration.get(), sub="u-9")
        ModuleProgress.create(user=user, scope=0, module=module, passed=True,
                              kept_percent=87.5, state="completed")  # fmt: skip
        make_module(quiz=None)  # no progress: the outer join finds nothing
        pages = Page.select(fn.COUNT(Page.id))
        queries = [
            Module.select(Module, ModuleVersion).join(
                ModuleVersion,
                on=(ModuleVersion.module == Module.id)
                & (ModuleVersion.number == Module.version),
            ),
            Page.select(),
            User.select(User, LtiRegistration).join(LtiRegistration),
            ModuleProgress.select(),
            # Left outer join (found and not found), named expressions, and a
            # join only to filter (not attached).
            Module.select(
                Module,
                ModuleProgress,
                fn.COALESCE(pages.where(Page.module == Module.id), 0).alias("pages"),
                (Module.position + 1).alias("next_position"),
                Alias(pages.where(Page.module == Module.id), "page_count"),
            )
            .join(ModuleProgress, JOIN.LEFT_OUTER,
                  on=(ModuleProgress.module == Module.id), attr="mine")
            .switch(Module)
            .join(Course)
            .order_by(Module.id),
        ]  # fmt: skip
        for query in queries:
            prepared = Prepared(lambda query=query: query)
            expected = [_as_peewee_reads(row) for row in query.clone()]
            assert expected, query
            assert prepared._query()[3] is not None, query  # read by _RowReader
            assert [_as_peewee_reads(row) for row in prepared.rows()] == expected


def test_prepared_builds_again_for_another_database(app, tmp_path):
    query, builds = _module_by_slug_builds()
    with database.connection_context():
        query.rows(slug="x")
    other = make_database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    current = database.obj
    database.initialize(other)
    try:
        Course.create_table()
        Module.create_table()
        ModuleVersion.create_table()
        with database.connection_context():
            assert query.rows(slug="x") == []
    finally:
        other.close_all()
        database.initialize(current)
    assert len(builds) == 2


# --- upserts -------------------------------------------------------------------


def test_upsert_inserts_then_updates_one_row_and_returns_it(app, platform):
    registration = LtiRegistration.get(LtiRegistration.issuer == platform.issuer)
    keys = {"registration": registration, "sub": "u-1"}
    with database.connection_context():
        first = User.upsert(keys, {"name": "Ada"})
        assert first.id and first.name == "Ada" and first.email == ""  # default
        created = first.created_at
        assert created is not None  # a callable default, called on insert
        again = User.upsert(keys, {"name": "Ada L.", "email": "ada@example.org"})
        assert again.id == first.id
        assert (again.name, again.email) == ("Ada L.", "ada@example.org")
        assert again.created_at == created  # not among the values: left alone
        assert User.select().count() == 1


def test_upsert_defaults_are_taken_at_each_call_not_once(app, platform):
    registration = LtiRegistration.get(LtiRegistration.issuer == platform.issuer)
    with database.connection_context():
        one = User.upsert({"registration": registration, "sub": "a"}, {})
        time.sleep(0.01)
        two = User.upsert({"registration": registration, "sub": "b"}, {})
    assert two.created_at > one.created_at


def test_an_old_sqlite_is_refused_with_a_clear_message():
    with pytest.raises(DatabaseUrlError, match=r"SQLite 3\.34\.1 is too old.*3\.35"):
        _check_sqlite_version((3, 34, 1))
    _check_sqlite_version((3, 35, 0))


# --- datetimes read back from SQLite -------------------------------------------


@given(
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(9999, 1, 1)
    )
)
def test_datetimes_read_back_as_peewee_reads_them(moment):
    ours, theirs = DateTimeField(), peewee.DateTimeField()
    for text in (str(moment), str(moment.replace(microsecond=0)), str(moment.date())):
        assert ours.python_value(text) == theirs.python_value(text)


def test_text_that_is_not_a_naive_datetime_goes_to_peewee():
    ours, theirs = DateTimeField(), peewee.DateTimeField()
    for text in ("not a date", "2026-11-24T10:00:00+00:00", ""):
        assert ours.python_value(text) == theirs.python_value(text)


def test_a_bad_database_url_is_a_one_line_error_in_the_cli(tmp_path):
    from click.testing import CliRunner

    from lms_plugin.cli import main

    env = {"DATABASE_URL": "mysql://db.example/lms"}
    env["LMS_PLUGIN_INSTANCE_PATH"] = str(tmp_path)
    result = CliRunner(env=env).invoke(main, ["db", "status"])
    assert result.exit_code == 1
    assert "Error: DATABASE_URL: unsupported DATABASE_URL scheme: 'mysql'" in (
        result.output
    )
    assert "Traceback" not in result.output
