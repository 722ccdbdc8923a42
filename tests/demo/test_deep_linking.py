"""The deep-linking return: the tool's signed response adds links and columns."""

import time
import uuid

import pytest

from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import demo_database
from tests.demo.support import DL
from tests.demo.support import ISSUER
from tests.demo.support import LTI
from tests.demo.support import TestKey
from tests.demo.support import current_registration
from tests.demo.support import pick
from tests.demo.test_oidc import INSTRUCTOR
from tests.demo.test_oidc import launch

ITEMS = [
    {
        "type": "ltiResourceLink",
        "title": "Module 1: Giving feedback",
        "text": "Practise structured feedback.",
        "url": "http://localhost/lti/launch",
        "custom": {"module": "m01-feedback"},
        "lineItem": {"scoreMaximum": 10, "label": "Module 1 quiz", "resourceId": "m01"},
    },
    {
        "type": "ltiResourceLink",
        "title": "Module 2: Boundaries",
        "custom": {"module": "m02-boundaries"},
    },
    {"type": "html", "html": "<p>not accepted here</p>"},
]


@pytest.fixture
def settings(demo_client, tool_jwks):
    """The deep_linking_settings of a real deep-linking launch by the instructor."""
    pick(demo_client, INSTRUCTOR)
    return launch(demo_client, "/demo/deep-link/start")[DL + "deep_linking_settings"]


def response_jwt(client, key, settings, items=ITEMS, **overrides) -> str:
    registration = current_registration(client)
    now = int(time.time())
    claims = {
        "iss": registration.client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 300,
        "nonce": uuid.uuid4().hex,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": registration.deployment_id,
        DL + "data": settings["data"],
        DL + "content_items": items,
        DL + "msg": "2 modules chosen",
    }
    claims.update(overrides)
    return key.sign({k: v for k, v in claims.items() if v is not None})


def post_return(client, token):
    return client.post("/demo/deep-link-return", data={"JWT": token})


def module_links():
    with demo_database.connection_context():
        return list(
            ResourceLink.select()
            .where(ResourceLink.placement == "module")
            .order_by(ResourceLink.id)
        )


def test_response_adds_links_and_line_items(demo_client, tool_key, settings):
    assert settings["deep_link_return_url"] == f"{ISSUER}/deep-link-return"
    response = post_return(demo_client, response_jwt(demo_client, tool_key, settings))
    assert response.status_code == 200, response.data
    page = response.get_data(as_text=True)
    assert "Added 2 modules" in page and "2 modules chosen" in page
    assert "1 item(s)" in page  # the html item was skipped
    assert 'target="_top"' in page
    _, first, second = module_links()
    assert first.title == "Module 1: Giving feedback"
    assert first.custom_dict == {"module": "m01-feedback"}
    assert first.url == "http://localhost/lti/launch"
    with demo_database.connection_context():
        item = LineItem.get(LineItem.resource_link == first)
        assert (item.label, item.score_maximum, item.resource_id) == (
            "Module 1 quiz",
            10,
            "m01",
        )
        assert second.line_item is None
    # The new link launches with its custom parameters and its line item.
    claims = launch(demo_client, f"/demo/links/{first.link_id}/start")
    assert claims[LTI + "custom"] == {"module": "m01-feedback"}
    assert (
        claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"]
        == f"{ISSUER}/api/lineitems/{item.id}"
    )
    home = demo_client.get("/demo/").get_data(as_text=True)
    assert "Module 2: Boundaries" in home and "out of 10 points" in home


def test_a_response_is_accepted_once(demo_client, tool_key, settings):
    token = response_jwt(demo_client, tool_key, settings)
    assert post_return(demo_client, token).status_code == 200
    replay = post_return(demo_client, token)
    assert replay.status_code == 400
    assert len(module_links()) == 3


def test_a_nonce_is_single_use(demo_client, tool_key, settings):
    token = response_jwt(demo_client, tool_key, settings, nonce="same")
    assert post_return(demo_client, token).status_code == 200
    fresh = launch(demo_client, "/demo/deep-link/start")[DL + "deep_linking_settings"]
    again = post_return(
        demo_client, response_jwt(demo_client, tool_key, fresh, nonce="same")
    )
    assert again.status_code == 400
    assert b"nonce was already used" in again.data


@pytest.mark.parametrize(
    "overrides, text",
    [
        ({"aud": "http://localhost/other"}, "Audience"),
        ({"iss": "another-client"}, "issuer"),
        ({"exp": 1_000_000, "iat": 999_000}, "expired"),
        ({"nonce": None}, "nonce"),
        ({LTI + "deployment_id": "9:other"}, "deployment_id"),
        ({LTI + "message_type": "LtiResourceLinkRequest"}, "message_type"),
        ({LTI + "version": "1.1"}, "version"),
        ({DL + "data": "forged"}, "does not match any deep-linking launch"),
        ({DL + "data": None}, "does not match any deep-linking launch"),
    ],
)
def test_bad_responses_add_nothing(demo_client, tool_key, settings, overrides, text):
    token = response_jwt(demo_client, tool_key, settings, **overrides)
    response = post_return(demo_client, token)
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
    assert len(module_links()) == 1


def test_a_bad_item_refuses_the_whole_response(demo_client, tool_key, settings):
    items = [ITEMS[1], {**ITEMS[0], "url": "https://evil.example/launch"}]
    response = post_return(
        demo_client, response_jwt(demo_client, tool_key, settings, items=items)
    )
    assert response.status_code == 400
    assert b"not on the tool" in response.data
    assert len(module_links()) == 1
    bad_max = [{**ITEMS[0], "lineItem": {"scoreMaximum": 0}}]
    response = post_return(
        demo_client, response_jwt(demo_client, tool_key, settings, items=bad_max)
    )
    assert response.status_code == 400
    assert len(module_links()) == 1


def test_a_response_signed_by_another_key_is_refused(demo_client, settings):
    impostor = TestKey("tool-key-1")
    response = post_return(demo_client, response_jwt(demo_client, impostor, settings))
    assert response.status_code == 400
    assert b"Signature verification failed" in response.data


def test_a_response_for_another_users_launch_is_refused(
    demo_client, tool_key, settings
):
    pick(demo_client, "demo-learner-jordan")
    response = post_return(demo_client, response_jwt(demo_client, tool_key, settings))
    assert response.status_code == 403
    assert len(module_links()) == 1


def test_an_empty_response_adds_nothing_and_says_so(demo_client, tool_key, settings):
    response = post_return(
        demo_client, response_jwt(demo_client, tool_key, settings, items=[])
    )
    assert response.status_code == 200
    assert b"No modules added" in response.data
