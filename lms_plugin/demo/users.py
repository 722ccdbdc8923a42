"""Who is using the demo LMS, and CSRF tokens for its forms.

The demo keeps its own signed cookie (path ``/demo``), apart from the tool's
session: a real LMS and a tool never share a session, and the tool may reset its
own at every launch.
"""

import hmac
import secrets

from flask import current_app
from flask import g
from flask import request
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from lms_plugin.demo.models import Person
from lms_plugin.demo.seed import learners
from lms_plugin.errors import LmsError

COOKIE = "demo_lms"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="lms_plugin.demo.user")


def _state() -> dict:
    if "demo_state" not in g:
        try:
            state = _serializer().loads(request.cookies.get(COOKIE, ""))
        except BadSignature:
            state = {}
        g.demo_state = state if isinstance(state, dict) else {}
        g.demo_state_dirty = False
    return g.demo_state


def _set(**values) -> None:
    _state().update(values)
    g.demo_state_dirty = True


def current_person() -> Person:
    """The person using the demo now (the first learner until someone is picked)."""
    person = Person.get_or_none(Person.sub == _state().get("sub"))
    return person or learners()[0]


def pick_person(sub: str) -> Person:
    """Make ``sub`` the current person."""
    person = Person.get_or_none(Person.sub == sub)
    if person is None:
        raise LmsError("There is no such person in the demo course.")
    _set(sub=person.sub)
    return person


def csrf_token() -> str:
    """This browser's CSRF token for demo forms."""
    token = _state().get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        _set(csrf=token)
    return token


def check_csrf() -> None:
    """Refuse a form post without this browser's CSRF token."""
    sent = request.form.get("csrf_token", "")
    expected = _state().get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise LmsError(
            "The form expired or did not come from this page. Reload the page and "
            "try again.",
            status_code=400,
        )


def save_cookie(response):
    """Write the demo cookie when this request changed it."""
    if g.get("demo_state_dirty"):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.demo_state),
            path="/demo",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response
