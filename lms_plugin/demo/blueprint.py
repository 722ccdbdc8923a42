"""The ``/demo`` blueprint, and where each request learns its platform URLs.

Routes are added by ``pages``, ``platform`` and ``api``. Every request opens the
demo database, and the demo answers only on a loopback host name: it is a local
demonstration, never something to expose.
"""

import ipaddress
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import g
from flask import redirect
from flask import request

from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.registration import current_registration
from lms_plugin.demo.registration import issuer_for
from lms_plugin.demo.users import csrf_token
from lms_plugin.demo.users import save_cookie
from lms_plugin.errors import LmsError

bp = Blueprint("demo", __name__, url_prefix="/demo")
bp.after_request(save_cookie)
bp.context_processor(lambda: {"csrf_token": csrf_token})


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url() -> str:
    """Where the browser reaches this process: DEMO_BASE_URL, else this request."""
    configured = current_app.config.get("DEMO_BASE_URL")
    return (configured or request.host_url).rstrip("/")


def issuer() -> str:
    """This platform's issuer (its base URL + ``/demo``)."""
    return issuer_for(base_url())


class NotRegistered(LmsError):
    """The demo has not registered with the tool (``lms-plugin demo`` does that)."""

    status_code = 503
    title = "The demo LMS is not registered yet"


def registration() -> Registration:
    """The platform's registration with the tool (made by Dynamic Registration)."""
    if "demo_registration" not in g:
        found = current_registration(issuer())
        if found is None:
            raise NotRegistered(
                f"The demo LMS at {issuer()} has not registered with the tool. "
                "Start it with `lms-plugin demo`, which registers it by LTI Dynamic "
                "Registration, and open the URL it prints."
            )
        g.demo_registration = found
    return g.demo_registration


@bp.before_request
def _open_demo_database():
    hostname = urlsplit(f"//{request.host}").hostname or ""
    if not is_loopback(hostname):
        raise LmsError(
            "The demo LMS answers only on a loopback address (127.0.0.1 or localhost).",
            status_code=403,
        )
    canonical = _canonical_redirect()
    if canonical:
        return canonical
    demo_database.connect(reuse_if_open=True)


def _canonical_redirect():
    """Send pages asked for under another host name to DEMO_BASE_URL's.

    Cookies are per host: a course page on ``localhost`` whose launch comes back
    to ``127.0.0.1`` would not know who is signed in to the demo.
    """
    configured = current_app.config.get("DEMO_BASE_URL")
    if not configured or request.method != "GET":
        return None
    if urlsplit(configured).netloc == request.host:
        return None
    return redirect(configured.rstrip("/") + request.full_path.rstrip("?"), code=302)


@bp.teardown_request
def _close_demo_database(exc):
    if not demo_database.is_closed():
        demo_database.close()
