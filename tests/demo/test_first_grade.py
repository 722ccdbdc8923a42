"""A fresh demo's first score reaches the demo gradebook on the first try.

Over real HTTP, as ``lms-plugin demo`` runs: one process serves the tool and the
demo LMS, and the server's passback thread delivers. The learner opens the tool
from course navigation (no line item in the launch: the tool creates the column
through the demo's AGS), takes the quiz, and the score is sent once: the demo's
token endpoint, verifying the tool's client assertion, fetches the tool's JWKS
from this same server while the delivery waits for its answer.
"""

import re
import time

import pytest
import requests

from lms_plugin.db import database
from lms_plugin.demo.registration import register_over_http
from lms_plugin.demo.seed import COURSE_NAV_LINK_ID
from lms_plugin.models.passback import ScorePost
from lms_plugin.passback.sender import stop_thread
from tests.browser import LiveServer
from tests.demo.support import close_databases
from tests.demo.support import form_action
from tests.demo.support import hidden_fields
from tests.demo.support import make_demo_app
from tests.factories import make_quiz_module
from tests.learner_helpers import answers
from tests.learner_helpers import csrf_of
from tests.learner_helpers import current_attempt
from tests.learner_helpers import key_of

pytestmark = pytest.mark.slow

SLUG = "m01-first-grade"
LEARNER = "demo-learner-jordan"


@pytest.fixture
def fresh_demo(tmp_path):
    """The demo as `lms-plugin demo` starts it: registered over HTTP, one module."""
    app = make_demo_app(
        tmp_path,
        register=False,
        DEMO_BASE_URL=None,
        PASSBACK_THREAD=True,  # the server's own sender delivers the score
        PASSBACK_POLL_SECONDS=0.2,
    )
    with app.app_context(), database.connection_context():
        make_quiz_module(pages=1, questions=2, slug=SLUG)
    with LiveServer(app) as server:
        with app.app_context():
            register_over_http(server.url)
        yield app, server.url
        stop_thread(app)
    close_databases()


def _autopost(session, page: requests.Response) -> requests.Response:
    """Submit a demo auto-post page as the browser's script would."""
    html = page.text
    return session.post(form_action(html), data=hidden_fields(html), timeout=30)


def _pick_learner(session, base: str) -> None:
    home = session.get(f"{base}/demo/", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)[1]
    picked = session.post(
        f"{base}/demo/user", data={"csrf_token": token, "sub": LEARNER}, timeout=30
    )
    assert picked.status_code == 200, picked.text


def _launch_from_course_navigation(session, base: str) -> str:
    start = session.get(f"{base}/demo/links/{COURSE_NAV_LINK_ID}/start", timeout=30)
    auth = _autopost(session, start)  # OIDC login -> the demo's auth endpoint
    landed = _autopost(session, auth)  # the id_token -> /lti/launch -> landing
    assert landed.status_code == 200, landed.text
    return landed.text


def _take_the_quiz(session, base: str) -> None:
    module = f"{base}/learn/modules/{SLUG}"
    quiz = session.get(f"{module}/quiz", timeout=30).text
    started = session.post(
        f"{module}/quiz/start",
        data={"csrf_token": csrf_of(quiz), "key": key_of(quiz)},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    attempt = current_attempt()
    submitted = session.post(
        f"{base}/learn/attempts/{attempt.id}",
        data={
            **answers(attempt, right=True),
            "action": "submit",
            "csrf_token": csrf_of(started.text),
        },
        timeout=30,
    )
    assert submitted.status_code == 200, submitted.text


def _settled(app, timeout: float = 30) -> ScorePost:
    """The score row once it is no longer waiting to be sent for the first time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context(), database.connection_context():
            row = ScorePost.select().order_by(ScorePost.id.desc()).first()
        if row is not None and (
            row.status not in ("pending", "sending") or row.attempts
        ):
            return row
        time.sleep(0.2)
    raise AssertionError("the score was never tried")


def test_the_first_score_of_a_fresh_demo_is_delivered_on_the_first_try(fresh_demo):
    app, base = fresh_demo
    session = requests.Session()
    _pick_learner(session, base)
    catalog = _launch_from_course_navigation(session, base)
    assert SLUG in catalog
    with app.app_context():
        _take_the_quiz(session, base)

    score = _settled(app)
    # One attempt, and it was accepted: no "Pending (tried 1 time)" first.
    assert (score.status, score.attempts) == ("sent", 1), score.last_error
    gradebook = session.get(f"{base}/demo/", timeout=30).text
    assert f"{score.score_given:g} / {score.score_maximum:g}" in gradebook
