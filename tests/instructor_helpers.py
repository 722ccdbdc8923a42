"""Helpers for instructor-view tests: signed launches by role, quiz takers, and a
factory writing submitted attempts with known item scores."""

import re
import uuid

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import User
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import QuizAttempt
from tests.learner_helpers import launch_into
from tests.learner_helpers import start
from tests.learner_helpers import submit

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
LINEITEMS = "https://platform.example.edu/api/lti/courses/1/line_items"
AGS = {
    "scope": [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ],
    "lineitems": LINEITEMS,
    "lineitem": LINEITEMS + "/1",
}


def launch_as(app, platform, sub, role, *, course="course-1", **claims):
    """A new client signed in as ``sub`` with ``role`` in ``course`` (with AGS)."""
    client = app.test_client()
    claims.setdefault("name", f"Person {sub}")
    claims.setdefault("ags", AGS)
    response = launch_into(
        client, platform, sub=sub, roles=(role,), course=course, **claims
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def take_quiz(client, right: bool):
    """Start and submit an attempt through the learner pages."""
    attempt = start(client)
    assert submit(client, attempt, right).status_code == 303
    return attempt


def context_of(course: str) -> LtiContext:
    with database.connection_context():
        return LtiContext.get(LtiContext.id_on_platform == course)


def user_of(sub: str) -> User:
    with database.connection_context():
        return User.get(User.sub == sub)


def write_attempt(user, context, module, items, *, status="submitted"):
    """A submitted attempt whose items are ``[(version, item_id, earned, response)]``
    (one point possible each): the rows the learner flow writes, set by hand."""
    with database.connection_context(), database.atomic():
        version = ModuleVersion.get(ModuleVersion.module == module)
        earned = sum(item[2] for item in items)
        number = QuizAttempt.select().where(QuizAttempt.user == user).count() + 1
        attempt = QuizAttempt.create(
            user=user,
            context=context,
            scope=context.id,
            module=module,
            module_version=version,
            number=number,
            idempotency_key=uuid.uuid4().hex,
            question_versions=[item[0] for item in items],
            layout={},
            status=status,
            earned=earned,
            possible=float(len(items)),
            percent=100.0 * earned / len(items),
            passed=earned == len(items),
            submitted_at=utcnow(),
        )
        for position, (qv, item_id, score, response) in enumerate(items, 1):
            AttemptItem.create(
                attempt=attempt,
                question_version=qv,
                item_id=item_id,
                position=position,
                earned=float(score),
                possible=1.0,
                response=response,
            )
    return attempt


def versions_of(module) -> list[QuestionVersion]:
    """The module's question versions in bank order, with their data."""
    with database.connection_context():
        from lms_plugin.models.content import Question

        return list(
            QuestionVersion.select(QuestionVersion, Question)
            .join(Question)
            .where(Question.module == module)
            .order_by(Question.position)
        )


def row_of(html: str, name: str) -> str:
    """The table row (``<tr>…</tr>``) whose header cell holds ``name``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        if re.search(rf"<th scope=\"row\">[^<]*{re.escape(name)}", row):
            return row
    raise AssertionError(f"no row for {name!r}")


def text(response) -> str:
    return response.get_data(as_text=True)
