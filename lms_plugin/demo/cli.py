"""``lms-plugin demo``: the tool and the demo LMS in one process, one URL printed."""

import click

from lms_plugin.demo.blueprint import is_loopback


@click.command("demo")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback interface to listen on (127.0.0.1, localhost or ::1).",
)
@click.option("--port", default=8000, show_default=True, type=int)
def demo_command(host: str, port: int) -> None:
    """Run the tool with the built-in demo LMS (DEMO_MODE) and print its URL."""
    from waitress.server import create_server

    if not is_loopback(host):
        raise click.BadParameter(
            f"{host!r} is not a loopback address; the demo LMS is for this "
            "computer only.",
            param_hint="--host",
        )
    app = build_demo_app(host, port)
    server = create_server(app, host=host, port=port, threads=8, ident="lms_plugin")
    # Printed once the socket listens, so the URL answers as soon as it is shown.
    click.echo(f"Demo LMS: {app.config['DEMO_BASE_URL']}/demo/")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def build_demo_app(host: str, port: int):
    """The tool in demo mode at http://host:port, registered with the demo LMS."""
    from lms_plugin import create_app
    from lms_plugin.demo import DemoModeRefused
    from lms_plugin.demo.models import demo_database
    from lms_plugin.demo.registration import register_with_tool

    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    try:
        app = create_app({"DEMO_MODE": True, "DEMO_BASE_URL": base_url})
    except DemoModeRefused as error:
        raise click.ClickException(str(error)) from None
    with app.app_context(), demo_database.connection_context():
        register_with_tool(base_url)
    return app
