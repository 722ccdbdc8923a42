"""``lms-plugin platform …``: register LMSs by hand, list them, accept deployments.

Thin wrappers over ``lti/platforms.py``; every bad input is a one-line error and
a non-zero exit, with the database unchanged.
"""

import click
from flask import current_app
from flask.cli import AppGroup

from lms_plugin.lti.platforms import FAMILIES
from lms_plugin.lti.platforms import PlatformError
from lms_plugin.lti.platforms import PlatformSettings
from lms_plugin.lti.platforms import check_url
from lms_plugin.lti.platforms import list_platforms
from lms_plugin.lti.platforms import save_platform
from lms_plugin.lti.platforms import set_deployment_active
from lms_plugin.lti.platforms import validate_settings
from lms_plugin.lti.registration import tool_urls
from lms_plugin.lti.registration_views import policy_for

platform_cli = AppGroup("platform", help="Register LMS platforms with the tool.")


def _allow_http_localhost() -> bool:
    return policy_for(current_app).allow_http_localhost


def _fail(error: PlatformError):
    raise click.ClickException(error.message)


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
    try:
        settings = validate_settings(
            settings, allow_http_localhost=_allow_http_localhost()
        )
    except PlatformError as error:
        _fail(error)
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
    base = base_url or current_app.config["BASE_URL"]
    click.echo("")
    if not base:
        click.echo("Tool URLs: set BASE_URL or pass --base-url to print them.")
        return
    try:
        base = check_url(base, "--base-url", allow_http_localhost=True)
    except PlatformError as error:
        _fail(error)
    click.echo(f"Tool URLs to paste into the LMS ({base.rstrip('/')}):")
    for label, url in tool_urls(base).items():
        click.echo(f"  {label:31} {url}")


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
    try:
        deployment = set_deployment_active(
            deployment_id, active, issuer=issuer, client_id=client_id
        )
    except PlatformError as error:
        _fail(error)
    registration = deployment.registration
    state = "active" if active else "held"
    click.echo(
        f"deployment {deployment.deployment_id} of {registration.issuer} "
        f"(client_id {registration.client_id}): {state}"
    )
