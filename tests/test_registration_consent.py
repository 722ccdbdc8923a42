"""Only an administrator's consent registers a platform; trust never changes silently.

An outsider's probe registered his own "LMS" anonymously, and took over a tenant
of a shared origin by re-registering its (issuer, client_id) with his own keys.
Each attack is a test here, against a fake LMS served over real HTTP on loopback.
"""

import datetime
import re

import pytest

from lms_plugin import security
from lms_plugin.clock import utcnow
from lms_plugin.lti.registration import consent
from lms_plugin.lti.registration.platforms import PlatformSettings
from lms_plugin.lti.registration.platforms import propose_platform
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiRegistrationChange
from lms_plugin.models.lti import RegistrationInvite
from tests.lti_platform import TestPlatform
from tests.lti_platform import launch
from tests.registration_platform import form_action
from tests.registration_platform import form_fields
from tests.registration_platform import invite_path
from tests.registration_platform import open_form
from tests.registration_platform import press_register
from tests.registration_platform import register

EVIL = "https://evil.example"


def test_anonymous_registration_is_refused_before_any_fetch(client, serve_lms):
    lms = serve_lms()
    page = open_form(client, lms, path="/lti/register")
    assert page.status_code == 403
    assert "lms-plugin platform invite" in page.text
    assert lms.seen == []  # the stranger's URL was never fetched

    forged = {"openid_configuration": lms.openid_configuration_url, "form_token": "x"}
    response = client.post(
        "/lti/register", data=forged, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 400
    assert lms.seen == [] and LtiRegistration.select().count() == 0


def test_a_form_shown_for_an_invite_cannot_be_posted_without_it(client, serve_lms):
    lms = serve_lms()
    page = open_form(client, lms)
    assert page.status_code == 200
    response = client.post(
        "/lti/register", data=form_fields(page), headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 400
    assert lms.requests_to("registration") == []


def test_an_invite_registers_once(client, serve_lms):
    lms = serve_lms(deployment_id="3")
    path = invite_path()
    assert register(client, lms, path=path).status_code == 200
    assert LtiRegistration.get().is_active
    seen = len(lms.seen)

    again = open_form(client, lms, path=path)
    assert again.status_code == 403
    assert "already used" in again.text
    assert len(lms.seen) == seen  # refused before fetching anything
    (invite,) = RegistrationInvite.select()
    assert (invite.uses, consent.state_of(invite)) == (1, "used")


def test_two_forms_of_a_single_use_invite_register_once(client, serve_lms):
    lms = serve_lms()
    path = invite_path()
    first, second = open_form(client, lms, path=path), open_form(client, lms, path=path)
    assert press_register(client, first).status_code == 200
    late = press_register(client, second)
    assert late.status_code == 403
    assert LtiRegistration.select().count() == 1


def test_an_invite_for_several_uses(client, serve_lms):
    path = invite_path(uses=2)
    for client_id in ("c-1", "c-2"):
        lms = serve_lms(client_id=client_id)
        assert register(client, lms, path=path).status_code == 200
    assert open_form(client, serve_lms(), path=path).status_code == 403
    assert LtiRegistration.select().count() == 2


@pytest.mark.parametrize("spoil", ["expired", "revoked", "unknown", "overlong"])
def test_unusable_invites_are_refused_alike(client, serve_lms, spoil):
    lms = serve_lms()
    path = invite_path()
    invite = RegistrationInvite.get()
    if spoil == "expired":
        invite.expires_at = utcnow() - datetime.timedelta(seconds=1)
        invite.save()
    elif spoil == "revoked":
        consent.revoke(invite.id)
    elif spoil == "unknown":
        path = path[:-4] + "AAAA"
    else:
        path = path + "A" * 100
    page = open_form(client, lms, path=path)
    assert page.status_code == 403
    assert "unknown, expired, revoked or already used" in page.text
    assert lms.seen == []


def test_an_invite_names_the_lms_that_may_use_it(client, serve_lms):
    lms = serve_lms()
    other = invite_path(issuer="https://moodle.example.edu")
    refused = open_form(client, lms, path=other)
    assert refused.status_code == 403
    assert "issued for another LMS" in refused.text
    assert "moodle.example.edu" not in refused.text  # the holder learns no more
    assert lms.seen == []
    assert register(client, lms, path=invite_path(issuer=lms.issuer)).status_code == 200


def test_the_issuer_an_lms_claims_must_match_its_invite(client, serve_lms):
    lms = serve_lms()
    path = invite_path(issuer=lms.issuer)
    lms.config_changes = {"issuer": lms.issuer + "/other-tenant"}
    page = open_form(client, lms, path=path)
    assert page.status_code == 403
    assert "issued for another LMS than" in page.text


def test_only_the_secret_s_hash_is_stored(client):
    path = invite_path()
    secret = path.rsplit("/", 1)[1]
    (invite,) = RegistrationInvite.select().dicts()
    assert secret not in repr(invite)
    assert invite["secret_hash"] == consent.hash_secret(secret)


def _change_endpoints(lms):
    """The same issuer and client id, with a stranger's keys and login URL."""
    lms.config_changes = {
        "jwks_uri": f"{EVIL}/certs",
        "authorization_endpoint": f"{EVIL}/auth",
    }


def _frame_ancestors(client) -> list[str]:
    security._cache.clear()
    policy = client.get("/healthz").headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy)[1].split()


def test_a_registration_that_changes_a_trusted_one_is_held(client, runner, serve_lms):
    lms = serve_lms(client_id="tenant-a", deployment_id="1")
    assert register(client, lms).status_code == 200
    trusted = LtiRegistration.get()

    _change_endpoints(lms)
    held = register(client, lms, token="reg-token-2")
    assert held.status_code == 200
    assert "waiting for the tool's administrator" in held.text

    row = LtiRegistration.get()
    assert (row.key_set_url, row.auth_login_url) == (
        trusted.key_set_url,
        trusted.auth_login_url,
    )
    assert EVIL not in _frame_ancestors(client)
    (change,) = LtiRegistrationChange.select()

    listing = runner.invoke(args=["platform", "list"])
    assert "Pending registration changes: 1" in listing.output
    assert f"-> {EVIL}/certs" in listing.output
    assert trusted.key_set_url in listing.output

    accepted = runner.invoke(args=["platform", "accept", str(change.id)])
    assert accepted.exit_code == 0, accepted.output
    assert LtiRegistration.get().key_set_url == f"{EVIL}/certs"
    assert EVIL in _frame_ancestors(client)
    assert LtiRegistrationChange.select().count() == 0


def test_a_rejected_change_leaves_the_registration_as_it_was(client, runner, serve_lms):
    lms = serve_lms(client_id="tenant-a")
    assert register(client, lms).status_code == 200
    before = LtiRegistration.get()
    _change_endpoints(lms)
    assert register(client, lms).status_code == 200
    change = LtiRegistrationChange.get()
    result = runner.invoke(args=["platform", "reject", str(change.id)])
    assert result.exit_code == 0, result.output
    assert LtiRegistration.get().key_set_url == before.key_set_url
    assert runner.invoke(args=["platform", "accept", str(change.id)]).exit_code == 1


def test_registering_again_without_changes_is_no_pending_change(client, serve_lms):
    lms = serve_lms(deployment_id="3")
    assert register(client, lms).status_code == 200
    lms.deployment_id = "4"
    done = register(client, lms, token="reg-token-2")
    assert "Registration complete" in done.text
    assert LtiRegistrationChange.select().count() == 0


def test_a_held_change_s_keys_cannot_sign_launches(app, client):
    platform = TestPlatform()
    platform.register()
    attacker = TestPlatform()  # same issuer and client id, its own key
    settings = PlatformSettings(
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_login_url=platform.auth_login_url,
        auth_token_url=platform.auth_token_url,
        key_set_url=f"{EVIL}/certs",
        source="dynamic",
    )
    _, outcome = propose_platform(settings)
    assert outcome == "pending"

    assert launch(client, attacker).status_code == 400
    assert launch(client, platform).status_code == 303


def test_cli_invite_prints_a_url_once_and_lists_and_revokes(runner):
    made = runner.invoke(
        args=[
            "platform",
            "invite",
            "--base-url",
            "https://tool.example.edu",
            "--expires",
            "2d",
            "--uses",
            "3",
            "--issuer",
            "https://moodle.example.edu/",
            "--note",
            "Moodle prod",
        ]
    )
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    assert re.fullmatch(r"https://tool\.example\.edu/lti/register/[\w-]{43}", url)
    invite = RegistrationInvite.get()
    assert invite.issuer == "https://moodle.example.edu"
    assert invite.max_uses == 3
    assert abs(invite.expires_at - utcnow() - datetime.timedelta(days=2)) < (
        datetime.timedelta(minutes=1)
    )

    listed = runner.invoke(args=["platform", "invites"]).output
    assert "usable" in listed and "0/3 used" in listed and "Moodle prod" in listed
    assert url.rsplit("/", 1)[1] not in listed

    assert (
        runner.invoke(args=["platform", "revoke-invite", str(invite.id)]).exit_code == 0
    )
    assert "revoked" in runner.invoke(args=["platform", "invites"]).output
    assert runner.invoke(args=["platform", "revoke-invite", "999"]).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expires", "soon"], "use a number and m, h, d or w"),
        (["--uses", "0"], "0"),
        (["--issuer", "ftp://lms.example"], "https"),
    ],
)
def test_cli_invite_refuses_bad_options_and_stores_nothing(runner, args, message):
    result = runner.invoke(
        args=["platform", "invite", "--base-url", "https://tool.example.edu", *args]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert RegistrationInvite.select().count() == 0


def test_cli_invite_needs_the_tool_s_public_url(runner):
    result = runner.invoke(args=["platform", "invite"])
    assert result.exit_code == 1
    assert "BASE_URL" in result.output
    assert RegistrationInvite.select().count() == 0


def test_an_inactive_registration_gets_no_service_call(app):
    from lms_plugin.lti.registration.tool_config import DbRegistration
    from lms_plugin.lti.services.connector import RegistrationInactive
    from lms_plugin.lti.services.connector import ToolServiceConnector

    row = TestPlatform().register()
    row.is_active = False
    row.save()
    connector = ToolServiceConnector(DbRegistration(row))
    with pytest.raises(RegistrationInactive):
        connector.get_access_token(
            ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]
        )


def test_form_action_keeps_the_invite(client, serve_lms):
    path = invite_path()
    page = open_form(client, serve_lms(), path=path)
    assert form_action(page) == path
