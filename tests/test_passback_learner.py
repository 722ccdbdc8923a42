"""End to end: a learner's quiz submission reaches the gradebook through the outbox."""

import pytest

from lms_plugin.db import database
from lms_plugin.lti.registration import keys
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENT
from lms_plugin.models.progress import QuizAttempt
from tests.ags_platform import ALL_SCOPES
from tests.ags_platform import AgsPlatform
from tests.factories import make_quiz_module
from tests.learner_helpers import SLUG
from tests.learner_helpers import launch_into
from tests.learner_helpers import read_all
from tests.learner_helpers import start
from tests.learner_helpers import submit
from tests.passback_fixtures import CLIENT_ID
from tests.passback_fixtures import FAST
from tests.passback_fixtures import drain
from tests.passback_fixtures import rows


@pytest.fixture
def app(make_app):
    return make_app(**FAST)


def test_a_submitted_quiz_is_queued_then_delivered(app, client, platform):
    with app.app_context(), database.connection_context():
        jwks = keys.public_jwks()
        make_quiz_module(pages=1, questions=4, slug=SLUG)
    with AgsPlatform(jwks, CLIENT_ID) as ags:
        with database.connection_context():
            LtiRegistration.update(auth_token_url=ags.token_url).execute()
        lineitem = ags.add_lineitem(resourceId=SLUG)
        claim = {
            "scope": ALL_SCOPES,
            "lineitems": ags.container_url(),
            "lineitem": lineitem,
        }
        launch_into(client, platform, ags=claim)
        read_all(client)
        submit(client, start(client), right=True)
        (row,) = [r for r in rows() if r.score_given == 100.0]
        assert row.status == PENDING and ags.score_requests == 0  # not in the request
        drain(app)
        sent = [s for s in ags.scores if s["scoreGiven"] == 100.0]
        assert len(sent) == 1 and sent[0]["userId"] == "learner-1"
        assert sent[0]["activityProgress"] == "Completed"
        with database.connection_context():
            attempt = QuizAttempt.get()
        # The attempt's own stored time, not the moment the score was queued.
        stored = attempt.submitted_at.isoformat(timespec="milliseconds") + "Z"
        assert sent[0]["submission"]["submittedAt"] == stored
        assert all(r.status == SENT for r in rows())
        assert sum(ags.accepted.values()) == len(rows())
