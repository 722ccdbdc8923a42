"""The guarded client callers use: :class:`Client` and its complete `Response`."""

import logging
import threading
from dataclasses import dataclass

import httpcore
import httpx

from lms_plugin import safejson
from lms_plugin.outbound import deadline as request_deadline
from lms_plugin.outbound.addresses import Policy
from lms_plugin.outbound.errors import FAILED
from lms_plugin.outbound.errors import REDIRECT
from lms_plugin.outbound.errors import TIMEOUT
from lms_plugin.outbound.errors import TOO_LARGE
from lms_plugin.outbound.errors import UNREACHABLE
from lms_plugin.outbound.errors import OutboundBusy
from lms_plugin.outbound.errors import OutboundError
from lms_plugin.outbound.transport import GuardedTransport

log = logging.getLogger("lms_plugin.outbound")

#: Defaults for a request that names no limits of its own.
DEFAULT_DEADLINE = 15.0  # seconds, connect + send + every read
DEFAULT_MAX_BYTES = 1_000_000


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
        token = request_deadline.start(timeout or self.deadline)
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
            request_deadline.end(token)
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
