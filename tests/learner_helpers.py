"""Helpers for learner tests: launch into a module, read pages, take the quiz."""

import re

from lms_plugin.db import database
from lms_plugin.models.progress import QuizAttempt
from tests.factories import correct_form
from tests.factories import wrong_form
from tests.lti_platform import LEARNER
from tests.lti_platform import launch

SLUG = "m01-test"


def launch_into(client, platform, *, sub="learner-1", roles=(LEARNER,),
                course="course-1", link="link-1", custom=None, **claims):  # fmt: skip
    """Launch ``sub`` on ``link`` in ``course`` (custom module_id: the module)."""
    custom = {"module_id": SLUG} if custom is None else custom
    return launch(
        client,
        platform,
        sub=sub,
        roles=list(roles),
        context={"id": course, "title": f"Course {course}", "label": course},
        resource_link={"id": link, "title": "Module link"},
        custom=custom,
        **claims,
    )


def key_of(html: str) -> str:
    """The idempotency key of a quiz page's start form."""
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def start(client, slug=SLUG):
    """Open the quiz page and start an attempt; return the attempt row."""
    page = client.get(f"/learn/modules/{slug}/quiz").get_data(as_text=True)
    response = client.post(
        f"/learn/modules/{slug}/quiz/start",
        data={"csrf_token": csrf_of(page), "key": key_of(page)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return current_attempt()


def current_attempt() -> QuizAttempt:
    with database.connection_context():
        return QuizAttempt.select().order_by(QuizAttempt.id.desc()).first()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def csrf(client) -> str:
    """The CSRF token of the client's session (created if it has none yet)."""
    with client.session_transaction() as session:
        return session.setdefault("_csrf", "test-csrf-token-of-this-session")


def answers(attempt, right: bool) -> dict:
    with database.connection_context():
        questions = attempt.drawn_questions()
    return (correct_form if right else wrong_form)(questions)


def submit(client, attempt, right: bool, token=None, **extra):
    """Submit ``attempt`` answered all right or all wrong."""
    data = {**answers(attempt, right), "action": "submit", **extra}
    data["csrf_token"] = token or csrf(client)
    return client.post(f"/learn/attempts/{attempt.id}", data=data)


def read_all(client, slug=SLUG) -> list[str]:
    """Open and mark complete every section; return the redirect targets."""
    overview = client.get(f"/learn/modules/{slug}").get_data(as_text=True)
    slugs = re.findall(rf'href="/learn/modules/{slug}/pages/([^"]+)"', overview)
    targets = []
    for page_slug in dict.fromkeys(slugs):
        html = client.get(f"/learn/modules/{slug}/pages/{page_slug}")
        token = csrf_of(html.get_data(as_text=True))
        done = client.post(
            f"/learn/modules/{slug}/pages/{page_slug}/complete",
            data={"csrf_token": token},
        )
        assert done.status_code == 303
        targets.append(done.location)
    return targets
