"""The instructor view's roster over real HTTP Names and Roles (the paged test
platform of test_nrps.py): people who never launched are listed, the refresh
button re-reads the roster, and a platform without NRPS gets a clear message."""

import pytest

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.models.lti import LtiContext
from tests.factories import make_quiz_module
from tests.instructor_helpers import launch_as
from tests.instructor_helpers import row_of
from tests.instructor_helpers import text
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import TestPlatform
from tests.test_nrps import FIRST
from tests.test_nrps import SECOND
from tests.test_nrps import THIRD
from tests.test_nrps import NrpsPlatform


@pytest.fixture
def nrps(app, client):
    """A registered platform whose token and paged roster endpoints are real HTTP."""
    with database.connection_context():
        make_quiz_module(pages=1, questions=2, slug=SLUG)
    jwks = client.get("/lti/jwks").get_json()
    with NrpsPlatform(jwks, "tool-client-1") as server:
        server.platform = TestPlatform()
        server.platform.auth_token_url = server.url + "/token"
        server.platform.register()
        yield server


def instructor(app, server):
    claim = {"context_memberships_url": server.url + FIRST, "service_versions": ["2.0"]}
    return launch_as(
        app,
        server.platform,
        "platform-user-1",
        INSTRUCTOR,
        name="Ada Instructor",
        **{c.CLAIM_NRPS: claim},
    )


def test_first_visit_reads_every_page_of_the_roster(app, nrps):
    client = instructor(app, nrps)
    html = text(client.get("/instructor/"))
    assert [r["path"] for r in nrps.page_requests] == [FIRST, SECOND, THIRD]
    assert "5 members" in html and "including people who have not opened" in html
    gradebook = html.split('<h3 id="module-')[1]
    assert "Not started" in row_of(gradebook, "Ben Learner")  # never launched
    assert "inactive" in row_of(gradebook, "Dee Inactive")
    assert "Not started" in row_of(gradebook, "User s-5")  # no name sent at all
    assert "Teaching assistant" in row_of(html, "Cy Ta")
    client.get("/instructor/")
    assert len(nrps.page_requests) == 3  # later visits do not fetch again


def test_refresh_button_reads_the_roster_again(app, nrps):
    client = instructor(app, nrps)
    client.get("/instructor/")
    nrps.roster[SECOND] = [m for m in nrps.roster[SECOND] if m["user_id"] != "ta-3"]
    nrps.roster[THIRD].append({"user_id": "s-6", "roles": ["Learner"], "name": "Eve"})

    response = client.post(
        "/instructor/roster/refresh", data={"csrf_token": csrf(client)}
    )

    assert response.status_code == 303
    html = text(client.get(response.location))
    assert "Roster refreshed: 5 members (1 new, 1 no longer listed)" in html
    assert "No longer on the roster" in row_of(html, "Cy Ta")
    assert "Not started" in row_of(html.split('<h3 id="module-')[1], "Eve")


def test_a_failing_platform_is_a_message_not_an_error(app, nrps):
    client = instructor(app, nrps)
    nrps.fail_on = THIRD
    html = text(client.get("/instructor/"))
    assert "did not send its roster" in html
    assert "from launches only" in html  # still the page, with what is known
    response = client.post(
        "/instructor/roster/refresh", data={"csrf_token": csrf(client)}
    )
    assert "did not send its roster" in text(client.get(response.location))
    with database.connection_context():
        assert LtiContext.get().roster_synced_at is None


def test_without_names_and_roles_the_page_says_so(app, platform):
    with database.connection_context():
        make_quiz_module(pages=1, questions=2, slug=SLUG)
    client = launch_as(app, platform, "teacher", INSTRUCTOR)
    html = text(client.get("/instructor/"))
    assert "has not offered its roster" in html
    assert "Refresh roster" not in html
    response = client.post(
        "/instructor/roster/refresh", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    assert "has not offered its roster" in text(client.get(response.location))
