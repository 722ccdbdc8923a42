"""``lms-plugin worker`` and ``lms-plugin scores …``: run senders, inspect, requeue."""

import signal

import click
from flask import current_app
from flask.cli import AppGroup
from flask.cli import with_appcontext

from lms_plugin.db import database
from lms_plugin.models.passback import STATUSES
from lms_plugin.passback import outbox


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=None,
    help="Rows claimed per batch (default PASSBACK_BATCH).",
)
@with_appcontext
def worker_command(once: bool, batch: int | None) -> None:
    """Deliver queued scores to the platforms (stops cleanly on SIGTERM)."""
    from lms_plugin.passback.sender import Sender

    sender = Sender(current_app._get_current_object(), batch=batch)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sender.stop.set())
    if once:
        counts = sender.drain()
    else:
        click.echo("grade passback worker running; SIGTERM stops it")
        sender.run_forever()
        counts = sender.counts
    click.echo(", ".join(f"{name} {n}" for name, n in counts.items()))


scores_cli = AppGroup("scores", help="The grade passback outbox.")


@scores_cli.command("status")
@click.option("--limit", default=10, show_default=True, help="Failures listed.")
def status_command(limit: int) -> None:
    """Count scores by status and list the latest failures with their reasons."""
    with database.connection_context():
        counts = outbox.status_counts()
        failures = outbox.latest_failures(limit)
    for status in STATUSES:
        click.echo(f"{status:11} {counts.get(status, 0)}")
    if failures:
        click.echo("latest failures:")
    for row in failures:
        click.echo(
            f"  #{row.id} user {row.user_sub} module {row.module_slug} "
            f"after {row.attempts} attempt(s): {row.last_error}"
        )


@scores_cli.command("retry")
@click.option("--failed", is_flag=True, help="Requeue every failed score.")
@click.argument("ids", nargs=-1, type=int)
def retry_command(failed: bool, ids: tuple[int, ...]) -> None:
    """Requeue failed scores (all with --failed, or the given IDs)."""
    if not failed and not ids:
        raise click.UsageError("give score IDs, or --failed for every failed score")
    with database.connection_context():
        count = outbox.requeue(list(ids), failed=failed)
    click.echo(f"requeued {count} score(s)")
