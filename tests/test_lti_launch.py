"""Valid LTI launches are accepted in every shape, recorded, and signed in."""

import json

import pytest

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User
from tests.lti_platform import DROP
from tests.lti_platform import INSTITUTION_STUDENT
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import TEACHING_ASSISTANT
from tests.lti_platform import landing_of
from tests.lti_platform import launch
from tests.lti_platform import post_launch
from tests.lti_platform import start_login


def _only(model):
    with database.connection_context():
        rows = list(model.select())
    assert len(rows) == 1, rows
    return rows[0]


def test_resource_link_launch_signs_in_and_lands(client, platform):
    response = launch(client, platform)
    assert response.status_code == 303
    assert landing_of(response) == "/learn/unbound"  # the link has no module yet
    assert client.get("/learn/unbound").status_code == 200
    catalog = client.get("/learn/")  # signed in, in the launch's course
    assert catalog.status_code == 200 and "Nursing 101" in catalog.get_data(True)


def test_launch_records_user_context_membership_and_link(client, platform):
    custom = {"module": "mentorship-1"}
    launch(client, platform, custom=custom)
    user = _only(User)
    assert (user.sub, user.email, user.given_name) == (
        "platform-user-1",
        "ada@example.edu",
        "Ada",
    )
    context = _only(LtiContext)
    assert (context.id_on_platform, context.label) == ("course-1", "NUR101")
    membership = _only(LtiMembership)
    assert membership.is_learner and not membership.is_instructor
    assert json.loads(membership.roles) == [LEARNER]
    link = _only(LtiResourceLink)
    assert link.id_on_platform == "link-1" and json.loads(link.custom) == custom
    with client.session_transaction() as session:
        assert session["lti_context_id"] == context.id
        assert session["lti_resource_link_id"] == link.id
        assert session["lti_launch_id"].startswith("lti1p3-launch-")
        assert session["_user_id"] == str(user.id)


def test_login_by_post_works_too(client, platform):
    response = launch(client, platform, method="POST")
    assert response.status_code == 303


def test_login_without_client_id_uses_the_issuers_only_registration(client, platform):
    state, nonce = start_login(client, platform, client_id="")
    response = post_launch(client, state, platform.sign(platform.claims(nonce)))
    assert response.status_code == 303


@pytest.mark.parametrize("role", [LEARNER, INSTRUCTOR], ids=["learner", "instructor"])
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"roles": [INSTRUCTOR, LEARNER, INSTITUTION_STUDENT]},
        {"roles": ["Learner"]},
        {"roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mystery"]},
        {"roles": [""]},
        {"roles": []},
        {"email": DROP},
        {"name": DROP, "given_name": DROP, "family_name": DROP},
        {"name": DROP, "given_name": DROP, "family_name": DROP, "email": DROP},
        {"context": DROP},
        {"context": DROP, "name": DROP, "given_name": DROP, "family_name": DROP},
    ],
    ids=[
        "plain",
        "multiple-roles",
        "short-role",
        "unknown-role",
        "no-role",
        "empty-roles",
        "only-names",
        "only-email",
        "no-pii",
        "no-context",
        "email-without-context",
    ],
)
def test_every_valid_shape_is_accepted(client, platform, role, shape):
    overrides = {"roles": [role], **shape}
    response = launch(client, platform, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert client.get(landing_of(response)).status_code == 200


def test_short_instructor_role_maps_to_instructor(client, platform):
    launch(client, platform, roles=["Instructor"])
    assert _only(LtiMembership).is_instructor


def test_teaching_assistant_is_recorded(client, platform):
    launch(client, platform, roles=[INSTRUCTOR, TEACHING_ASSISTANT])
    membership = _only(LtiMembership)
    assert membership.is_teaching_assistant and membership.is_instructor


def test_launch_within_leeway_is_accepted(client, platform):
    state, nonce = start_login(client, platform)
    body = platform.claims(nonce)
    body["iat"] += 30
    body["exp"] += 30
    assert post_launch(client, state, platform.sign(body)).status_code == 303


def test_clock_leeway_is_configurable(make_app, platform):
    client = make_app(LTI_CLOCK_LEEWAY=0).test_client()
    state, nonce = start_login(client, platform)
    body = platform.claims(nonce)
    body["iat"] += 30
    body["exp"] += 30
    assert post_launch(client, state, platform.sign(body)).status_code == 400


def test_aud_list_with_matching_azp_is_accepted(client, platform):
    state, nonce = start_login(client, platform)
    body = platform.claims(
        nonce, aud=["someone-else", platform.client_id], azp=platform.client_id
    )
    assert post_launch(client, state, platform.sign(body)).status_code == 303


def test_deep_linking_launch_opens_the_picker(client, platform):
    response = launch(
        client, platform, message_type=c.MESSAGE_DEEP_LINKING, roles=[INSTRUCTOR]
    )
    assert response.status_code == 303
    assert response.location.startswith("/lti/deep-linking/lti1p3-launch-")
    with database.connection_context():
        assert LtiResourceLink.select().count() == 0
        assert User.select().count() == 1


def test_a_new_launch_replaces_the_session_context(client, platform):
    launch(client, platform)
    launch(client, platform, context={"id": "course-2", "title": "Other"})
    with database.connection_context():
        second = LtiContext.get(LtiContext.id_on_platform == "course-2")
    with client.session_transaction() as session:
        assert session["lti_context_id"] == second.id


def test_saved_launch_can_be_loaded_by_later_requests(app, client, platform):
    from lms_plugin.lti.launch.adapter import load_launch
    from lms_plugin.lti.services.connector import ToolServiceConnector

    launch(client, platform, ags={"scope": [], "lineitems": "https://p/li"})
    with client.session_transaction() as session:
        launch_id = session["lti_launch_id"]
    with app.test_request_context(), database.connection_context():
        restored = load_launch(launch_id)
        assert restored.get_launch_data()["sub"] == "platform-user-1"
        assert restored.has_ags()
        assert isinstance(restored.get_service_connector(), ToolServiceConnector)


def test_get_on_the_launch_url_explains(client):
    response = client.get("/lti/launch")
    assert response.status_code == 405
    assert "Open the tool from your course" in response.get_data(as_text=True)


def test_landing_without_a_launch_asks_to_open_from_the_course(client):
    response = client.get("/learn/")
    assert response.status_code == 401
    assert "Open the tool again from your course" in response.get_data(as_text=True)
