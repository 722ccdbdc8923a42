"""The request edge: refuse, before any view runs, text no database column can hold.

PostgreSQL's ``text`` cannot store NUL (U+0000): psycopg raises ``DataError``
as soon as such a value is bound, even in a ``WHERE`` clause, so a NUL anywhere
a view looks up or writes a value would be a 500. Lone surrogates
(U+D800-U+DFFF) cannot be encoded as UTF-8 at all. SQLite accepts both, so
without this check the same request would behave differently per database.

What Werkzeug gives a view, and so what is checked here:

- the path: percent-decoded by the WSGI server; invalid UTF-8 there becomes
  U+FFFD, so only NUL (``%00``) can get through;
- the query string and form fields (names and values): Werkzeug leaves an
  invalid UTF-8 escape such as ``%ED%A0%80`` as those literal characters (and
  decodes raw bytes with replacement), so again only NUL can get through; the
  raw query string is searched without parsing it, and a form is read only
  when the request says it carries one (CSRF and pylti1p3 read it anyway);
- headers, cookies included: HTTP forbids NUL in field values (RFC 9110 §5.5),
  so any header with one is refused. A quoted cookie value may still spell one
  as an octal escape (``"\\000"``), which Werkzeug decodes: when the Cookie
  header has a backslash, the parsed cookies are checked too;
- a JSON body: ``\\u0000`` and unpaired ``\\ud800`` escapes decode to exactly
  the characters above, and nesting can exhaust the parser's recursion, so the
  body is parsed by :mod:`lms_plugin.safejson` and every string checked.

An id_token is a form field in base64, so its decoded claims are checked where
they are decoded (``lms_plugin.lti.launch.adapter``), with :func:`find_unstorable`.
"""

import re

from flask import Flask
from flask import request
from werkzeug.routing import IntegerConverter

from lms_plugin import safejson
from lms_plugin.errors import LmsError

#: Characters PostgreSQL text (and UTF-8) cannot hold.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class UnstorableInput(LmsError):
    """A request carrying characters the tool cannot store or look up."""

    status_code = 400
    title = "The request could not be read"


def _refuse(where: str) -> UnstorableInput:
    return UnstorableInput(
        f"The {where} of this request contains characters the tool cannot accept "
        "(a NUL byte or broken Unicode). Go back and try again from the course page.",
        detail=f"refused at the edge: unstorable character in the {where}",
    )


def find_unstorable(value, depth: int = 0) -> bool:
    """True when ``value`` or any string inside it (keys too) holds such a character.

    ``value`` is decoded JSON within safejson's depth limit, so the recursion is
    bounded.
    """
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(find_unstorable(k) or find_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(find_unstorable(item) for item in value)
    return False


def _check_form() -> None:
    # Only NUL can reach a form (see above), and ``in`` is a memchr: a regular
    # expression took 27 µs over a 4.5 kB id_token, this takes well under one.
    for name, values in request.form.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise _refuse("form")


def _check_json() -> None:
    if (request.content_length or 0) > safejson.MAX_BYTES:
        raise UnstorableInput(
            "The JSON sent with this request is too large.", status_code=413
        )
    data = request.get_data(cache=True)
    if not data:
        return
    try:
        document = safejson.loads(data)
    except safejson.JsonLimitError as error:
        raise UnstorableInput(
            "The JSON sent with this request is malformed, too large or nested "
            "too deeply.",
            detail=str(error),
        ) from None
    if find_unstorable(document):
        raise _refuse("JSON body")


def check_request() -> None:
    """Refuse the request with a 400 when any part of it holds unstorable text."""
    environ = request.environ
    if "\x00" in environ.get("PATH_INFO", ""):
        raise _refuse("address")
    query = environ.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:  # escaped, or raw from a lax client
        raise _refuse("query string")
    for key, value in environ.items():
        if key[:5] == "HTTP_" and "\x00" in value:
            raise _refuse("headers")
    if "\\" in environ.get("HTTP_COOKIE", ""):  # an escape Werkzeug will decode
        if any(UNSTORABLE.search(value) for value in request.cookies.values()):
            raise _refuse("cookies")
    if not environ.get("CONTENT_TYPE"):  # most GETs: no body to look at
        return
    if request.mimetype in _FORM_TYPES:
        _check_form()
    elif request.is_json:
        _check_json()


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` for row ids: one to eighteen ASCII digits, else a 404.

    Werkzeug's own converter matches any Unicode digit (``\\d``, so ``٣`` is 3)
    with no upper bound: ``int()`` of 5,000 digits raises ValueError (a 500) and
    a value past 2**63 - 1 cannot be bound by SQLite (OverflowError). Eighteen
    digits stay below 2**63 and leave every id the tables can hold; a longer
    path simply matches no route.
    """

    regex = r"[0-9]{1,18}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, max, signed=False)


def init_app(app: Flask) -> None:
    """Check every request before any other hook (CSRF, the database) sees it.

    Called before any blueprint adds its rules, so every ``<int:…>`` is bounded.
    """
    app.url_map.converters["int"] = DatabaseIntConverter
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
