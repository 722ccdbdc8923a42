"""The ``lms-plugin`` command: Flask's CLI with the tool's own commands.

Commands are thin: they parse arguments and call one function elsewhere. Each
subsystem adds its group in its ``init_app`` (``db``, ``platform``, ``keys``,
``content`` …); this module adds ``serve``.
"""

import click
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import with_appcontext


def _create_app():
    from lms_plugin import create_app
    from lms_plugin.db import DatabaseUrlError

    try:
        return create_app()
    except DatabaseUrlError as error:  # a setting to fix, not a bug: no traceback
        raise click.ClickException(f"DATABASE_URL: {error}") from None


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    add_default_commands=False,
)
def main() -> None:
    """Manage and run the lms_plugin LTI 1.3 tool."""


@main.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 for all).",
)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="Worker threads in this process.",
)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Run the tool on the production WSGI server (cheroot)."""
    from lms_plugin.server import serve

    click.echo(f"lms_plugin serving on http://{host}:{port}/")
    if current_app.config["PASSBACK_THREAD"]:
        from lms_plugin.passback import start_thread

        start_thread(current_app._get_current_object())
    serve(current_app._get_current_object(), host=host, port=port, threads=threads)


def _add_demo_command() -> None:
    from lms_plugin.demo.cli import demo_command

    main.add_command(demo_command)


_add_demo_command()
