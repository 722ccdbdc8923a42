"""The tool's own service client (lms_plugin.lti.services.connector) against the
demo LMS over real HTTP: its client assertion, verified with the tool's JWKS fetched
from /lti/jwks, gets a token; NRPS pages are followed; a score lands in the
gradebook."""

import datetime
import json

import pytest
import requests

from lms_plugin.db import database
from lms_plugin.demo.registration import register_over_http
from lms_plugin.lti.registration.tool_config import DbRegistration
from lms_plugin.lti.services.connector import ToolServiceConnector
from lms_plugin.models.lti import LtiRegistration
from tests.browser import LiveServer
from tests.demo.support import LINEITEM
from tests.demo.support import NRPS
from tests.demo.support import SCORE
from tests.demo.support import close_databases
from tests.demo.support import make_demo_app

pytestmark = pytest.mark.slow

MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@pytest.fixture
def live_demo(tmp_path):
    app = make_demo_app(tmp_path, register=False, DEMO_BASE_URL=None)
    with LiveServer(app) as server:
        with app.app_context():
            register_over_http(server.url)
        assert requests.get(f"{server.url}/demo/", timeout=10).status_code == 200
        with app.test_request_context(), database.connection_context():
            row = LtiRegistration.get(LtiRegistration.issuer == f"{server.url}/demo")
            yield server, ToolServiceConnector(DbRegistration(row))
    close_databases()


def test_tool_reads_the_roster_page_by_page(live_demo):
    server, connector = live_demo
    url = f"{server.url}/demo/api/memberships"
    members = []
    while url:
        answer = connector.make_service_request([NRPS], url, accept=MEMBERSHIPS)
        members += answer["body"]["members"]
        url = answer["next_page_url"]
    assert [m["name"] for m in members] == [
        "Avery Okafor",
        "Jordan Lindqvist",
        "Morgan Abara",
    ]


def test_tool_creates_a_column_and_posts_a_score(live_demo):
    server, connector = live_demo
    item = connector.make_service_request(
        [LINEITEM],
        f"{server.url}/demo/api/lineitems",
        is_post=True,
        data=json.dumps({"label": "Module 1 quiz", "scoreMaximum": 10}),
        content_type="application/vnd.ims.lis.v2.lineitem+json",
        accept="application/vnd.ims.lis.v2.lineitem+json",
    )["body"]
    score = {
        "userId": "demo-learner-jordan",
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
    }
    connector.make_service_request(
        [SCORE],
        f"{item['id']}/scores",
        is_post=True,
        data=json.dumps(score),
        content_type="application/vnd.ims.lis.v1.score+json",
    )
    page = requests.get(f"{server.url}/demo/", timeout=10).text
    assert "Module 1 quiz" in page and "7 / 10" in page
