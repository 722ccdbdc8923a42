"""Deep Linking 2.0 end to end with real signed tokens: launch → picker → signed
response verified with the tool's public JWKS → launching the returned link binds
it; and the chooser for links added without deep linking."""

import re
import time

import jwt
import pytest

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.lti.registration import keys
from lms_plugin.models.lti import LtiResourceLink
from tests.lti_platform import DROP
from tests.lti_platform import INSTITUTION_STUDENT
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import TEACHING_ASSISTANT
from tests.lti_platform import landing_of
from tests.lti_platform import launch
from tests.module_factory import make_catalog

ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
CONTENT_DEVELOPER = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
PICKER = re.compile(r"^/lti/deep-linking/(lti1p3-launch-[0-9a-f-]+)$")


@pytest.fixture
def catalog(app):
    return make_catalog()


def settings(platform, **changes) -> dict:
    """deep_linking_settings as Canvas link_selection sends them (several accepted)."""
    value = {
        "deep_link_return_url": platform.issuer + "/deep_linking/return?placement=x",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "data": "opaque-platform-data",
    }
    value.update(changes)
    return {name: v for name, v in value.items() if v is not None}


def dl_launch(
    client, platform, *, roles=(INSTRUCTOR,), sub="platform-user-1", context=None, **dl
):
    """A deep-linking launch; returns the tool's answer."""
    extra = {} if context is None else {"context": context}
    return launch(
        client,
        platform,
        message_type=c.MESSAGE_DEEP_LINKING,
        roles=list(roles),
        sub=sub,
        **extra,
        **{c.CLAIM_DEEP_LINKING_SETTINGS: settings(platform, **dl)},
    )


def open_picker(client, platform, **dl) -> str:
    """Launch and return the picker's path."""
    response = dl_launch(client, platform, **dl)
    assert response.status_code == 303, response.text
    assert PICKER.match(response.location), response.location
    return response.location


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session.setdefault("_csrf", "test-csrf-token")


def choose(client, path, modules, action="add"):
    data = {"csrf_token": csrf(client), "module": modules, "action": action}
    return client.post(path, data=data)


def response_token(page_html: str) -> str:
    match = re.search(r'name="JWT" value="([^"]+)"', page_html)
    assert match, page_html
    return match.group(1)


def verify_response(client, platform, page_html: str) -> dict:
    """Verify the response JWT as a platform would: the tool's JWKS and kid."""
    token = response_token(page_html)
    header = jwt.get_unverified_header(token)
    jwks = jwt.PyJWKSet.from_dict(client.get("/lti/jwks").get_json())
    key = jwks[header["kid"]]
    body = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=platform.issuer,
        issuer=platform.client_id,
        options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
    )
    assert header["alg"] == "RS256"
    with database.connection_context():
        assert header["kid"] == keys.signing_key().kid
    return body


def test_full_flow_picker_response_and_launch_of_the_returned_link(
    client, platform, catalog
):
    path = open_picker(client, platform)
    picker = client.get(path)
    assert picker.status_code == 200
    text = picker.text
    for shown in ("Giving feedback", "Preventing burnout", "Reflective practice"):
        assert shown in text
    assert "Retired module" not in text
    assert "Apply SBI feedback." in text and "About 60 minutes" in text
    assert text.count('type="checkbox"') == 3 and 'name="csrf_token"' in text

    answer = choose(client, path, ["m01-feedback", "m03-reflect"])
    assert answer.status_code == 200
    return_url = platform.issuer + "/deep_linking/return?placement=x"
    assert f'action="{return_url}"' in answer.text
    assert "deep_link_return.js" in answer.text and "<button" in answer.text
    body = verify_response(client, platform, answer.text)

    now = time.time()
    assert body["iat"] <= now + 1 and now < body["exp"] <= now + 3600
    assert len(body["nonce"]) >= 16
    assert body[c.CLAIM_DEPLOYMENT_ID] == platform.deployment_id
    assert body[c.CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert body[c.CLAIM_VERSION] == "1.3.0"
    assert body[c.CLAIM_DL_DATA] == "opaque-platform-data"
    assert (
        body[c.CLAIM_DL_MSG] == "Added 2 modules: Giving feedback; Reflective practice"
    )
    first, second = body[c.CLAIM_DL_CONTENT_ITEMS]
    assert first == {
        "type": "ltiResourceLink",
        "title": "Giving feedback",
        "text": "Feedback that lands & sticks.",
        "url": "http://localhost/lti/launch",
        "custom": {"module_id": "m01-feedback"},
        "lineItem": {
            "scoreMaximum": 10,
            "label": "Feedback quiz",
            "resourceId": "m01-feedback",
            "tag": "lms_plugin-quiz",
        },
    }
    assert second["custom"] == {"module_id": "m03-reflect"}
    assert "lineItem" not in second  # no quiz, no gradebook column

    # The platform creates the link; a learner's first launch binds it.
    learner = client.application.test_client()
    opened = launch(
        learner,
        platform,
        sub="learner-7",
        custom=first["custom"],
        resource_link={"id": "canvas-link-42", "title": first["title"]},
    )
    assert opened.status_code == 303
    assert landing_of(opened) == "/learn/modules/m01-feedback"
    with database.connection_context():
        link = LtiResourceLink.get(LtiResourceLink.id_on_platform == "canvas-link-42")
    assert link.module_slug == "m01-feedback"


def test_picker_works_without_a_context_claim(client, platform, catalog):
    path = open_picker(client, platform, context=DROP)
    assert "Add modules to your course" in client.get(path).text
    body = verify_response(client, platform, choose(client, path, ["m02-burnout"]).text)
    assert body[c.CLAIM_DL_MSG] == "Added 1 module: Preventing burnout"


def test_a_bound_link_keeps_its_module(client, platform, catalog):
    launch(client, platform, custom={"module_id": "m01-feedback"})
    launch(client, platform, custom={"module_id": "m02-burnout"})
    with database.connection_context():
        assert LtiResourceLink.get().module_slug == "m01-feedback"


def test_unknown_module_id_leaves_the_link_unbound(client, platform, catalog):
    for slug in ("m99-missing", "m00-old"):  # never published, retired
        assert launch(client, platform, custom={"module_id": slug}).status_code == 303
    with database.connection_context():
        assert LtiResourceLink.get().module_slug is None


def test_response_without_request_data_has_no_data_claim(client, platform, catalog):
    path = open_picker(client, platform, data=None)
    body = verify_response(client, platform, choose(client, path, ["m02-burnout"]).text)
    assert c.CLAIM_DL_DATA not in body
    assert body[c.CLAIM_DL_CONTENT_ITEMS][0]["lineItem"]["scoreMaximum"] == 100


@pytest.mark.parametrize(
    "roles",
    [[INSTRUCTOR], [TEACHING_ASSISTANT], [ADMIN], [CONTENT_DEVELOPER], [SYSTEM_ADMIN]],
    ids=["instructor", "ta", "admin", "content-developer", "system-admin"],
)
def test_staff_reach_the_picker(client, platform, catalog, roles):
    path = open_picker(client, platform, roles=roles)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "roles",
    [[LEARNER], ["Learner"], [INSTITUTION_STUDENT], [""], []],
    ids=["learner", "short-learner", "institution-student", "no-role", "empty"],
)
def test_learners_are_refused_at_the_picker(client, platform, catalog, roles):
    response = dl_launch(client, platform, roles=roles)
    assert response.status_code == 403
    assert (
        "Only instructors" in response.text and "Nothing was changed" in response.text
    )


def test_accept_multiple_false_offers_one_choice_and_refuses_two(
    client, platform, catalog
):
    path = open_picker(client, platform, accept_multiple=False)
    page = client.get(path).text
    assert page.count('type="radio"') == 3 and 'type="checkbox"' not in page
    refused = choose(client, path, ["m01-feedback", "m02-burnout"])
    assert refused.status_code == 422
    assert "accepts one module" in refused.text and 'name="JWT"' not in refused.text
    body = verify_response(client, platform, choose(client, path, ["m02-burnout"]).text)
    assert len(body[c.CLAIM_DL_CONTENT_ITEMS]) == 1


def test_missing_accept_multiple_is_read_as_one(client, platform, catalog):
    path = open_picker(client, platform, accept_multiple=None)
    assert choose(client, path, ["m01-feedback", "m02-burnout"]).status_code == 422


def test_empty_selection_asks_again_and_cancel_sends_no_items(
    client, platform, catalog
):
    path = open_picker(client, platform)
    again = choose(client, path, [])
    assert again.status_code == 422
    assert "Choose at least one module" in again.text and 'role="alert"' in again.text
    cancelled = choose(client, path, ["m01-feedback"], action="cancel")
    body = verify_response(client, platform, cancelled.text)
    assert body[c.CLAIM_DL_CONTENT_ITEMS] == []
    assert body[c.CLAIM_DL_MSG] == "No modules were added."


def test_a_response_is_sent_once(client, platform, catalog):
    path = open_picker(client, platform)
    assert choose(client, path, ["m01-feedback"]).status_code == 200
    again = choose(client, path, ["m02-burnout"])
    assert again.status_code == 409 and 'name="JWT"' not in again.text


def test_an_unknown_or_retired_module_is_refused(client, platform, catalog):
    path = open_picker(client, platform)
    for slug in ("m00-old", "../etc"):
        refused = choose(client, path, [slug])
        assert refused.status_code == 422 and "no longer available" in refused.text


def test_several_picker_tabs_work_side_by_side(client, platform, catalog):
    first = open_picker(client, platform)
    second = open_picker(client, platform, data="second-tab")
    assert first != second
    assert client.get(first).status_code == 200
    body_one = verify_response(
        client, platform, choose(client, first, ["m01-feedback"]).text
    )
    body_two = verify_response(
        client, platform, choose(client, second, ["m02-burnout"]).text
    )
    assert body_one[c.CLAIM_DL_DATA] == "opaque-platform-data"
    assert body_two[c.CLAIM_DL_DATA] == "second-tab"


def test_another_user_cannot_use_a_picker(client, platform, catalog):
    path = open_picker(client, platform)
    other = client.application.test_client()
    open_picker(other, platform, sub="instructor-2")
    assert other.get(path).status_code == 404
    assert choose(other, path, ["m01-feedback"]).status_code == 404


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"accept_types": ["file", "html"]}, "resource link placement"),
        ({"deep_link_return_url": None}, "did not say where to send"),
        ({"deep_link_return_url": "javascript:alert(1)"}, "did not say where to send"),
    ],
    ids=["no-lti-links", "no-return-url", "script-return-url"],
)
def test_settings_we_cannot_answer_are_refused(
    client, platform, catalog, changes, expected
):
    response = dl_launch(client, platform, **changes)
    assert response.status_code == 400 and expected in response.text


def test_picker_without_published_modules_offers_only_cancel(client, platform):
    path = open_picker(client, platform)
    page = client.get(path).text
    assert "No modules are published yet" in page and 'name="module"' not in page


def test_picker_post_needs_the_csrf_token(client, platform, catalog):
    path = open_picker(client, platform)
    response = client.post(path, data={"module": ["m01-feedback"], "action": "add"})
    assert response.status_code == 400


# --- the chooser for links added without deep linking -------------------------


@pytest.fixture
def people(app, platform, catalog):
    """Test clients signed in as different people, after real launches."""

    def signed_in(**claims):
        client = app.test_client()
        assert launch(client, platform, **claims).status_code == 303
        return client

    owner = signed_in(sub="teacher-1", roles=[INSTRUCTOR])
    with database.connection_context():
        link = LtiResourceLink.get(LtiResourceLink.id_on_platform == "link-1")
    picker_path = open_picker(owner, platform, sub="teacher-1")
    return {
        "link_id": link.id,
        "picker": picker_path,
        "owner": owner,
        "learner": signed_in(sub="student-1", roles=[LEARNER]),
        "ta": signed_in(sub="ta-1", roles=[TEACHING_ASSISTANT]),
        "content-developer": signed_in(sub="cd-1", roles=[CONTENT_DEVELOPER]),
        "other-course": signed_in(
            sub="teacher-2",
            roles=[INSTRUCTOR],
            context={"id": "course-2", "title": "Other"},
            resource_link={"id": "link-9"},
        ),
        "anonymous": app.test_client(),
    }


URLS = {
    "choose-get": ("GET", "/lti/links/{link_id}/choose"),
    "choose-post": ("POST", "/lti/links/{link_id}/choose"),
    "picker-get": ("GET", "{picker}"),
    "picker-post": ("POST", "{picker}"),
}
#: Expected status per person, in URLS order.
EXPECTED = {
    "owner": (200, 303, 200, 200),
    "ta": (200, 303, 404, 404),
    "learner": (403, 403, 404, 404),
    "content-developer": (403, 403, 404, 404),
    "other-course": (404, 404, 404, 404),
    "anonymous": (401, 401, 401, 401),
}


@pytest.mark.parametrize("url", list(URLS))
@pytest.mark.parametrize("person", list(EXPECTED))
def test_authorization_on_every_url(people, url, person):
    method, template = URLS[url]
    path = template.format(link_id=people["link_id"], picker=people["picker"])
    client = people[person]
    if method == "GET":
        response = client.get(path)
    else:
        response = choose(client, path, ["m02-burnout"])
    expected = EXPECTED[person][list(URLS).index(url)]
    assert response.status_code == expected, response.text
    with database.connection_context():
        bound = LtiResourceLink.get_by_id(people["link_id"]).module_slug
    assert bound == ("m02-burnout" if expected == 303 else None)


def test_unknown_link_is_not_found(people):
    assert people["owner"].get("/lti/links/999999/choose").status_code == 404


def test_chooser_binds_and_opens_the_module(people):
    owner = people["owner"]
    path = f"/lti/links/{people['link_id']}/choose"
    page = owner.get(path)
    assert page.status_code == 200
    assert page.text.count('type="radio"') == 3 and "Learning objectives" in page.text
    missing = choose(owner, path, [])
    assert missing.status_code == 422 and "Choose one of the modules" in missing.text
    done = choose(owner, path, ["m01-feedback"])
    assert done.status_code == 303
    assert done.location == "/learn/modules/m01-feedback"
    with database.connection_context():
        assert (
            LtiResourceLink.get_by_id(people["link_id"]).module_slug == "m01-feedback"
        )
    assert re.search(r'value="m01-feedback"[^>]*checked', owner.get(path).text)


def test_chooser_needs_the_csrf_token(people):
    path = f"/lti/links/{people['link_id']}/choose"
    response = people["owner"].post(path, data={"module": "m01-feedback"})
    assert response.status_code == 400


def test_launch_after_choosing_keeps_the_binding(people, platform):
    choose(people["owner"], f"/lti/links/{people['link_id']}/choose", ["m03-reflect"])
    relaunch = launch(
        people["owner"], platform, sub="teacher-1", custom={"module_id": "m01-feedback"}
    )
    assert relaunch.status_code == 303
    with database.connection_context():
        assert LtiResourceLink.get_by_id(people["link_id"]).module_slug == "m03-reflect"
