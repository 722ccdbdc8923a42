"""A small built-in LMS for demonstrations: the platform side of LTI 1.3.

It talks to the tool the way Canvas or Moodle would (over HTTP, with real signed
tokens) and keeps its own state in ``instance/demo.sqlite3``, with one exception:
registration, where the demo acts as the tool's operator too, minting its own
invite and retiring its older clients in the tool's database
(``demo/registration.py``). It exists only when ``DEMO_MODE`` is on, which a
production configuration refuses.
"""

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from lms_plugin.demo.blueprint import is_loopback


class DemoModeRefused(RuntimeError):
    """DEMO_MODE was asked for in a configuration that looks like production."""


def check_demo_config(config) -> None:
    """Refuse demo mode with PostgreSQL or a non-loopback base URL."""
    url = config.get("DATABASE_URL") or ""
    if urlsplit(url).scheme in ("postgres", "postgresql"):
        raise DemoModeRefused(
            "DEMO_MODE is refused with a PostgreSQL DATABASE_URL: that is a "
            "production configuration. The demo runs only on the embedded SQLite "
            "default; unset DATABASE_URL (or LMS_PLUGIN_DEMO_MODE)."
        )
    base = config.get("DEMO_BASE_URL")
    if base and not is_loopback(urlsplit(base).hostname or ""):
        raise DemoModeRefused(
            f"DEMO_MODE is refused for DEMO_BASE_URL {base!r}: the demo LMS runs "
            "only on a loopback address (127.0.0.1 or localhost)."
        )


def init_app(app: Flask) -> None:
    """In demo mode: open the demo database and mount the demo LMS at /demo."""
    if not app.config["DEMO_MODE"]:
        return
    check_demo_config(app.config)
    from lms_plugin.demo import api  # noqa: F401  (registers routes)
    from lms_plugin.demo import pages  # noqa: F401
    from lms_plugin.demo import platform  # noqa: F401
    from lms_plugin.demo.blueprint import bp
    from lms_plugin.demo.keys import ensure_key
    from lms_plugin.demo.models import demo_database
    from lms_plugin.demo.models import open_database
    from lms_plugin.demo.seed import seed

    open_database(Path(app.instance_path) / "demo.sqlite3")
    with demo_database.connection_context():
        seed()
        ensure_key()
    app.register_blueprint(bp)
    # The demo LMS plays another site: its forms carry its own token
    # (users.check_csrf) and its platform endpoints take signed tokens.
    from lms_plugin import csrf

    csrf.exempt_blueprint(app, bp.name)
    app.extensions["lms_plugin.demo"] = demo_database
