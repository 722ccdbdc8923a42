"""The guarded client's errors: one neutral message, a kind and a reason for the log."""

import logging

from lms_plugin.errors import LmsError

log = logging.getLogger("lms_plugin.outbound")

#: What the person on the page is told, whatever the failure was.
NEUTRAL_MESSAGE = (
    "The tool could not get a usable answer from that address. Check the address "
    "and try again; the tool's administrator can find the reason in its log."
)
BUSY_MESSAGE = (
    "The tool is busy with other registrations right now. Try again in a minute."
)
#: Kinds of failure; ``reason`` says the rest, for the log.
REFUSED = "refused"  # the guard: scheme or address not allowed
REDIRECT = "redirect"
TIMEOUT = "timeout"  # the deadline passed
UNREACHABLE = "unreachable"  # no connection (DNS, refused, reset, TLS)
TOO_LARGE = "too_large"
FAILED = "failed"  # the connection broke or the answer was not HTTP we read


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
