"""The one HTTP client for every request the tool makes to another server.

OpenID configurations and registration POSTs (Dynamic Registration), platform
key sets, token endpoints, AGS and NRPS calls, and the demo LMS reading the
tool's key set all go through :class:`Client`; nothing else in the package
imports an HTTP library (a test keeps it so). Every request here:

- goes to https, or to plain http only on loopback and only when loopback is
  allowed (``LTI_ALLOW_HTTP_LOCALHOST``, always on in debug and testing);
- is checked against the *resolved* address of its host (loopback, private,
  link-local including 169.254.169.254, multicast, unspecified, reserved, CGNAT,
  and those same ranges inside IPv4-mapped, 6to4 and NAT64 addresses), and
  connects to exactly the address that was checked, so a second DNS answer
  cannot move it (DNS rebinding); TLS server name and certificate still use the
  URL's host name. ``OUTBOUND_ALLOWED_NETWORKS`` lets an on-premises LMS on a
  private network through;
- follows no redirect (a 3xx is a failure), reads at most ``max_bytes`` of
  answer, and gives up at one deadline across connecting, sending and every read;
- answers JSON through :func:`lms_plugin.safejson.loads`.

Failures are one :class:`OutboundError` whose message is the same whatever went
wrong (a stranger must not learn which internal ports answer); the precise
reason is in ``reason`` and in the log. Registration fetches additionally take
one of ``OUTBOUND_REGISTRATION_CONCURRENCY`` slots per process, and are refused
at once with :class:`OutboundBusy` (503) when none is free.

Built on httpx (requests, URLs, forms, Link headers) with a custom transport over
httpcore's public network-backend interface, where the address check, the
connection to the checked address and the deadline on every socket operation
each take a few lines. The package is the one seam for HTTP libraries:

- ``errors``: the neutral message, the kinds of failure, :class:`OutboundError`;
- ``addresses``: the :class:`Policy` and the checked name lookup;
- ``deadline``: one deadline per request;
- ``transport``: the httpx transport over checked connections;
- ``client``: :class:`Client` and :class:`Response`;
- here: :func:`client` (a client under the app's policy) and ``init_app``.
"""

import threading

from flask import Flask
from flask import current_app

from lms_plugin.outbound.addresses import Policy
from lms_plugin.outbound.addresses import parse_networks
from lms_plugin.outbound.client import Client
from lms_plugin.outbound.client import Response
from lms_plugin.outbound.errors import FAILED
from lms_plugin.outbound.errors import NEUTRAL_MESSAGE
from lms_plugin.outbound.errors import REDIRECT
from lms_plugin.outbound.errors import REFUSED
from lms_plugin.outbound.errors import TIMEOUT
from lms_plugin.outbound.errors import TOO_LARGE
from lms_plugin.outbound.errors import UNREACHABLE
from lms_plugin.outbound.errors import OutboundBusy
from lms_plugin.outbound.errors import OutboundError
from lms_plugin.outbound.errors import unusable

__all__ = [
    "FAILED",
    "NEUTRAL_MESSAGE",
    "REDIRECT",
    "REFUSED",
    "TIMEOUT",
    "TOO_LARGE",
    "UNREACHABLE",
    "Client",
    "OutboundBusy",
    "OutboundError",
    "Policy",
    "Response",
    "client",
    "get_json",
    "init_app",
    "parse_networks",
    "unusable",
]


def client(
    user_agent: str,
    *,
    deadline: float | None = None,
    max_bytes: int | None = None,
    registration: bool = False,
    app: Flask | None = None,
) -> Client:
    """A :class:`Client` under the app's policy (the current app by default).

    ``registration``: take a registration slot per request (Dynamic Registration,
    where a stranger names the URL).
    """
    app = app or current_app._get_current_object()
    config = app.config
    state = app.extensions["lms_plugin.outbound"]
    return Client(
        Policy.from_app(app),
        user_agent=user_agent,
        deadline=deadline or float(config["OUTBOUND_DEADLINE"]),
        max_bytes=max_bytes or int(config["OUTBOUND_MAX_BYTES"]),
        slots=state["registration_slots"] if registration else None,
    )


def get_json(url: str, user_agent: str, *, deadline: float, max_bytes: int) -> object:
    """GET ``url`` and return its JSON; only a 200 answer counts.

    :class:`OutboundError` for any failure or another status; ``ValueError``
    (``safejson.JsonLimitError``) when the answer is not JSON within the limits.
    """
    with client(user_agent, deadline=deadline, max_bytes=max_bytes) as http:
        response = http.get(url)
    if response.status_code != 200:
        raise unusable(f"GET {url}: HTTP {response.status_code}")
    return response.json()


def init_app(app: Flask) -> None:
    """Check the outbound settings and make this process's registration slots."""
    parse_networks(app.config["OUTBOUND_ALLOWED_NETWORKS"])  # fail at start if bad
    slots = int(app.config["OUTBOUND_REGISTRATION_CONCURRENCY"])
    app.extensions["lms_plugin.outbound"] = {
        "registration_slots": threading.BoundedSemaphore(max(1, slots))
    }
