"""One-time launch tickets: the way back in when the browser blocks the tool's cookies.

After an accepted launch the tool redirects to the landing page with a ticket in
the URL. If the session cookie came along, the ticket is spent and stripped; if
the browser withheld the cookie (Safari, Chrome without third-party cookies), the
landing offers "Open in a new window" with a fresh ticket for ``/lti/resume``,
where the cookie is first-party and the session can start.

A ticket is ``<selector>.<verifier>``: the selector names a :class:`LaunchState`
row, the 32-byte verifier is stored only as its SHA-256 and compared in constant
time. Rows live 2 (landing) or 5 (new window) minutes and are spent by an atomic
DELETE, so exactly one request on any worker can use a ticket. Tickets are never
logged.
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from lms_plugin.auth import current_launch
from lms_plugin.clock import utcnow
from lms_plugin.lti.launch.storage import put_value
from lms_plugin.models.lti import LaunchState

#: Query parameter carrying the ticket on the landing URL.
LANDING_PARAM = "lti_ticket"
#: The landing ticket is spent by the redirect that follows the launch at once.
LANDING_LIFETIME = 120
#: The new-window ticket waits for a person to read the page and click.
RESUME_LIFETIME = 300

_PREFIX = "ticket-"
_MAX_LENGTH = 128  # longer input is not ours; refuse it before hashing


class Grant(t.TypedDict):
    """What a ticket stands for: one launch of one user, and where it lands."""

    user: int
    context: int | None
    link: int | None
    launch: str
    claims: dict  # the launch's routing claims
    landing: str


def _digest(verifier: str) -> str:
    return hashlib.sha256(verifier.encode()).hexdigest()


def mint(grant: Grant, lifetime: float) -> str:
    """Store ``grant`` under a new random ticket for ``lifetime`` seconds."""
    selector = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(32)
    put_value(_PREFIX + selector, {**grant, "hash": _digest(verifier)}, lifetime)
    return f"{selector}.{verifier}"


def consume(ticket: str | None) -> Grant | None:
    """Spend ``ticket`` once, across all workers; None if unknown, expired or used."""
    selector, _, verifier = (ticket or "")[: _MAX_LENGTH + 1].partition(".")
    if not selector or not verifier or len(ticket) > _MAX_LENGTH:
        return None
    key = _PREFIX + selector
    alive = (LaunchState.key == key) & (LaunchState.expires_at > utcnow())
    row = LaunchState.get_or_none(alive)
    if row is None:
        return None
    stored = json.loads(row.value)
    if not hmac.compare_digest(stored.pop("hash"), _digest(verifier)):
        return None
    # The DELETE is the lock: of two requests racing here, one deletes the row.
    if LaunchState.delete().where(alive).execute() != 1:
        return None
    return Grant(**stored)


def session_grant(landing: str) -> Grant:
    """The grant for the launch that just started this request's session."""
    return Grant(**current_launch().grant(), landing=landing)


def with_ticket(url: str, ticket: str) -> str:
    """``url`` with the landing ticket added to its query."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(LANDING_PARAM, ticket)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def without_ticket(url: str) -> str:
    """``url`` (a local path with query) with the landing ticket removed."""
    parts = urlsplit(url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name != LANDING_PARAM
    ]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def is_local_path(url: str) -> bool:
    """True for a path on this site ("/x"), never "//host" or "https://host"."""
    return url.startswith("/") and not url.startswith(("//", "/\\"))


_IN_URL = re.compile(r"((?:^|[?&])(?:lti_ticket|ticket)=)[^&\s\"]+")


def redact(text: str) -> str:
    """``text`` with the value of every ticket parameter in it replaced."""
    return _IN_URL.sub(r"\1[redacted]", text)


class RedactTickets(logging.Filter):
    """Keep tickets out of request logs (the development server logs each URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ticket=" in message:
            record.msg, record.args = redact(message), ()
        return True
