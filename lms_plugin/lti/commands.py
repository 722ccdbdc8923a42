"""``lms-plugin keys …`` (list, rotate signing keys) and ``lms-plugin roster sync``."""

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


roster_cli = AppGroup("roster", help="Course rosters from Names and Roles (NRPS).")


@roster_cli.command("sync")
@click.option(
    "--context",
    "context_id",
    required=True,
    type=int,
    help="The tool's id of the course context (lti_context.id).",
)
def roster_sync_command(context_id: int) -> None:
    """Fetch a course's full roster from its platform and record every member."""
    from lms_plugin.lti.nrps import RosterError
    from lms_plugin.lti.nrps import sync_roster
    from lms_plugin.models.lti import LtiContext

    with database.connection_context():
        context = LtiContext.get_or_none(LtiContext.id == context_id)
        if context is None:
            raise click.ClickException(f"no course context with id {context_id}")
        try:
            result = sync_roster(context)
        except RosterError as error:
            raise click.ClickException(f"{error.message} ({error.detail})") from None
    click.echo(
        f"{result.members} members on {result.pages} page(s): {result.added} new, "
        f"{result.updated} updated, {result.absent} no longer listed (Absent)"
    )
