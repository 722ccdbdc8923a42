"""`lms-plugin serve` runs the tool on the production server and answers /healthz."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_health(database_url, tmp_path):
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        LMS_PLUGIN_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms_plugin", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read()) from None
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
        assert response.headers["Server"] == "lms_plugin"
    finally:
        proc.terminate()  # SIGTERM: the server stops cleanly
        code = proc.wait(timeout=10)
        proc.stdout.close()
    assert code == 0


def test_the_server_refuses_oversized_requests_with_413():
    from flask import Flask
    from flask import request

    from lms_plugin.server import MAX_BODY_BYTES
    from lms_plugin.server import MAX_HEADER_BYTES
    from lms_plugin.server import Background

    app = Flask("limits")

    @app.post("/size")
    def size():
        return str(len(request.get_data()))

    with Background(app) as server:
        url = f"{server.url}/size"
        fits = requests.post(url, data=b"x" * 5000, timeout=10)
        assert fits.text == "5000" and fits.headers["Server"] == "lms_plugin"
        body = requests.post(url, data=b"x" * (MAX_BODY_BYTES + 1), timeout=10)
        assert body.status_code == 413
        padding = {"X-Padding": "y" * (MAX_HEADER_BYTES + 1)}
        head = requests.post(url, headers=padding, data=b"1", timeout=10)
        assert head.status_code == 413
