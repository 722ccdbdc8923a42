"""GET /healthz reports database status; errors never leak tracebacks."""

from lms_plugin.db import database


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(database.obj, "execute_sql", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<h1" in response.text and "Not Found" in response.text


def test_unexpected_error_is_a_plain_500_without_traceback(make_app):
    app = make_app(TESTING=False)

    @app.get("/_boom")
    def boom():
        raise ValueError("secret internals")

    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
