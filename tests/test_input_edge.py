"""Input anyone can send is a 4xx, never a 500, on SQLite and PostgreSQL alike.

The cases of issue 13 item 4: NUL bytes in paths, query strings, forms, headers
and JSON (PostgreSQL cannot store them, psycopg raises DataError on binding),
ids past the integer range, and id_tokens nested deeper than the JSON parser
can recurse. Quiz answers are in ``test_quiz_answers.py``.
"""

import io
import json

import pytest

from lms_plugin.db import database
from lms_plugin.models.lti import LtiResourceLink
from tests.factories import make_quiz_module
from tests.instructor_helpers import launch_as
from tests.learner_helpers import SLUG
from tests.learner_helpers import csrf
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER
from tests.lti_platform import b64url
from tests.lti_platform import login_params
from tests.lti_platform import post_launch
from tests.lti_platform import start_login

NUL = "\x00"
HUGE = "9" * 5000


@pytest.fixture
def app(make_app):
    """The tool as production runs it: errors become pages, none propagate."""
    return make_app(PROPAGATE_EXCEPTIONS=False)


@pytest.fixture
def module(app):
    with database.connection_context():
        return make_quiz_module(pages=2, questions=2, slug=SLUG)


@pytest.fixture
def instructor(app, platform, module):
    return launch_as(app, platform, "teacher-1", INSTRUCTOR)


def refused(response, status=400) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    return body


# --- anonymous --------------------------------------------------------------


def test_nul_in_the_launch_state_is_a_400(client, platform):
    response = post_launch(client, "state-\x00x", "a.b.c")
    assert "cannot accept" in refused(response)


def test_nul_in_the_login_issuer_is_a_400(client, platform):
    params = login_params(platform, iss=platform.issuer + NUL)
    refused(client.post("/lti/login", data=params))
    refused(client.get("/lti/login", query_string=params))


@pytest.mark.parametrize(
    "where",
    [
        {"path": "/lti/launch?state=%00"},
        {"path": "/lti/resume?ticket=a%00"},
        {"path": "/healthz", "headers": {"X-Anything": "a\x00b"}},
        {"path": "/learn/", "headers": {"Cookie": "session=a\x00b"}},
        # An octal escape in a quoted value: Werkzeug decodes it to a NUL.
        {"path": "/lti/launch", "headers": {"Cookie": 'lti1p3-state-x="a\\000b"'}},
    ],
    ids=["query", "query-resume", "header", "cookie", "cookie-escaped"],
)
def test_nul_anywhere_in_a_request_is_a_400(app, where):
    client = app.test_client(use_cookies=False)  # else it replaces Cookie headers
    refused(client.get(where["path"], headers=where.get("headers")))


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"note": "a\x00b"}},
        {"data": {"a\x00b": "note"}},
        {"data": {"other": "a\x00b"}, "upload": True},
    ],
    ids=["value", "name", "multipart"],
)
def test_nul_in_a_form_is_refused_before_csrf_and_sign_in(client, body):
    data = dict(body["data"])
    if body.get("upload"):  # a file makes the client send multipart/form-data
        data["note"] = (io.BytesIO(b"x"), "note.txt")
    response = client.post("/instructor/roster/refresh", data=data)
    assert "cannot accept" in refused(response)


def test_invalid_utf8_escapes_are_not_refused_as_unstorable(client):
    # Werkzeug turns them into U+FFFD (path) or leaves them as text (query).
    assert client.get("/lti/jwks?x=%ED%A0%80%FF").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": "\\u0000"}',
        '{"a": "\\ud800"}',
        "{not json",
    ],
    ids=["deep", "nul-escape", "lone-surrogate", "malformed"],
)
def test_hostile_json_bodies_are_a_400(client, body):
    response = client.post(
        "/lti/login", data=body, headers={"Content-Type": "application/json"}
    )
    refused(response)


def test_a_json_body_over_the_limit_is_a_413(client):
    body = json.dumps({"a": "x" * 1_000_001})
    response = client.post(
        "/lti/login", data=body, headers={"Content-Type": "application/json"}
    )
    refused(response, 413)


def _token(header: dict | str, body: dict | str) -> str:
    def part(value):
        return b64url((value if isinstance(value, str) else json.dumps(value)).encode())

    return f"{part(header)}.{part(body)}.c2ln"


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ({"alg": "RS256", "kid": "k"}, "[" * 200_000 + "]" * 200_000),
        ({"alg": "RS256", "kid": "k"}, '{"iss": "x", "aud": "y", "a":' * 5000),
        ({"alg": "RS256", "kid": "k"}, {"iss": "x\u0000", "aud": "y"}),
        ({"alg": "RS256", "kid": "k"}, '{"iss": "x", "aud": "y", "n": "\\udfff"}'),
        ({"alg": "RS256", "kid": "k"}, {"iss": ["x"], "aud": "y"}),
        ({"alg": "RS256", "kid": "k"}, {"iss": "x", "aud": {"y": 1}}),
        ({"alg": "RS256", "kid": ["k"]}, {"iss": "x", "aud": "y"}),
        ({"alg": "RS256", "kid": "k"}, ["not", "an", "object"]),
    ],
    ids=[
        "nested-200000",
        "nested-unclosed",
        "nul-claim",
        "lone-surrogate-claim",
        "iss-list",
        "aud-object",
        "kid-list",
        "payload-list",
    ],
)
def test_hostile_id_tokens_are_refused_before_their_signature(
    client, platform, header, body
):
    state, _nonce = start_login(client, platform)
    refused(post_launch(client, state, _token(header, body)))


# --- signed in ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/learn/modules/a%00b",
        "/lti/deep-linking/%00",
        "/instructor/modules/a%00b/statistics",
        "/learn/modules/m01-test/pages/%00",
    ],
)
def test_nul_in_a_signed_in_path_is_a_400(instructor, path):
    refused(instructor.get(path))


def test_nul_in_the_quiz_start_key_is_a_400(app, platform, module):
    client = launch_as(app, platform, "learner-1", LEARNER)
    key = "k" * 20 + NUL
    response = client.post(
        f"/learn/modules/{SLUG}/quiz/start",
        data={"csrf_token": csrf(client), "key": key},
    )
    refused(response)


def test_nul_in_the_chosen_module_is_a_400(instructor):
    with database.connection_context():
        link = LtiResourceLink.get()
    response = instructor.post(
        f"/lti/links/{link.id}/choose",
        data={"csrf_token": csrf(instructor), "module": "a\x00b"},
    )
    refused(response)


@pytest.mark.parametrize(
    "path",
    [
        f"/learn/attempts/{HUGE}",
        "/learn/attempts/9223372036854775808",
        "/learn/attempts/\u0663",  # ARABIC-INDIC DIGIT THREE: \d, and int() reads it
        f"/instructor/scores/{HUGE}/resend",
        f"/lti/links/{HUGE}/choose",
    ],
    ids=["5000-digits", "past-int64", "arabic-indic-3", "score", "link"],
)
def test_ids_past_the_integer_range_are_not_found(instructor, path):
    method = instructor.post if path.endswith("resend") else instructor.get
    refused(method(path, data={"csrf_token": csrf(instructor)}), 404)
