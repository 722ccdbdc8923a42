"""A replayed launch is refused across worker processes sharing one database.

Two real ``lms-plugin serve`` processes; the browser logs in on one, then the same
id_token and state are posted to both at once: exactly one may accept.
"""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.lti_platform import TestPlatform
from tests.lti_platform import login_params

SECRET = "shared-test-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(database_url: str, instance: str):
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        LMS_PLUGIN_INSTANCE_PATH=instance,
        LMS_PLUGIN_SECRET_KEY=SECRET,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms_plugin", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/healthz", timeout=2)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.stdout.read()) from None
            time.sleep(0.2)


@pytest.fixture
def two_workers(make_app, database_url, tmp_path):
    make_app()  # migrate the shared database before the workers start
    platform = TestPlatform()
    platform.register()
    workers = [_serve(database_url, str(tmp_path / f"instance-{n}")) for n in (1, 2)]
    yield platform, [url for _proc, url in workers]
    for proc, _url in workers:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.slow
def test_replay_across_two_processes_is_accepted_exactly_once(two_workers):
    platform, (first, second) = two_workers
    browser = requests.Session()
    login = browser.get(
        first + "/lti/login",
        params=login_params(platform),
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302
    query = requests.utils.urlparse(login.headers["Location"]).query
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    state = requests.utils.unquote(params["state"])
    nonce = requests.utils.unquote(params["nonce"])
    form = {"state": state, "id_token": platform.sign(platform.claims(nonce))}

    statuses = {}
    ready = threading.Barrier(2)

    def post(url):
        ready.wait()
        answer = browser.post(
            url + "/lti/launch", data=form, allow_redirects=False, timeout=20
        )
        statuses[url] = answer.status_code

    threads = [threading.Thread(target=post, args=(url,)) for url in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [303, 400], statuses
    # And a third try, after both, is refused too.
    again = browser.post(second + "/lti/launch", data=form, allow_redirects=False)
    assert again.status_code == 400
