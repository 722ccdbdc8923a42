"""Which addresses the guarded client may contact, and the name lookup that finds them.

The policy refuses loopback (unless allowed), private, link-local, cloud
metadata, multicast, unspecified, reserved and CGNAT addresses, and the same
ranges inside IPv4-mapped, 6to4 and NAT64 addresses; ``OUTBOUND_ALLOWED_NETWORKS``
lets an on-premises LMS through (never a metadata address). A host is resolved
once, within the request's deadline, and every address it resolves to is checked.
"""

import ipaddress
import socket
import threading
from dataclasses import dataclass

from flask import Flask

from lms_plugin.outbound import deadline as request_deadline
from lms_plugin.outbound.errors import REFUSED
from lms_plugin.outbound.errors import TIMEOUT
from lms_plugin.outbound.errors import UNREACHABLE
from lms_plugin.outbound.errors import OutboundError

#: Networks Python's ``ipaddress`` may call global on older versions but that
#: must never be contacted: CGNAT, 6to4 relay anycast, and the NAT64 prefixes
#: (their embedded IPv4 address is checked separately).
EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in ("100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "64:ff9b:1::/48")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Cloud instance-metadata services (AWS, GCP, Azure, OpenStack; AWS over IPv6):
#: refused even inside an allowed network, so a broad allow list cannot open them.
METADATA = (
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
)


@dataclass(frozen=True)
class Policy:
    """Where requests may go, from the app's configuration."""

    allow_loopback: bool = False
    allowed_networks: tuple = ()

    @classmethod
    def from_app(cls, app: Flask) -> "Policy":
        """The policy of ``app``: loopback in debug, testing, the demo or if set."""
        config = app.config
        allow_loopback = bool(
            config["LTI_ALLOW_HTTP_LOCALHOST"]
            or app.debug
            or app.testing
            or config.get("DEMO_MODE")  # loopback-only by construction (demo/)
        )
        return cls(allow_loopback, parse_networks(config["OUTBOUND_ALLOWED_NETWORKS"]))


def parse_networks(values) -> tuple:
    """``OUTBOUND_ALLOWED_NETWORKS`` (CIDRs, a list or a comma-separated string)."""
    if isinstance(values, str):
        values = [value for value in values.split(",") if value.strip()]
    return tuple(ipaddress.ip_network(value.strip()) for value in values or ())


def address_problem(ip, policy: Policy) -> str | None:
    """Why ``ip`` may not be contacted under ``policy``, or None if it may."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip in METADATA:
        return "cloud metadata service"
    if any(ip in network for network in policy.allowed_networks):
        return None
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        problem = address_problem(embedded, policy)
        if problem:
            return f"{problem}, inside {ip}"
    if ip.is_loopback:
        return None if policy.allow_loopback else "loopback"
    for name in ("link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if ip.version == 6 and ip.is_site_local:
        return "site-local"
    if any(ip in network for network in EXTRA_BLOCKED) or not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address routes to, if any."""
    if ip.version != 6:
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def checked_addresses(host: str, port: int, policy: Policy, loopback_only: bool):
    """Resolve ``host`` once and return its addresses, all of them allowed.

    One refused address refuses the host: an answer mixing public and private
    addresses is what a rebinding attack looks like.
    """
    answers = _resolve(host, port)
    addresses = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0])
        problem = address_problem(ip, policy)
        if problem is None and loopback_only and not ip.is_loopback:
            problem = "plain http to an address that is not loopback"
        if problem:
            raise OutboundError(REFUSED, f"{host} resolves to {ip} ({problem})")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise OutboundError(UNREACHABLE, f"{host} has no IPv4 or IPv6 address")
    return addresses


#: Name lookups in flight per process. A lookup that outlives its request keeps
#: its thread until the system resolver gives up; this bounds how many pile up
#: behind a hanging name server (further lookups fail at once).
MAX_LOOKUPS = 16
_LOOKUPS = threading.BoundedSemaphore(MAX_LOOKUPS)


def _resolve(host: str, port: int) -> list:
    """``getaddrinfo`` within the deadline (a slow name server is a timeout).

    The system resolver cannot be interrupted, so it runs in a daemon thread
    that is left to finish on its own if the deadline passes first; at most
    :data:`MAX_LOOKUPS` of them at once.
    """
    found: dict = {}
    slots = _LOOKUPS  # released by the lookup thread, however late it ends
    if not slots.acquire(blocking=False):
        raise OutboundError(TIMEOUT, f"{host}: {MAX_LOOKUPS} name lookups in flight")

    def lookup():
        try:
            found["answers"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            found["error"] = error
        finally:
            slots.release()

    worker = threading.Thread(target=lookup, name="lms_plugin-resolve", daemon=True)
    worker.start()
    wait = request_deadline.left()
    if wait is not None and wait <= 0:
        raise OutboundError(TIMEOUT, f"{host}: the deadline passed before the lookup")
    worker.join(wait)
    if worker.is_alive():
        raise OutboundError(TIMEOUT, f"{host} did not resolve before the deadline")
    if "error" in found:
        raise OutboundError(UNREACHABLE, f"{host} does not resolve: {found['error']}")
    return found["answers"]
