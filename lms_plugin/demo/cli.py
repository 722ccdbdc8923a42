"""``lms-plugin demo``: the tool and the demo LMS in one process, one URL printed."""

import _thread
import threading

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
    from lms_plugin.server import serve

    if not is_loopback(host):
        raise click.BadParameter(
            f"{host!r} is not a loopback address; the demo LMS is for this "
            "computer only.",
            param_hint="--host",
        )
    app = build_demo_app(host, port)
    failures: list[str] = []
    # Registration talks to this very server over HTTP, so it runs beside it.
    threading.Thread(
        target=register_then_announce, args=(app, failures), daemon=True
    ).start()
    serve(app, host=host, port=port, threads=8)  # until Ctrl-C, or a failure
    if failures:
        raise click.ClickException(failures[0])


def register_then_announce(app, failures: list[str]) -> None:
    """Register the demo by Dynamic Registration, then print the one URL.

    Printed only once registered, so the URL works as soon as it is shown. On
    failure the reason is kept in ``failures`` and the server is stopped.
    """
    from lms_plugin.demo.registration import register_over_http
    from lms_plugin.errors import LmsError

    base_url = app.config["DEMO_BASE_URL"]
    try:
        with app.app_context():
            register_over_http(base_url)
    except LmsError as error:
        detail = f" ({error.detail})" if error.detail else ""
        failures.append(
            f"The demo LMS could not register with the tool: {error.message}{detail}"
        )
        _thread.interrupt_main()
        return
    click.echo(f"Demo LMS: {base_url}/demo/")


def build_demo_app(host: str, port: int):
    """The tool in demo mode at http://host:port (registered once it listens)."""
    from lms_plugin import create_app
    from lms_plugin.demo import DemoModeRefused

    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    try:
        return create_app({"DEMO_MODE": True, "DEMO_BASE_URL": base_url})
    except DemoModeRefused as error:
        raise click.ClickException(str(error)) from None
