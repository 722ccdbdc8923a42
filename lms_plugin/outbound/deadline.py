"""One deadline per request, across name lookup, connecting, sending and every read.

:func:`start` sets it for the current request (a context variable, so threads
and requests never share one); :func:`left` says how many seconds remain.
"""

import contextvars
import time

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "lms_plugin_outbound_deadline", default=None
)


def start(seconds: float) -> contextvars.Token:
    """Set the current request's deadline ``seconds`` from now."""
    return _deadline.set(time.monotonic() + seconds)


def end(token: contextvars.Token) -> None:
    _deadline.reset(token)


def left() -> float | None:
    """Seconds before the current request's deadline (None: no deadline set)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
