"""LTI 1.3 for the tool: OIDC login, launches, keys and services.

The only package that imports pylti1p3 (adapter.py builds its objects).
Specs: LTI 1.3 Core https://www.imsglobal.org/spec/lti/v1p3/ ·
Security Framework https://www.imsglobal.org/spec/security/v1p0/ ·
Platform storage https://www.imsglobal.org/spec/lti-pm-s/v0p1
"""

import logging

from flask import Flask

from lms_plugin.lti.launch import default_landing
from lms_plugin.lti.launch import set_resource_landing

__all__ = ["init_app", "set_resource_landing"]


def init_app(app: Flask) -> None:
    """Register the LTI blueprint, iframe-safe session cookies and CLI commands."""
    from lms_plugin.lti.commands import keys_cli
    from lms_plugin.lti.commands import roster_cli
    from lms_plugin.lti.cookies import IframeSessionInterface
    from lms_plugin.lti.deep_linking_views import bp as deep_linking_bp
    from lms_plugin.lti.tickets import RedactTickets
    from lms_plugin.lti.views import bp

    policy = app.config["LTI_UNKNOWN_DEPLOYMENTS"]
    if policy not in ("accept", "hold"):
        raise ValueError(f"LTI_UNKNOWN_DEPLOYMENTS must be accept or hold: {policy!r}")
    app.extensions["lms_plugin.lti"] = {"resource_landing": default_landing}
    app.session_interface = IframeSessionInterface()
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTickets) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactTickets())
    app.register_blueprint(bp)
    app.register_blueprint(deep_linking_bp)
    app.cli.add_command(keys_cli)
    app.cli.add_command(roster_cli)
