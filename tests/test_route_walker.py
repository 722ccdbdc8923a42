"""A property-based walk over the whole URL map: no input makes the tool answer 5xx.

Every rule of ``app.url_map``, with the methods it allows and some it does not,
as an anonymous visitor, a learner and an instructor signed in through real
launches, on SQLite and PostgreSQL. Path variables, query strings, form fields,
JSON bodies and a header are filled with hostile values: NUL, lone surrogates
(sent as the UTF-8 bytes a browser never makes), Unicode digits, 5,000-digit
and negative numbers, very long text, odd Unicode, deeply nested JSON, empty
values, and now and then the real slug, id or CSRF token so that views get past
their first check. Errors are handled as in production (PROPAGATE_EXCEPTIONS
off) and the status code is what is asserted.

The walk is derandomized (the same examples on every run) and bounded by
``EXAMPLES_PER_RULE`` for each rule and identity, after a sweep of the values
of issue 13 through every rule. Name resolution is stubbed to loopback only, so
no request of the tool (a registration fetch, a roster call) can leave the
machine.
"""

import json
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from lms_plugin.db import database
from lms_plugin.models.lti import LtiResourceLink
from tests.factories import make_module
from tests.factories import make_page
from tests.factories import make_question
from tests.instructor_helpers import launch_as
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.learner_helpers import start
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.test_deep_linking import open_picker
from tests.test_question_templates import sample_questions

#: Random examples per rule, identity and database, after the sweep.
EXAMPLES_PER_RULE = 12
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")

HOSTILE = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "state-\x00x",
    "\ud800",
    "x\udfffy",
    "²",
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "９",  # FULLWIDTH DIGIT NINE
    "9" * 5000,
    "-1",
    "-" + "9" * 30,
    "0",
    "1e309",
    "NaN",
    "1.5",
    "x" * 20_000,
    "\u202eevil",
    "\ufeff",
    "🙂" * 50,
    "e\u0301",
    "%00",
    "%ED%A0%80",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "true",
    "null",
    "[" * 5000,
    json.dumps({"a": [[[[1]]]]}),
)
#: Swept through every rule: the values of issue 13 and their kin.
SWEEP = (
    "a\x00b",
    "x\ud800",
    "²",
    "\u0663",
    "9" * 5000,
    str(2**63),
    "-1",
    "x" * 5000,
    "",
)
#: Form and query names the views read, so hostile values reach them.
FIELDS = (
    "csrf_token",
    "key",
    "action",
    "module",
    "state",
    "id_token",
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
    "lti_storage_target",
    "lti_storage_state",
    "lti_storage_nonce",
    "lti_ticket",
    "ticket",
    "openid_configuration",
    "registration_token",
    "form_token",
    "page",
    *("q.s1", "q.m1", "q.t1", "q.x1.p1", "q.o1.i1", "q.o1.i2", "q.w1", "q.c1a"),
)


def _encode(value: str) -> str:
    """Percent-encode, surrogates as the bytes Python's codec would refuse."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _pairs(pairs) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def _text(storable: bool):
    """Hostile text; ``storable``: none with NUL or surrogates (the edge's share)."""
    text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
    return text.filter(_storable) if storable else text


def _storable(value: str) -> bool:
    return not any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value)


@st.composite
def hostile_requests(draw, rule, known: dict):
    """(method, url, body kwargs) for one hostile request to ``rule``.

    Each request has one hostile value of its own, which fills most slots (path
    variables, query and form values), so a value that breaks a view meets
    every place it could break it; the other slots get the real slug, id or
    token, or more hostile text.
    """
    # Half the requests carry nothing the edge refuses, so the views see the rest.
    storable = draw(st.booleans())
    hostile = draw(_text(storable))

    def slot(real):
        return draw(st.one_of(st.just(hostile), st.sampled_from(real), _text(storable)))

    allowed = sorted(rule.methods - {"HEAD", "OPTIONS"})
    method = draw(st.one_of(st.sampled_from(allowed), st.sampled_from(METHODS)))
    path = _fill(rule, {name: slot(known["path"]) for name in rule.arguments})
    names = st.one_of(st.sampled_from(FIELDS), _text(storable))
    query = [(draw(names), slot(known["form"])) for _ in range(draw(st.integers(0, 3)))]
    fields = [
        (draw(names), slot(known["form"])) for _ in range(draw(st.integers(0, 6)))
    ]
    if draw(st.integers(0, 4)):  # mostly past CSRF, so the view reads the rest
        fields.insert(0, ("csrf_token", known["csrf"]))
    kwargs = {"headers": {}}
    if draw(st.booleans()):
        kwargs["headers"]["Accept"] = "application/json"
    if not draw(st.integers(0, 9)):
        kwargs["headers"]["X-Hostile"] = draw(st.sampled_from(["x" * 8000, hostile]))
    kind = draw(st.sampled_from(["none", "form", "form", "multipart", "json"]))
    if kind == "form":
        kwargs["data"] = _pairs(fields).encode("ascii")
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    elif kind == "multipart":
        kwargs["data"] = _multipart(fields)
        kwargs["content_type"] = f"multipart/form-data; boundary={BOUNDARY}"
    elif kind == "json":
        kwargs["data"] = _json_body(fields, draw(st.sampled_from([3, 64, 65, 100_000])))
        kwargs["content_type"] = "application/json"
    return method, path + ("?" + _pairs(query) if query else ""), kwargs


def _json_body(fields, depth: int) -> bytes:
    """The fields as a JSON object, or an array nested ``depth`` deep."""
    text = json.dumps(dict(fields)) if fields else "[" * depth + "]" * depth
    return text.encode("utf-8", "surrogatepass")


BOUNDARY = "walker-boundary"


def _multipart(fields) -> bytes:
    body = b""
    for name, value in fields:
        disposition = f'form-data; name="{_encode(name)}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value.encode("utf-8", "surrogatepass") + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def loopback_only(monkeypatch):
    """Name resolution for loopback only: nothing the tool fetches leaves here."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in ("localhost", "127.0.0.1", "::1"):
            raise socket.gaierror(f"the route walker resolves no outside name: {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def app(make_app, loopback_only):
    """The tool as production runs it: errors become pages, none propagate."""
    return make_app(PROPAGATE_EXCEPTIONS=False)


@pytest.fixture
def world(app, platform):
    """A module with every question type, a learner with an attempt open on it,
    an instructor, and a deep-linking picker."""
    with database.connection_context():
        module = make_module(slug=SLUG)
        make_page(module, position=1, slug="p001")
        for position, data in enumerate(sample_questions(), 1):
            make_question(module, data, position=position)
    learner = launch_as(app, platform, "learner-1", LEARNER)
    attempt = start(learner)
    instructor = launch_as(app, platform, "teacher-1", INSTRUCTOR)
    picker = open_picker(app.test_client(), platform)
    with database.connection_context():
        link = LtiResourceLink.get()
    known = {
        "path": [SLUG, "p001", str(attempt.id), str(link.id), picker.rsplit("/")[-1]],
        "form": ["1", "2", SLUG, "save", "submit", "cancel", "a", "b"],
    }
    return {
        "anonymous": app.test_client(),
        "learner": learner,
        "instructor": instructor,
        "known": known,
    }


@pytest.mark.parametrize("identity", ["anonymous", "learner", "instructor"])
def test_no_input_makes_a_5xx(app, world, identity):
    client = world[identity]
    token = csrf(client) if identity != "anonymous" else "no-session"
    known = dict(world["known"], csrf=token)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        _sweep(client, rule, known)
        _walk(client, rule, known)


def _assert_no_5xx(client, method: str, url: str, **kwargs) -> None:
    response = client.open(url, method=method, **kwargs)
    assert response.status_code < 500, (
        f"{method} {url[:300]} -> {response.status_code}\n"
        + response.get_data(as_text=True)[:2000]
    )


def _sweep(client, rule, known) -> None:
    """Each value of ``SWEEP`` in every path variable, then in every query and
    form field beside the real path, by each method the rule allows and one
    it does not: the cases random examples may miss."""
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"}) + ["PUT"]
    real = {name: known["path"][0] for name in rule.arguments}
    for value in SWEEP:
        everywhere = _pairs((name, value) for name in FIELDS)
        form = _pairs([("csrf_token", known["csrf"]), *((n, value) for n in FIELDS)])
        for method in methods:
            for path, query in (
                (_fill(rule, dict.fromkeys(rule.arguments, value)), ""),
                (_fill(rule, real), "?" + everywhere),
            ):
                _assert_no_5xx(
                    client,
                    method,
                    path + query,
                    data=form.encode("ascii"),
                    content_type="application/x-www-form-urlencoded",
                )


def _fill(rule, values: dict) -> str:
    """``rule``'s path with each variable replaced by its (encoded) value."""
    path = rule.rule
    for name, value in values.items():
        for converter in ("", "int:", "path:"):
            path = path.replace(f"<{converter}{name}>", _encode(value))
    return path


def _walk(client, rule, known) -> None:
    """``EXAMPLES_PER_RULE`` hostile requests to ``rule``; fail on the first 5xx."""

    @settings(
        max_examples=EXAMPLES_PER_RULE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(hostile_requests(rule, known))
    def walk(request):
        method, url, kwargs = request
        _assert_no_5xx(client, method, url, **kwargs)

    walk()
