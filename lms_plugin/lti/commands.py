"""``lms-plugin keys …`` and ``lms-plugin deployments …``: thin CLI wrappers."""

import click
from flask.cli import AppGroup

from lms_plugin.db import database
from lms_plugin.lti import keys
from lms_plugin.lti import tool_config

keys_cli = AppGroup("keys", help="The tool's signing keys (published at /lti/jwks).")


@keys_cli.command("list")
def list_command() -> None:
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
    help="Days the old keys stay published in /lti/jwks.",
)
def rotate_command(grace_days: float) -> None:
    """Add a new signing key; old keys stay published for the grace period."""
    with database.connection_context():
        key = keys.rotate_keys(grace_days)
    click.echo(f"new signing key {key.kid}; old keys published for {grace_days:g} days")


deployments_cli = AppGroup(
    "deployments", help="Platform deployments of the tool (LTI_UNKNOWN_DEPLOYMENTS)."
)


@deployments_cli.command("list")
@click.option("--held", is_flag=True, help="Only deployments waiting for approval.")
def list_deployments_command(held: bool) -> None:
    """List deployments: id, state, issuer, client_id, deployment_id."""
    with database.connection_context():
        for row in tool_config.list_deployments(held_only=held):
            state = "active" if row.is_active else "held"
            registration = row.registration
            click.echo(
                f"{row.id:>5}  {state:6}  {registration.issuer}  "
                f"{registration.client_id}  {row.deployment_id}"
            )


@deployments_cli.command("activate")
@click.argument("deployment", type=int)
def activate_command(deployment: int) -> None:
    """Let launches of a held DEPLOYMENT (its id from ``list``) through."""
    _set_active(deployment, True)


@deployments_cli.command("hold")
@click.argument("deployment", type=int)
def hold_command(deployment: int) -> None:
    """Refuse launches of DEPLOYMENT until it is activated again."""
    _set_active(deployment, False)


def _set_active(deployment: int, active: bool) -> None:
    with database.connection_context():
        row = tool_config.set_deployment_active(deployment, active)
    if row is None:
        raise click.ClickException(f"no deployment with id {deployment}")
    click.echo(
        f"deployment {row.deployment_id} is now {'active' if active else 'held'}"
    )
