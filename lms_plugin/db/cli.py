"""``lms-plugin db …``: apply migrations, list them, generate one from model drift."""

import click
import peewee
from flask import current_app
from flask.cli import AppGroup
from playhouse.migrations import Runner

from lms_plugin.db.engines import database
from lms_plugin.db.migrations import migrate

db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply pending migrations."""
    applied = migrate(current_app.config["MIGRATIONS_DIR"])
    click.echo(
        f"applied {len(applied)} migration(s)"
        + "".join(f"\n  {name}" for name in applied)
    )


@db_cli.command("status")
def status_command() -> None:
    """List migrations and whether each is applied."""
    with database.connection_context():
        runner = Runner(database.obj, current_app.config["MIGRATIONS_DIR"])
        for migration in runner.status():
            mark = "applied" if migration.applied else "pending"
            click.echo(f"{mark:8} {migration.name}")


@db_cli.command("generate")
@click.argument("name")
def generate_command(name: str) -> None:
    """Write migrations/NNNN_NAME.py from the models' drift against this database.

    For developers: migrate a scratch database first, then review the generated
    file by hand (Python-side defaults are left out on purpose).
    """
    from playhouse.migrations import template
    from playhouse.schema_diff import diff_models

    with database.connection_context():
        diff = diff_models(database.obj, _models())
        if not any(diff):
            click.echo("schema matches the models; nothing to generate")
            return
        runner = Runner(database.obj, current_app.config["MIGRATIONS_DIR"])
        click.echo(runner.create(name, body=template(diff)))


def _models() -> list:
    """Every model of the tool's schema, in dependency order.

    The subclasses of :class:`~lms_plugin.db.BaseModel`: the app imports every
    model module (its views use them) before a command runs.
    """
    from lms_plugin.db import BaseModel

    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return peewee.sort_models(found)
