"""Security headers for pages shown inside LMS iframes.

Never ``X-Frame-Options: DENY``: the tool lives in an iframe. Instead the CSP
``frame-ancestors`` lists the registered platforms' origins (issuer, login and
key-set hosts), Canvas cloud's institution domains for Canvas registrations,
and ``FRAME_ANCESTORS`` from the configuration. Each process rereads the
registrations at most every ``_TTL`` seconds (derived data, safe to hold).

A response served over https (``request.is_secure``, after ProxyFix) carries
``Strict-Transport-Security`` for ``HSTS_MAX_AGE`` seconds; plain http never
does. ``Cache-Control: no-store`` on signed-in pages is the session's business
(``lms_plugin.lti.launch.cookies``), since only it knows whether the cookie was set.
"""

import logging
import time
from urllib.parse import urlparse

from flask import Flask
from flask import current_app
from flask import request

log = logging.getLogger(__name__)
_TTL = 60.0
_cache: dict[str, tuple[float, str]] = {}

#: Canvas cloud serves each institution from its own instructure.com host.
CANVAS_CLOUD_ORIGINS = ("https://*.instructure.com",)


def _origin(url: str | None) -> str | None:
    parsed = urlparse(url or "")
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return f"{parsed.scheme}://{parsed.netloc}"
    return None


def platform_origins() -> list[str]:
    """Origins allowed to frame the tool, from registrations and configuration."""
    from lms_plugin.models.lti import LtiRegistration

    origins = set(current_app.config["FRAME_ANCESTORS"])
    query = LtiRegistration.select().where(LtiRegistration.is_active)
    for registration in query:
        for url in (
            registration.issuer,
            registration.auth_login_url,
            registration.key_set_url,
        ):
            origin = _origin(url)
            if origin:
                origins.add(origin)
        if registration.is_canvas:
            origins.update(CANVAS_CLOUD_ORIGINS)
    return sorted(origins)


def frame_ancestors(cached: bool = False) -> str:
    """The ``frame-ancestors`` source list, cached per process for a minute.

    ``cached``: the last list read however old (``'self'`` if none), never a query.
    """
    now = time.monotonic()
    last = _cache.get("value")
    if cached:
        return last[1] if last else "'self'"
    if last and now - last[0] < _TTL:
        return last[1]
    try:
        value = " ".join(["'self'", *platform_origins()])
    except Exception as error:  # a database hiccup must not break every page
        log.warning("frame-ancestors falls back to the last known list: %s", error)
        return last[1] if last else "'self'"
    _cache["value"] = (now, value)
    return value


#: Everything but frame-ancestors: only the tool's own scripts, styles and images.
CSP_BASE = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'"
)


def content_security_policy(
    extra_ancestors: tuple[str, ...] = (), cached: bool = False
) -> str:
    """The tool's CSP, letting ``extra_ancestors`` frame it too.

    ``cached``: from the last list of frame ancestors read, without a query.
    """
    ancestors = " ".join((frame_ancestors(cached), *extra_ancestors))
    return f"{CSP_BASE}; frame-ancestors {ancestors}"


#: Headers every response gets unless its view set them (name, value or maker).
_DEFAULTS = (
    ("Content-Security-Policy", content_security_policy),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def _add_headers(response):
    # One pass over the headers: Werkzeug's setdefault raises and catches a
    # KeyError for each header not there yet, on every response.
    present = {name.lower() for name, _ in response.headers}
    for name, value in _DEFAULTS:
        if name.lower() not in present:
            response.headers[name] = value() if callable(value) else value
    if request.is_secure:
        hsts = current_app.extensions[_HSTS]
        if hsts:
            response.headers["Strict-Transport-Security"] = hsts
    return response


_HSTS = "lms_plugin.hsts"


def strict_transport_security(max_age: int) -> str | None:
    """The HSTS header value for ``max_age`` seconds; None when 0 (off)."""
    max_age = int(max_age)
    return f"max-age={max_age}" if max_age > 0 else None


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    _cache.clear()
    app.extensions[_HSTS] = strict_transport_security(app.config["HSTS_MAX_AGE"])
    app.after_request(_add_headers)
