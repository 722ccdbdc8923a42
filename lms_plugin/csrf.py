"""CSRF protection for the tool's own forms.

A random token lives in the session (whose cookie is partitioned and
``SameSite=None`` on HTTPS, so it works inside an LMS iframe) and every unsafe
request must echo it in the ``csrf_token`` form field or the ``X-CSRF-Token``
header. Endpoints that platforms POST to across sites (OIDC login, launch,
platform endpoints of the demo) are exempt with :func:`exempt`: LTI's own state,
nonce and signed tokens protect them.
"""

import hmac
import secrets

from flask import Flask
from flask import current_app
from flask import request
from flask import session

from lms_plugin.errors import LmsError

SESSION_KEY = "_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfError(LmsError):
    status_code = 400
    title = "Form expired"


def exempt(view):
    """Mark a view as protected by other means (LTI state, signed tokens)."""
    view.csrf_exempt = True
    return view


def exempt_blueprint(app: Flask, name: str) -> None:
    """Leave a whole blueprint to its own protection (the demo LMS: another site)."""
    app.extensions.setdefault("lms_plugin.csrf_exempt", set()).add(name)


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def _check() -> None:
    if request.method not in UNSAFE_METHODS or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "csrf_exempt", False):
        return
    if request.blueprint in current_app.extensions.get("lms_plugin.csrf_exempt", ()):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    expected = session.get(SESSION_KEY, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError(
            "This form has expired or did not come from this page. Reload the "
            "page and try again; if it keeps happening, open the tool in a new "
            "window from your course."
        )


def init_app(app: Flask) -> None:
    """Check tokens before every unsafe request; offer csrf_token() to templates."""
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
