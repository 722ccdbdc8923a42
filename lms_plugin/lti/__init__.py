"""LTI 1.3 for the tool, in four sub-packages, wired by one :func:`init_app`.

- ``launch/``: the OIDC login and the launch, with every security-framework check
  (``adapter.py`` is the one place that builds pylti1p3 objects), the launch-state
  cookies and platform storage, and the launch's hand-off to the learner pages.
- ``services/``: calls the tool makes to a platform: the OAuth 2 token
  (``connector.py``), Assignment and Grade Services (``ags.py``) and Names and Roles
  (``nrps.py``).
- ``deep_linking/``: the module picker and the signed response, and binding a
  resource link to its module.
- ``registration/``: trusting a platform (Dynamic Registration, consent, manual
  registration, pending changes), its keys and the tool's own signing keys, and the
  documents an administrator pastes into an LMS.

``claims.py`` and ``roles.py`` name the spec's vocabulary for all four. Only this
package imports pylti1p3. Specs: LTI 1.3 Core https://www.imsglobal.org/spec/lti/v1p3/ ·
Security Framework https://www.imsglobal.org/spec/security/v1p0/ ·
Platform storage https://www.imsglobal.org/spec/lti-pm-s/v0p1
"""

import logging

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every LTI blueprint and command, and iframe-safe session cookies."""
    from lms_plugin.lti.deep_linking.views import bp as deep_linking_bp
    from lms_plugin.lti.launch.cookies import IframeSessionInterface
    from lms_plugin.lti.launch.tickets import RedactTickets
    from lms_plugin.lti.launch.views import bp as launch_bp
    from lms_plugin.lti.registration.cli import keys_cli
    from lms_plugin.lti.registration.cli import platform_cli
    from lms_plugin.lti.registration.views import bp as registration_bp
    from lms_plugin.lti.services.cli import roster_cli

    policy = app.config["LTI_UNKNOWN_DEPLOYMENTS"]
    if policy not in ("accept", "hold"):
        raise ValueError(f"LTI_UNKNOWN_DEPLOYMENTS must be accept or hold: {policy!r}")
    app.session_interface = IframeSessionInterface()
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTickets) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactTickets())
    for blueprint in (launch_bp, deep_linking_bp, registration_bp):
        app.register_blueprint(blueprint)
    for group in (platform_cli, keys_cli, roster_cli):
        app.cli.add_command(group)
