"""``lms-plugin platform …`` and ``lms-plugin keys …``: platforms, invites, tool keys.

``platform`` registers LMSs, invites them and accepts what they change;
``keys`` lists and rotates the tool's signing keys (published at ``/lti/jwks``).

Thin wrappers over ``platforms.py``, ``consent.py`` and ``keys.py``: ``add`` by hand;
``invite``/``invites``/``revoke-invite`` for Dynamic Registration consent;
``accept``/``reject`` for registration changes held as pending; deployments.
Every bad input is a one-line error and a non-zero exit, with the database
unchanged.
"""

import datetime
import re

import click
from flask import current_app
from flask.cli import AppGroup

from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.lti.registration import consent
from lms_plugin.lti.registration import keys
from lms_plugin.lti.registration.platform_configuration import policy_for
from lms_plugin.lti.registration.platforms import FAMILIES
from lms_plugin.lti.registration.platforms import PlatformError
from lms_plugin.lti.registration.platforms import PlatformSettings
from lms_plugin.lti.registration.platforms import accept_change
from lms_plugin.lti.registration.platforms import change_settings
from lms_plugin.lti.registration.platforms import check_url
from lms_plugin.lti.registration.platforms import differences
from lms_plugin.lti.registration.platforms import list_platforms
from lms_plugin.lti.registration.platforms import pending_changes
from lms_plugin.lti.registration.platforms import reject_change
from lms_plugin.lti.registration.platforms import save_platform
from lms_plugin.lti.registration.platforms import set_deployment_active
from lms_plugin.lti.registration.platforms import validate_settings
from lms_plugin.lti.registration.tool_registration import tool_urls

platform_cli = AppGroup("platform", help="Register LMS platforms with the tool.")


def _allow_http_localhost() -> bool:
    return policy_for(current_app).allow_http_localhost


def _fail(error: LmsError):
    raise click.ClickException(error.message)


def _or_fail(call, *args, **kwargs):
    """``call(*args, **kwargs)``; a refusal (a platform or consent error) exits 1."""
    try:
        return call(*args, **kwargs)
    except (PlatformError, consent.ConsentError) as error:
        _fail(error)


def _base_url(base_url: str | None) -> str | None:
    """The tool's public URL from --base-url or BASE_URL, checked; None if unset."""
    base = base_url or current_app.config["BASE_URL"]
    if not base:
        return None
    return _or_fail(check_url, base, "--base-url", allow_http_localhost=True).rstrip(
        "/"
    )


@platform_cli.command("add")
@click.option(
    "--issuer",
    required=True,
    help="The platform's iss, e.g. https://canvas.instructure.com.",
)
@click.option("--client-id", required=True, help="Client id the LMS gave this tool.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    help="Accepted deployment id (repeatable).",
)
@click.option(
    "--auth-login-url", required=True, help="The LMS's OIDC authorization URL."
)
@click.option("--auth-token-url", required=True, help="The LMS's OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="The LMS's public JWKS URL.")
@click.option("--name", default="", help="A label for people (default: issuer host).")
@click.option(
    "--family",
    type=click.Choice(FAMILIES),
    default=None,
    help="LMS family (default: canvas for instructure.com issuers, else other).",
)
def add_command(issuer, client_id, deployment_ids, name, family, **urls) -> None:
    """Add or update a registration (keyed by issuer + client id)."""
    settings = PlatformSettings(
        issuer=issuer,
        client_id=client_id,
        deployment_ids=list(deployment_ids),
        name=name,
        platform_family=family or "",
        **urls,
    )
    settings = _or_fail(
        validate_settings, settings, allow_http_localhost=_allow_http_localhost()
    )
    registration, created = save_platform(settings)
    verb = "added" if created else "updated"
    click.echo(
        f"{verb} registration #{registration.id} {registration.name!r} "
        f"({registration.issuer}, client_id {registration.client_id})"
    )
    for deployment_id in settings.deployment_ids:
        click.echo(f"  deployment {deployment_id}: active")


@platform_cli.command("list")
@click.option(
    "--base-url", default=None, help="The tool's public URL (default: BASE_URL)."
)
def list_command(base_url) -> None:
    """List registrations and deployments, then the tool's URLs for the LMS."""
    platforms = list_platforms()
    click.echo(f"Registrations: {len(platforms)}")
    for registration, deployments in platforms:
        _echo_registration(registration, deployments)
    _echo_pending()
    usable = [i for i in consent.list_invites() if consent.state_of(i) == "usable"]
    click.echo(
        f"\nRegistration invites usable: {len(usable)} "
        "(`platform invite` makes one; `platform invites` lists them)"
    )
    base = _base_url(base_url)
    click.echo("")
    if not base:
        click.echo("Tool URLs: set BASE_URL or pass --base-url to print them.")
        return
    click.echo(f"Tool URLs to paste into the LMS ({base}):")
    for label, url in tool_urls(base).items():
        if label == "Dynamic Registration URL":
            url = f"{url}/<secret> (from `lms-plugin platform invite`)"
        click.echo(f"  {label:31} {url}")


def _echo_pending() -> None:
    changes = pending_changes()
    if not changes:
        return
    click.echo(f"\nPending registration changes: {len(changes)}")
    for change in changes:
        registration = change.registration
        click.echo(
            f"\nchange #{change.id} to #{registration.id} {registration.name} "
            f"({registration.issuer}, client_id {registration.client_id}), "
            f"received {change.created_at:%Y-%m-%d %H:%M} UTC"
        )
        proposed = change_settings(change)
        for name, (current, new) in differences(registration, proposed).items():
            click.echo(f"  {name:16} {current or '(none)'}")
            click.echo(f"  {'':16} -> {new or '(none)'}")
        click.echo(
            f"  accept: lms-plugin platform accept {change.id}; "
            f"reject: lms-plugin platform reject {change.id}"
        )


def _echo_registration(registration, deployments) -> None:
    state = "active" if registration.is_active else "inactive"
    click.echo(
        f"\n#{registration.id} {registration.name} "
        f"[{registration.platform_family or 'other'}, {registration.source}, {state}]"
    )
    for label, value in (
        ("issuer", registration.issuer),
        ("client_id", registration.client_id),
        ("login", registration.auth_login_url),
        ("token", registration.auth_token_url),
        ("jwks", registration.key_set_url or "(inline key set)"),
    ):
        click.echo(f"  {label:12} {value}")
    if not deployments:
        click.echo("  deployments  none yet (arrive with the first launch)")
    for deployment in deployments:
        state = "active" if deployment.is_active else "HELD (run platform activate)"
        click.echo(f"  deployment   {deployment.deployment_id}: {state}")


@platform_cli.command("deployments")
@click.option("--held", is_flag=True, help="Only deployments waiting to be accepted.")
def deployments_command(held) -> None:
    """List deployments with their registration and state."""
    rows = [
        (registration, deployment)
        for registration, deployments in list_platforms()
        for deployment in deployments
        if not (held and deployment.is_active)
    ]
    if not rows:
        click.echo("No held deployments." if held else "No deployments.")
    for registration, deployment in rows:
        state = "active" if deployment.is_active else "held"
        click.echo(
            f"{deployment.deployment_id}\t{state}\t{registration.issuer}\t"
            f"client_id {registration.client_id}"
        )


def _deployment_options(command):
    command = click.option(
        "--client-id", default=None, help="Narrow to this client id."
    )(command)
    command = click.option("--issuer", default=None, help="Narrow to this issuer.")(
        command
    )
    return click.argument("deployment_id")(command)


@platform_cli.command("activate")
@_deployment_options
def activate_command(deployment_id, issuer, client_id) -> None:
    """Accept a held deployment so its launches are let in."""
    _set_active(deployment_id, True, issuer, client_id)


@platform_cli.command("deactivate")
@_deployment_options
def deactivate_command(deployment_id, issuer, client_id) -> None:
    """Hold a deployment again: its launches are refused."""
    _set_active(deployment_id, False, issuer, client_id)


def _set_active(deployment_id, active, issuer, client_id) -> None:
    deployment = _or_fail(
        set_deployment_active, deployment_id, active, issuer=issuer, client_id=client_id
    )
    registration = deployment.registration
    state = "active" if active else "held"
    click.echo(
        f"deployment {deployment.deployment_id} of {registration.issuer} "
        f"(client_id {registration.client_id}): {state}"
    )


@platform_cli.command("accept")
@click.argument("change_id", type=int)
def accept_command(change_id) -> None:
    """Apply a pending registration change (see `platform list`)."""
    registration = _or_fail(accept_change, change_id)
    click.echo(
        f"accepted change #{change_id}: registration #{registration.id} "
        f"({registration.issuer}, client_id {registration.client_id}) now uses "
        "the new settings"
    )


@platform_cli.command("reject")
@click.argument("change_id", type=int)
def reject_command(change_id) -> None:
    """Drop a pending registration change; the registration stays as it was."""
    _or_fail(reject_change, change_id)
    click.echo(f"rejected change #{change_id}; nothing changed")


_DURATION = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(ctx, param, value: str) -> datetime.timedelta:
    match = _DURATION.match(value or "")
    if not match:
        raise click.BadParameter("use a number and m, h, d or w, e.g. 7d or 12h")
    return datetime.timedelta(**{_UNITS[match[2]]: int(match[1])})


@platform_cli.command("invite")
@click.option(
    "--issuer", default=None, help="Only this LMS (its URL) may use the invite."
)
@click.option(
    "--expires",
    default="7d",
    callback=_duration,
    help="How long the invite is valid: 30m, 12h, 7d, 2w (default 7d).",
)
@click.option(
    "--uses",
    default=1,
    type=click.IntRange(1, 1000),
    help="Registrations allowed (default 1).",
)
@click.option("--note", default="", help="A label for `platform invites`.")
@click.option(
    "--base-url", default=None, help="The tool's public URL (default: BASE_URL)."
)
def invite_command(issuer, expires, uses, note, base_url) -> None:
    """Print a Dynamic Registration URL an LMS administrator can use."""
    base = _base_url(base_url)
    if not base:
        raise click.ClickException(
            "Set BASE_URL or pass --base-url: the invite is a URL of the tool."
        )
    invite, secret = _or_fail(
        consent.create_invite,
        expires_in=expires,
        uses=uses,
        issuer=issuer,
        note=note,
        allow_http_localhost=_allow_http_localhost(),
    )
    click.echo(consent.invite_url(base, secret))
    scope = f"for {invite.issuer}" if invite.issuer else "for any LMS"
    click.echo(
        f"invite #{invite.id} {scope}, {uses} registration(s), expires "
        f"{invite.expires_at:%Y-%m-%d %H:%M} UTC. Paste the URL into the LMS "
        "(Moodle: Manage tools > Tool URL; Canvas: Developer Keys > LTI "
        "Registration). It is shown only now.",
        err=True,
    )


@platform_cli.command("invites")
def invites_command() -> None:
    """List registration invites and whether each is still usable."""
    invites = consent.list_invites()
    if not invites:
        click.echo("No invites. `lms-plugin platform invite` makes one.")
    for invite in invites:
        click.echo(
            f"#{invite.id}\t{consent.state_of(invite)}\t"
            f"{invite.uses}/{invite.max_uses} used\t"
            f"expires {invite.expires_at:%Y-%m-%d %H:%M}\t"
            f"{invite.issuer or 'any LMS'}\t{invite.note}"
        )


@platform_cli.command("revoke-invite")
@click.argument("invite_id", type=int)
def revoke_invite_command(invite_id) -> None:
    """Revoke an invite so its URL registers nothing more."""
    _or_fail(consent.revoke, invite_id)
    click.echo(f"invite #{invite_id}: revoked")


keys_cli = AppGroup("keys", help="The tool's signing keys (published at /lti/jwks).")


@keys_cli.command("list")
def keys_list_command() -> None:
    """List keys, newest first, with their status."""
    with database.connection_context():
        for key in keys.describe_keys():
            click.echo(
                f"{key['kid']}  {key['created_at']:%Y-%m-%d %H:%M}  {key['status']}"
            )


@keys_cli.command("rotate")
@click.option(
    "--grace-days",
    default=7.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Days the replaced key stays published in /lti/jwks once the new one signs.",
)
@click.option(
    "--publish-for",
    type=click.FloatRange(min=0),
    help="Seconds the new key is published before it signs "
    "[default: LTI_JWKS_MAX_AGE, the JWKS cache lifetime].",
)
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Sign with the new key at once (a key that must stop signing now); "
    "platforms with a cached JWKS fail to verify until they refetch it.",
)
def keys_rotate_command(grace_days: float, publish_for: float | None, at_once: bool):
    """Publish a new key, and sign with it once caches of the JWKS have it."""
    if at_once:
        publish_for = 0
    elif publish_for is None:
        publish_for = current_app.config["LTI_JWKS_MAX_AGE"]
    with database.connection_context():
        try:
            key = keys.rotate_keys(grace_days, publish_for)
        except keys.RotationPending as pending:
            raise click.ClickException(str(pending)) from None
    click.echo(
        f"next key {key.kid} published; it signs from "
        f"{key.activates_at:%Y-%m-%d %H:%M:%S} UTC; the key it replaces stays "
        f"published for {grace_days:g} days after that"
    )
