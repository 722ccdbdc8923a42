"""``lms-plugin roster sync``: a course's roster from Names and Roles, on demand."""

import click
from flask.cli import AppGroup

from lms_plugin.db import database
from lms_plugin.lti.services.nrps import RosterError
from lms_plugin.lti.services.nrps import sync_roster
from lms_plugin.models.lti import LtiContext

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
