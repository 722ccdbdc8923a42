"""``lms-plugin keys …``: list and rotate the tool's signing keys."""

import click
from flask.cli import AppGroup

from lms_plugin.db import database
from lms_plugin.lti import keys

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
