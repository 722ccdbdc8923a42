"""Known-bad launches are refused with a 4xx page and a log line, never a 500.

The cases follow the 1EdTech certification "known bad" payloads and the Security
Framework's id_token validation rules (LTI reference, section 6).
"""

import logging
import time

import pytest

from lms_plugin.db import database
from lms_plugin.lti import claims as c
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import User
from tests.lti_platform import DROP
from tests.lti_platform import TestPlatform
from tests.lti_platform import launch
from tests.lti_platform import make_rsa_key
from tests.lti_platform import post_launch
from tests.lti_platform import raw_jwt
from tests.lti_platform import start_login


def _signed(**overrides):
    return lambda p, nonce: p.sign(p.claims(nonce, **overrides))


def _times(iat, exp, **more):
    """Times relative to when the token is made (not when this module loads)."""

    def make(p, nonce):
        now = int(time.time())
        times = {name: now + delta for name, delta in more.items()}
        return p.sign(p.claims(nonce, iat=now + iat, exp=now + exp, **times))

    return make


BAD_TOKENS = {
    "no-kid": lambda p, nonce: p.sign(p.claims(nonce), headers={}),
    "unknown-kid": lambda p, nonce: p.sign(p.claims(nonce), kid="not-a-platform-key"),
    "bad-signature": lambda p, nonce: p.sign(p.claims(nonce), key=make_rsa_key()),
    "alg-none": lambda p, nonce: p.sign_none(p.claims(nonce)),
    "hs256-with-public-key": lambda p, nonce: p.sign_hs256_with_public_key(
        p.claims(nonce)
    ),
    "two-part-jwt": lambda p, nonce: p.sign(p.claims(nonce)).rsplit(".", 1)[0],
    "not-a-jwt": lambda p, nonce: "not-a-jwt",
    "invalid-lti-message": lambda p, nonce: p.sign({"name": "badltilaunch"}),
    "wrong-lti-version": _signed(version="1.1.0"),
    "no-lti-version": _signed(version=DROP),
    "no-message-type": _signed(message_type=DROP),
    "unknown-message-type": _signed(message_type="LtiMysteryRequest"),
    "no-roles": _signed(roles=DROP),
    "no-deployment-id": _signed(deployment_id=DROP),
    "no-resource-link": _signed(resource_link=DROP),
    "no-resource-link-id": _signed(resource_link={"title": "No id"}),
    "resource-link-not-an-object": _signed(resource_link="link-1"),
    "no-sub": _signed(sub=DROP),
    "empty-sub": _signed(sub=""),
    "timestamps-incorrect": _signed(iat=11111, exp=22222),
    "expired": _times(iat=-300, exp=-120),
    "iat-in-future-beyond-leeway": _times(iat=120, exp=180),
    "nbf-in-future-beyond-leeway": _times(iat=0, exp=60, nbf=3600),
    "no-exp": _signed(exp=DROP),
    "no-iat": _signed(iat=DROP),
    "wrong-iss": _signed(iss="https://elsewhere.example.edu"),
    "wrong-aud": _signed(aud="someone-elses-client"),
    "aud-list-without-our-client": _signed(aud=["a", "b"], azp="a"),
    "aud-list-without-azp": lambda p, nonce: p.sign(
        p.claims(nonce, aud=[p.client_id, "other"])
    ),
    "bad-azp-single-aud": _signed(azp="other-client"),
    "bad-azp-aud-list": lambda p, nonce: p.sign(
        p.claims(nonce, aud=[p.client_id, "other"], azp="other")
    ),
    "no-nonce": lambda p, nonce: p.sign(p.claims(DROP)),
    "nonce-of-another-login": lambda p, nonce: p.sign(p.claims("some-other-nonce")),
}


def _assert_refused(response, status=None):
    assert 400 <= response.status_code < 500, response.status_code
    if status:
        assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "Details for your course administrator" in text
    assert "Traceback" not in text
    return text


def _count(model) -> int:
    with database.connection_context():
        return model.select().count()


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_known_bad_launch_is_refused(client, platform, make_token, caplog):
    state, nonce = start_login(client, platform)
    with caplog.at_level(logging.WARNING, logger="lms_plugin.lti.launch.views"):
        response = post_launch(client, state, make_token(platform, nonce))
    _assert_refused(response)
    assert any("LTI launch rejected" in r.getMessage() for r in caplog.records)
    assert _count(User) == 0
    assert client.get("/learn/").status_code == 401


def test_replayed_id_token_is_refused(client, platform):
    state, nonce = start_login(client, platform)
    id_token = platform.sign(platform.claims(nonce))
    assert post_launch(client, state, id_token).status_code == 303
    text = _assert_refused(post_launch(client, state, id_token), 400)
    assert "was used" in text


def test_replayed_nonce_with_a_fresh_state_is_refused(client, platform):
    state, nonce = start_login(client, platform)
    assert post_launch(client, state, platform.sign(platform.claims(nonce))).status_code
    fresh_state, _fresh_nonce = start_login(client, platform)
    response = post_launch(client, fresh_state, platform.sign(platform.claims(nonce)))
    _assert_refused(response, 400)


def test_state_of_another_login_is_refused(client, platform):
    state_a, nonce_a = start_login(client, platform)
    state_b, _nonce_b = start_login(client, platform)
    response = post_launch(client, state_b, platform.sign(platform.claims(nonce_a)))
    _assert_refused(response, 400)


def test_state_not_issued_by_us_is_refused(client, platform):
    _state, nonce = start_login(client, platform)
    client.set_cookie("lti1p3-state-forged", "state-forged")
    response = post_launch(
        client, "state-forged", platform.sign(platform.claims(nonce))
    )
    assert "not issued by this tool" in _assert_refused(response, 400)


@pytest.mark.parametrize("missing", ["state", "id_token"])
def test_launch_without_state_or_id_token_is_refused(client, platform, missing):
    state, nonce = start_login(client, platform)
    data = {"state": state, "id_token": platform.sign(platform.claims(nonce))}
    del data[missing]
    _assert_refused(client.post("/lti/launch", data=data), 400)


def test_missing_state_cookie_offers_a_new_window(client, platform):
    state, nonce = start_login(client, platform)
    client.delete_cookie(f"lti1p3-{state}")
    response = post_launch(client, state, platform.sign(platform.claims(nonce)))
    text = _assert_refused(response, 403)
    assert "Open the tool in a new window" in text
    assert 'target="_blank"' in text
    assert f'name="iss" value="{platform.issuer}"' in text
    assert 'name="login_hint" value="login-hint-1"' in text
    assert _count(User) == 0


def test_login_for_unknown_registration_is_refused(client, platform):
    response = client.get(
        "/lti/login",
        query_string={"iss": "https://unknown.example.edu", "login_hint": "x"},
    )
    assert "unknown.example.edu" in _assert_refused(response, 400)


@pytest.mark.parametrize("missing", ["iss", "login_hint"])
def test_login_without_iss_or_login_hint_is_refused(client, platform, missing):
    params = {
        "iss": platform.issuer,
        "login_hint": "x",
        "client_id": platform.client_id,
    }
    del params[missing]
    _assert_refused(client.get("/lti/login", query_string=params), 400)


def test_launch_of_a_deactivated_registration_is_refused(client, platform):
    state, nonce = start_login(client, platform)
    with database.connection_context():
        LtiRegistration.update(is_active=False).execute()
    response = post_launch(client, state, platform.sign(platform.claims(nonce)))
    assert "Platform not registered" in _assert_refused(response, 400)


def test_unknown_registration_at_launch_is_refused(client, platform):
    other = TestPlatform(issuer="https://other.example.edu")
    state, _nonce = start_login(client, platform)
    response = post_launch(client, state, other.sign(other.claims("n")))
    assert "other.example.edu" in _assert_refused(response, 400)


def test_malformed_jwt_segments_are_refused(client, platform):
    state, _nonce = start_login(client, platform)
    token = raw_jwt({"alg": "RS256", "kid": platform.kid}, {}) + "@@"
    _assert_refused(post_launch(client, state, "e30." + token), 400)


def test_unknown_deployment_is_recorded_and_accepted_by_default(client, platform):
    response = launch(client, platform, deployment_id="2:new-deployment")
    assert response.status_code == 303
    with database.connection_context():
        row = LtiDeployment.get(LtiDeployment.deployment_id == "2:new-deployment")
        assert row.is_active


def test_unknown_deployment_is_held_when_configured(make_app, platform):
    app = make_app(LTI_UNKNOWN_DEPLOYMENTS="hold")
    client, runner = app.test_client(), app.test_cli_runner()
    response = launch(client, platform, deployment_id="2:new-deployment")
    text = _assert_refused(response, 403)
    assert "waiting for approval" in text and "2:new-deployment" in text
    with database.connection_context():
        row = LtiDeployment.get(LtiDeployment.deployment_id == "2:new-deployment")
    assert not row.is_active
    listing = runner.invoke(args=["platform", "deployments", "--held"]).output
    assert "2:new-deployment" in listing and platform.deployment_id not in listing
    result = runner.invoke(args=["platform", "activate", "2:new-deployment"])
    assert result.exit_code == 0 and "active" in result.output
    assert launch(client, platform, deployment_id="2:new-deployment").status_code == 303
    runner.invoke(args=["platform", "deactivate", "2:new-deployment"])
    response = launch(client, platform, deployment_id="2:new-deployment")
    assert response.status_code == 403
    assert runner.invoke(args=["platform", "activate", "no-such"]).exit_code != 0


def test_known_deployment_is_not_held(make_app, platform):
    client = make_app(LTI_UNKNOWN_DEPLOYMENTS="hold").test_client()
    assert launch(client, platform).status_code == 303


def test_unsupported_message_type_is_refused(client, platform):
    response = launch(
        client,
        platform,
        message_type="LtiSubmissionReviewRequest",
        ags={"lineitem": "https://platform.example.edu/li/1", "scope": []},
        **{"https://purl.imsglobal.org/spec/lti/claim/for_user": {"user_id": "u"}},
    )
    _assert_refused(response, 400)


def test_invalid_unknown_deployments_setting_fails_at_start(make_app):
    with pytest.raises(ValueError, match="LTI_UNKNOWN_DEPLOYMENTS"):
        make_app(LTI_UNKNOWN_DEPLOYMENTS="maybe")


def test_deep_linking_claims_are_checked(client, platform):
    response = launch(
        client,
        platform,
        message_type=c.MESSAGE_DEEP_LINKING,
        **{c.CLAIM_DEEP_LINKING_SETTINGS: {"accept_types": ["file"]}},
    )
    _assert_refused(response, 400)
