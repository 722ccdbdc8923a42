"""``lms-plugin keys …`` (list, rotate signing keys) and ``lms-plugin roster sync``."""

import click
from flask import current_app
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
def rotate_command(grace_days: float, publish_for: float | None, at_once: bool):
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
