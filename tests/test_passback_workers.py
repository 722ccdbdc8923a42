"""`lms-plugin worker` as real processes: killed with SIGKILL, stopped with SIGTERM,
and two at once on one outbox (each score POST is counted at the platform)."""

import os
import signal
import time

import pytest

from lms_plugin.db import database
from lms_plugin.lti.registration import keys
from lms_plugin.models.passback import SENDING
from lms_plugin.models.passback import SENT
from lms_plugin.passback.sender import Sender
from tests.ags_platform import AgsPlatform
from tests.passback_fixtures import CLIENT_ID
from tests.passback_fixtures import FAST
from tests.passback_fixtures import add_member
from tests.passback_fixtures import make_course
from tests.passback_fixtures import rows
from tests.passback_fixtures import score
from tests.passback_fixtures import start_worker
from tests.passback_fixtures import worker_env

pytestmark = pytest.mark.slow


@pytest.fixture
def app(make_app):
    return make_app(**FAST)


@pytest.fixture
def ags(app):
    with app.app_context(), database.connection_context():
        jwks = keys.public_jwks()
    with AgsPlatform(jwks, CLIENT_ID) as platform:
        yield platform


@pytest.fixture
def course(ags):
    return make_course(ags)


def _wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _finish(proc, timeout=120) -> str:
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, output
    return output


def test_a_sender_killed_mid_delivery_leaves_its_row_for_later(
    app, ags, course, database_url, tmp_path
):
    score(course, add_member(course, "ada"))
    ags.fail("score", "hang")  # the platform stalls on the first score POST
    env = worker_env(
        database_url, tmp_path, PASSBACK_LEASE_SECONDS=3, PASSBACK_HTTP_TIMEOUT=30
    )
    proc = start_worker(env, "--once")
    try:
        _wait_for(lambda: ags.hanging == 1, what="the worker's score POST")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.stdout.close()
    (row,) = rows()
    assert row.status == SENDING and row.locked_by  # held by a dead sender
    ags.release.set()  # the stalled request ends; the platform stored nothing
    assert Sender(app).run_once() == 0  # its lease still holds
    _wait_for(lambda: Sender(app).run_once() == 1, timeout=15, what="lease end")
    (row,) = rows()
    assert row.status == SENT
    assert ags.score_requests == 2 and sum(ags.accepted.values()) == 1


def test_sigterm_stops_the_worker_cleanly(app, ags, course, database_url, tmp_path):
    proc = start_worker(worker_env(database_url, tmp_path))
    try:
        score(course, add_member(course, "ada"))
        _wait_for(lambda: rows()[0].status == SENT, what="delivery by the worker")
        proc.send_signal(signal.SIGTERM)
        output = _finish(proc, timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "sent 1" in output
    assert sum(ags.accepted.values()) == 1


def test_two_workers_never_send_the_same_score(
    app, ags, course, database_url, tmp_path
):
    learners = 200
    for n in range(learners):
        score(course, add_member(course, f"learner-{n}"))
    ags.delay = 0.01  # slow enough that both workers are busy at once
    ags.fail("score", 500, 503, (429, "0"))  # and some retries in the mix
    env = worker_env(database_url, tmp_path)
    sent = [0, 0]
    for _ in range(5):  # --once leaves rows in backoff: run rounds until done
        procs = [start_worker(env, "--once", "--batch", "5") for _ in range(2)]
        outputs = [_finish(proc) for proc in procs]
        for n, out in enumerate(outputs):
            sent[n] += int(out.rsplit("sent ", 1)[1].split(",")[0])
        if all(r.status == SENT for r in rows()):
            break
        time.sleep(0.1)
    assert [r.status for r in rows()] == [SENT] * learners
    assert ags.score_requests == learners + 3  # every POST counted: no extra
    assert sum(ags.accepted.values()) == learners
    assert set(ags.accepted.values()) == {1}
    assert sum(sent) == learners and all(sent), sent  # both workers did work
