"""Named exceptions and the handlers that turn every error into a clear page.

HTML for pages, JSON for clients that ask for it. No traceback ever reaches a user:
unexpected errors are logged with their traceback and answered with a plain 500 page.
A database that is busy or lost under a write is a 503 with ``Retry-After``.
"""

import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from lms_plugin.db import ConnectionLost

log = logging.getLogger(__name__)


class LmsError(Exception):
    """Base of the tool's own errors: a status code and a message for people."""

    status_code = 400
    title = "Something went wrong"

    def __init__(
        self, message: str, *, detail: str | None = None, status_code: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class LaunchError(LmsError):
    """An LTI launch the tool refuses; rendered by ``lms_plugin.lti`` for people.

    ``message`` is for the learner, ``detail`` for the administrator (the reason,
    also logged). ``retry_params`` are login parameters for an "open in a new
    window" button when the browser withheld the tool's cookies.
    """

    title = "This launch could not be completed"

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        status_code: int | None = None,
        title: str | None = None,
        retry_params: dict | None = None,
    ):
        super().__init__(message, detail=detail, status_code=status_code)
        if title:
            self.title = title
        self.retry_params = retry_params


def wants_json() -> bool:
    """True when the client prefers JSON to HTML."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, title: str, message: str, detail: str | None = None):
    """Answer with an error page (or JSON) carrying ``status``."""
    if wants_json():
        return jsonify(error=title, message=message, detail=detail), status
    return render_template(
        "errors/error.html", status=status, title=title, message=message, detail=detail
    ), status


def _handle_lms_error(error: LmsError):
    log.warning("%s (%s): %s", error.title, error.status_code, error.message)
    return render_error(error.status_code, error.title, error.message, error.detail)


def _handle_http_error(error: HTTPException):
    if isinstance(error, InternalServerError):
        return _handle_unexpected(error.original_exception or error)
    return render_error(error.code or 500, error.name, error.description or "")


def _handle_unexpected(error: BaseException):
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=error)
    return render_error(
        500,
        "Internal error",
        "The tool hit an unexpected problem. It has been logged; "
        "please try again, or tell your course administrator.",
    )


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(LmsError, _handle_lms_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
    app.register_error_handler(MaxConnectionsExceeded, _pool_exhausted)
    app.register_error_handler(ConnectionLost, _connection_lost)


#: Seconds a client is asked to wait before retrying when the pool was exhausted.
POOL_RETRY_AFTER = 5


def _pool_exhausted(error: MaxConnectionsExceeded):
    """503 with ``Retry-After``: every connection stayed busy for the whole wait."""
    log.warning("database pool exhausted: %s", error)
    return _unavailable(
        "Every connection to the database was in use. "
        f"Please try again in {POOL_RETRY_AFTER} seconds."
    )


def _connection_lost(error: ConnectionLost):
    """503 with ``Retry-After``: a write's connection dropped; not run twice."""
    log.warning("database connection lost under a write: %s", error)
    return _unavailable(
        "The connection to the database was lost while saving. "
        f"Please try again in {POOL_RETRY_AFTER} seconds."
    )


def _unavailable(message: str):
    """The tool-busy page with ``Retry-After``, rendered without the database.

    Rendered without the signed-in user, and its CSP names the frame ancestors
    last read (never a query that would wait for the pool again).
    """
    from lms_plugin import security

    body, status = render_error(503, "The tool is busy", message)
    return (
        body,
        status,
        {
            "Retry-After": str(POOL_RETRY_AFTER),
            "Content-Security-Policy": security.content_security_policy(cached=True),
        },
    )
