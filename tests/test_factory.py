"""The factory honours configuration layers."""

import json
import os
import stat

import pytest

from lms_plugin import create_app
from lms_plugin.db import database
from lms_plugin.models.content import Course


def test_test_config_wins(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret"


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_PLUGIN_AUTO_MIGRATE", "false")
    monkeypatch.setenv("LMS_PLUGIN_PROXY_FIX", json.dumps({"x_proto": 1}))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "AUTO_PUBLISH": False})
    assert app.config["AUTO_MIGRATE"] is False
    assert app.config["DATABASE_URL"].endswith("env.db")
    assert app.config["PROXY_FIX"] == {"x_proto": 1}


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text("AUTO_MIGRATE = False\n")
    app = create_app({"INSTANCE_PATH": str(instance), "AUTO_PUBLISH": False})
    assert app.config["AUTO_MIGRATE"] is False
    # default database lives in the instance folder
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'lms_plugin.sqlite3'}"


def test_secret_key_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "inst"
    first = create_app({"INSTANCE_PATH": str(instance), "AUTO_PUBLISH": False}).config[
        "SECRET_KEY"
    ]
    second = create_app({"INSTANCE_PATH": str(instance), "AUTO_PUBLISH": False}).config[
        "SECRET_KEY"
    ]
    assert first == second and len(first) >= 40
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_proxy_fix_makes_forwarded_https_visible(make_app):
    app = make_app(PROXY_FIX={"x_proto": 1, "x_host": 1})

    @app.get("/_scheme")
    def scheme():
        from flask import request

        return request.scheme + " " + request.host

    response = app.test_client().get(
        "/_scheme",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.example.edu"},
    )
    assert response.text == "https tool.example.edu"


@pytest.fixture
def umask_022():
    """The usual umask, under which SQLite would create its files 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_instance_folder_database_and_wal_files_are_private(
    tmp_path, monkeypatch, umask_022
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "new" / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "AUTO_PUBLISH": False})
    with app.app_context(), database.connection_context():
        Course.create(slug="private", title="Written, so the WAL holds a page")
        db_file = instance / "lms_plugin.sqlite3"
        files = [db_file, *(f"{db_file}{suffix}" for suffix in ("-wal", "-shm"))]
        assert {_mode(path) for path in files} == {0o600}
    assert _mode(instance) == 0o700
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(f"{db_file}.migrate-lock") == 0o600
    database.obj.close_all()


def test_a_world_readable_database_from_before_is_made_private(tmp_path, umask_022):
    db_file = tmp_path / "old.sqlite3"
    db_file.touch(mode=0o644)
    create_app(
        {
            "DATABASE_URL": f"sqlite:///{db_file}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
            "AUTO_PUBLISH": False,
        }
    )
    assert _mode(db_file) == 0o600
    database.obj.close_all()


def test_an_instance_folder_that_exists_keeps_its_mode(tmp_path, umask_022):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o750)
    create_app(
        {"INSTANCE_PATH": str(instance), "SECRET_KEY": "x", "AUTO_PUBLISH": False}
    )
    assert _mode(instance) == 0o750
    database.obj.close_all()
