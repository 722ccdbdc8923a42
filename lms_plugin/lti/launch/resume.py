"""The two requests that spend launch tickets (tickets.py).

``check_landing_ticket`` runs before every GET carrying ``?lti_ticket=``: with the
launch's session cookie present it strips the ticket (a redirect, so it never
lingers in history or referrers); without it, it answers the cookies-blocked page
(200: the page is the answer, not an auth challenge) with a new-window link to
``/lti/resume``. ``resume`` starts the session there, top-level, and lands.
"""

from flask import make_response
from flask import render_template
from flask import request
from werkzeug.utils import redirect

from lms_plugin.auth import active_user
from lms_plugin.auth import current_launch
from lms_plugin.auth import membership_of
from lms_plugin.auth import start_launch_session
from lms_plugin.errors import LaunchError
from lms_plugin.lti.launch import tickets
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink


class TicketRefused(LaunchError):
    """A launch ticket that is unknown, expired, already used or forged."""

    status_code = 400
    title = "This link to the tool has expired"

    def __init__(self):
        super().__init__(
            "This link only works once and for a few minutes, and it has expired "
            "or was already used. Go back to your course and open the tool again.",
            detail="launch ticket unknown, expired or already used",
        )


def _private(response):
    """No caching, no Referer: the page or its redirect holds a ticket."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def check_landing_ticket():
    """Strip a spent ticket from the landing, or explain blocked cookies."""
    ticket = request.args.get(tickets.LANDING_PARAM)
    if ticket is None or request.method != "GET":
        return None
    grant = tickets.consume(ticket)
    launch = current_launch()
    if grant and launch is not None and launch.launch_id == grant["launch"]:
        return _private(redirect(tickets.without_ticket(request.full_path), 303))
    if grant:
        return cookies_blocked_page(grant)
    if launch is not None:
        return _private(redirect(tickets.without_ticket(request.full_path), 303))
    raise TicketRefused()


def cookies_blocked_page(grant: tickets.Grant):
    """The landing inside a frame that withheld the session cookie."""
    ticket = tickets.mint(grant, tickets.RESUME_LIFETIME)
    page = render_template(
        "lti/cookies_blocked.html", ticket=ticket, minutes=tickets.RESUME_LIFETIME // 60
    )
    return _private(make_response(page, 200))


def resume():
    """Start the session of a ticket's launch in this window, then land."""
    grant = tickets.consume(request.args.get("ticket"))
    user = active_user(grant["user"]) if grant else None
    if user is None or not tickets.is_local_path(grant["landing"]):
        raise TicketRefused()
    context = LtiContext.get_or_none(LtiContext.id == grant["context"])
    link = LtiResourceLink.get_or_none(LtiResourceLink.id == grant["link"])
    if (context is None) != (grant["context"] is None) or (link is None) != (
        grant["link"] is None
    ):
        raise TicketRefused()  # the course or link was removed since the launch
    membership = membership_of(user, context)
    start_launch_session(
        user, grant["launch"], context, membership, link, grant.get("claims") or {}
    )
    return _private(redirect(grant["landing"], 303))
