"""The factory honours configuration layers."""

import json

from lms_plugin import create_app


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
