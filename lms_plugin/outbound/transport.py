"""The httpx transport that connects only to checked addresses, within the deadline.

Built on httpcore's public network-backend interface: the backend resolves and
checks the host (``addresses.checked_addresses``) and connects to exactly the
checked address, so a second DNS answer cannot move it; TLS still uses the
URL's host name. Every read and write is shortened to what is left of the
request's deadline, so a server dripping one byte at a time is cut off.
"""

import time
from collections.abc import Iterator

import httpcore
import httpx

from lms_plugin.outbound import deadline as request_deadline
from lms_plugin.outbound.addresses import Policy
from lms_plugin.outbound.addresses import checked_addresses
from lms_plugin.outbound.errors import REFUSED
from lms_plugin.outbound.errors import OutboundError


def _remaining(timeout: float | None, error=httpcore.ReadTimeout) -> float | None:
    """``timeout`` shortened to what is left before the request's deadline."""
    left = request_deadline.left()
    if left is None:
        return timeout
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
