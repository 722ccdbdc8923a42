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
each take a few lines.
"""

import contextvars
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpcore
import httpx
from flask import Flask
from flask import current_app

from lms_plugin import safejson
from lms_plugin.errors import LmsError

log = logging.getLogger(__name__)

#: What the person on the page is told, whatever the failure was.
NEUTRAL_MESSAGE = (
    "The tool could not get a usable answer from that address. Check the address "
    "and try again; the tool's administrator can find the reason in its log."
)
BUSY_MESSAGE = (
    "The tool is busy with other registrations right now. Try again in a minute."
)
#: Defaults for a request that names no limits of its own.
DEFAULT_DEADLINE = 15.0  # seconds, connect + send + every read
DEFAULT_MAX_BYTES = 1_000_000

#: Kinds of failure; ``reason`` says the rest, for the log.
REFUSED = "refused"  # the guard: scheme or address not allowed
REDIRECT = "redirect"
TIMEOUT = "timeout"  # the deadline passed
UNREACHABLE = "unreachable"  # no connection (DNS, refused, reset, TLS)
TOO_LARGE = "too_large"
FAILED = "failed"  # the connection broke or the answer was not HTTP we read

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

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "lms_plugin_outbound_deadline", default=None
)


class OutboundError(LmsError):
    """A request the guard refused or that did not get a usable answer.

    ``message`` is the same for every failure; ``kind`` and ``reason`` are for
    callers that decide about retries, and for the log.
    """

    status_code = 502
    title = "No usable answer"

    def __init__(self, kind: str, reason: str):
        super().__init__(NEUTRAL_MESSAGE)
        self.kind = kind
        self.reason = reason

    @property
    def retryable(self) -> bool:
        """True when trying again later may succeed (timeouts, outages)."""
        return self.kind in (TIMEOUT, UNREACHABLE, FAILED)

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class OutboundBusy(LmsError):
    """Every registration slot of this process is taken; try again soon."""

    status_code = 503
    title = "Busy, try again"

    def __init__(self):
        super().__init__(BUSY_MESSAGE)


def unusable(reason: str) -> OutboundError:
    """The neutral error for an answer that arrived but cannot be used."""
    log.warning("outbound answer not usable: %s", reason)
    return OutboundError(FAILED, reason)


# --- which addresses may be contacted -------------------------------------------


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
    if not _LOOKUPS.acquire(blocking=False):
        raise OutboundError(TIMEOUT, f"{host}: {MAX_LOOKUPS} name lookups in flight")

    def lookup():
        try:
            found["answers"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            found["error"] = error
        finally:
            _LOOKUPS.release()  # when the resolver answers, however late

    worker = threading.Thread(target=lookup, name="lms_plugin-resolve", daemon=True)
    worker.start()
    worker.join(_remaining(None, httpcore.ConnectTimeout))
    if worker.is_alive():
        raise OutboundError(TIMEOUT, f"{host} did not resolve before the deadline")
    if "error" in found:
        raise OutboundError(UNREACHABLE, f"{host} does not resolve: {found['error']}")
    return found["answers"]


# --- the transport: connect to the checked address, within the deadline ---------


def _remaining(timeout: float | None, error=httpcore.ReadTimeout) -> float | None:
    """``timeout`` shortened to what is left before the request's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the request's deadline.

    A server dripping one byte at a time satisfies any per-read timeout; the
    deadline does not move, so the drip is cut off when it passes.
    """

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        # CPython's ssl holds the whole handshake to the socket timeout (one
        # deadline, not per read), so shortening the timeout bounds a dripped
        # handshake too.
        timeout = _remaining(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, timeout)
        )

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the policy allows."""

    def __init__(self, policy: Policy, loopback_only: bool):
        self._policy = policy
        self._loopback_only = loopback_only
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ):
        failure = None
        for ip in checked_addresses(host, port, self._policy, self._loopback_only):
            try:
                stream = self._sockets.connect_tcp(
                    str(ip),  # the checked address, never the name again
                    port,
                    timeout=_remaining(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                failure = error  # try the host's next address
                continue
            return _DeadlineStream(stream)
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise OutboundError(REFUSED, "unix sockets are not an outbound target")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _Body(httpx.SyncByteStream):
    def __init__(self, stream):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport: https anywhere allowed, http only to loopback."""

    def __init__(self, policy: Policy):
        self._policy = policy
        context = httpx.create_ssl_context()  # certifi, or SSL_CERT_FILE/_DIR
        self._pools = {
            b"https": httpcore.ConnectionPool(
                ssl_context=context,
                network_backend=_GuardedBackend(policy, loopback_only=False),
                keepalive_expiry=30,
            ),
            b"http": httpcore.ConnectionPool(
                network_backend=_GuardedBackend(policy, loopback_only=True),
                keepalive_expiry=30,
            ),
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.raw_scheme
        if scheme == b"http" and not self._policy.allow_loopback:
            raise OutboundError(REFUSED, f"plain http to {request.url.host}")
        if scheme not in self._pools:
            raise OutboundError(REFUSED, f"scheme {request.url.scheme!r}")
        answer = self._pools[scheme].handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


# --- the client callers use -----------------------------------------------------


@dataclass
class Response:
    """A complete answer (status 1xx, 2xx, 4xx or 5xx; never a redirect)."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str
    links: dict
    max_bytes: int

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def reason(self) -> str:
        return httpx.codes.get_reason_phrase(self.status_code)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> object:
        """The body as JSON, depth-limited; ``JsonLimitError`` (ValueError) if not."""
        return safejson.loads(self.content, max_bytes=self.max_bytes)


#: Library exceptions and the kind of failure each is.
_KINDS = (
    ((httpcore.TimeoutException, httpx.TimeoutException), TIMEOUT),
    ((httpcore.ConnectError, httpx.ConnectError), UNREACHABLE),
    ((httpcore.NetworkError, httpcore.ProtocolError, httpx.HTTPError), FAILED),
    ((httpx.InvalidURL, httpx.StreamError, OSError, UnicodeError), FAILED),
)


class Client:
    """Guarded requests with one User-Agent; reuses connections until closed.

    ``limit`` names a per-process slot pool (``"registration"``) a request must
    get a slot from, or be refused with :class:`OutboundBusy`.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        user_agent: str,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        slots: threading.BoundedSemaphore | None = None,
    ):
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._slots = slots
        self._http = httpx.Client(
            transport=GuardedTransport(policy),
            follow_redirects=False,
            trust_env=False,  # no proxies or netrc from the environment
            timeout=httpx.Timeout(deadline),
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, url: str, **kwargs) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> Response:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict | None = None,
        data: dict | str | bytes | None = None,
        json: object = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; the answer, or :class:`OutboundError` for any failure.

        ``data``: a dict is sent as a form, text or bytes as the body as it is.
        ``timeout``: this request's deadline in seconds (default: the client's).
        """
        body = {"data": data} if isinstance(data, dict) else {"content": data}
        if self._slots is not None and not self._slots.acquire(blocking=False):
            log.warning("outbound %s %s refused: every slot is busy", method, url)
            raise OutboundBusy()
        token = _deadline.set(time.monotonic() + (timeout or self.deadline))
        try:
            return self._exchange(method, url, headers, json=json, **body)
        except OutboundError as error:
            log.warning("outbound %s %s failed: %s", method, url, error)
            raise
        except tuple(e for errors, _ in _KINDS for e in errors) as error:
            kind = next(k for errors, k in _KINDS if isinstance(error, errors))
            log.warning("outbound %s %s failed: %s %r", method, url, kind, error)
            raise OutboundError(kind, f"{type(error).__name__}: {error}") from None
        finally:
            _deadline.reset(token)
            if self._slots is not None:
                self._slots.release()

    def _exchange(self, method, url, headers, **body) -> Response:
        with self._http.stream(method, url, headers=headers, **body) as answer:
            if answer.is_redirect or 300 <= answer.status_code < 400:
                raise OutboundError(
                    REDIRECT,
                    f"HTTP {answer.status_code} to "
                    f"{answer.headers.get('Location', '(no Location)')}",
                )
            encoding = answer.headers.get("Content-Encoding", "identity").lower()
            if encoding != "identity":
                raise OutboundError(FAILED, f"unasked Content-Encoding {encoding}")
            content = self._read(answer)
            return Response(
                status_code=answer.status_code,
                headers=answer.headers,
                content=content,
                url=str(answer.url),
                links=answer.links,
                max_bytes=self.max_bytes,
            )

    def _read(self, answer: httpx.Response) -> bytes:
        declared = answer.headers.get("Content-Length", "")
        if _too_large(declared, self.max_bytes):
            raise OutboundError(TOO_LARGE, f"Content-Length {declared[:40]}")
        chunks, size = [], 0
        for chunk in answer.iter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise OutboundError(TOO_LARGE, f"over {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _too_large(declared: str, max_bytes: int) -> bool:
    """A Content-Length over ``max_bytes``; ASCII digits only, never int() of 5,000."""
    if not (declared.isascii() and declared.isdigit()):
        return False  # no usable length: the streamed read still caps the size
    return len(declared) > 18 or int(declared) > max_bytes


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


def init_app(app: Flask) -> None:
    """Check the outbound settings and make this process's registration slots."""
    parse_networks(app.config["OUTBOUND_ALLOWED_NETWORKS"])  # fail at start if bad
    slots = int(app.config["OUTBOUND_REGISTRATION_CONCURRENCY"])
    app.extensions["lms_plugin.outbound"] = {
        "registration_slots": threading.BoundedSemaphore(max(1, slots))
    }
