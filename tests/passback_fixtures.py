"""Factories for passback tests: a course on the test AGS platform, learners, scores."""

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from lms_plugin.db import database
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENDING
from lms_plugin.models.passback import ScorePost
from lms_plugin.passback import enqueue_score
from lms_plugin.passback.sender import Sender
from tests.ags_platform import ALL_SCOPES

CLIENT_ID = "tool-client-1"
MODULE = "m01-foundation"
ROOT = Path(__file__).resolve().parent.parent

#: Sender settings that make retries take milliseconds in tests.
FAST = {
    "PASSBACK_BACKOFF_BASE": 0.01,
    "PASSBACK_BACKOFF_MAX": 0.05,
    "PASSBACK_HTTP_TIMEOUT": 0.5,
    "PASSBACK_POLL_SECONDS": 0.05,
    "PASSBACK_MAX_ATTEMPTS": 10,
}


def make_course(
    ags,
    *,
    scopes=ALL_SCOPES,
    lineitem=True,
    family="",
    issuer="https://lms.example.edu",
    container=True,
):
    """A registration on ``ags`` with a context and a resource link for MODULE."""
    with database.connection_context():
        registration = LtiRegistration.create(
            issuer=issuer,
            client_id=CLIENT_ID,
            auth_login_url=issuer + "/auth",
            auth_token_url=ags.token_url,
            platform_family=family,
        )
        deployment = LtiDeployment.create(registration=registration, deployment_id="1")
        context = LtiContext.create(
            deployment=deployment,
            id_on_platform="course-1",
            lineitems_url=ags.container_url() if container else None,
            ags_scopes=json.dumps(scopes),
        )
        link = LtiResourceLink.create(
            deployment=deployment,
            context=context,
            id_on_platform="link-1",
            title="Module 1",
            module_slug=MODULE,
            lineitem_url=ags.add_lineitem(resourceId=MODULE) if lineitem else None,
        )
    return SimpleNamespace(registration=registration, context=context, link=link)


def add_member(course, sub: str, *, learner=True, instructor=False) -> User:
    with database.connection_context():
        user = User.create(registration=course.registration, sub=sub)
        LtiMembership.create(
            user=user,
            context=course.context,
            is_learner=learner,
            is_instructor=instructor,
        )
    return user


def score(course, user, given=80.0, *, at=None, **extra):
    """Enqueue a score the way the learner pages do: inside a transaction."""
    with database.connection_context(), database.atomic():
        link = LtiResourceLink.get_by_id(course.link.id)
        context = LtiContext.get_by_id(course.context.id)
        values = dict(
            user=user,
            context=context,
            resource_link=link,
            module_slug=MODULE,
            score_given=given,
            score_maximum=100.0,
            activity_progress="Completed",
            grading_progress="FullyGraded",
            timestamp=at or datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        )
        values.update(extra)
        return enqueue_score(**values)


def rows() -> list[ScorePost]:
    with database.connection_context():
        return list(ScorePost.select().order_by(ScorePost.id))


def drain(app, timeout=20.0) -> None:
    """Run senders until no score is pending or being sent (retries included)."""
    sender = Sender(app)
    deadline = time.monotonic() + timeout
    while True:
        sender.drain()
        with database.connection_context():
            open_rows = (
                ScorePost.select()
                .where(ScorePost.status.in_((PENDING, SENDING)))
                .count()
            )
        if not open_rows:
            return
        assert time.monotonic() < deadline, f"{open_rows} scores still open"
        time.sleep(0.02)


def worker_env(database_url: str, tmp_path, **config) -> dict:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        LMS_PLUGIN_INSTANCE_PATH=str(tmp_path / "instance"),
        LMS_PLUGIN_SECRET_KEY="test-secret",
        LMS_PLUGIN_AUTO_PUBLISH="false",
        LMS_PLUGIN_PASSBACK_THREAD="false",
        # The test platform listens on loopback, which a worker (not TESTING)
        # contacts only when told so, like a development setup.
        LMS_PLUGIN_LTI_ALLOW_HTTP_LOCALHOST="true",
    )
    for key, value in {**FAST, **config}.items():
        env[f"LMS_PLUGIN_{key}"] = json.dumps(value)
    return env


def start_worker(env: dict, *args) -> subprocess.Popen:
    """``lms-plugin worker ARGS`` in a real subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "lms_plugin", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
