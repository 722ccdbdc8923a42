"""One-time launch tickets: the way back in when the LMS frame withholds our cookie.

A separate test client without the launch's cookies plays the browser that blocks
third-party cookies; a third one plays the new top-level window.
"""

import datetime
import hashlib
import html
import json
import logging
import re
import threading
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.lti.launch import tickets
from lms_plugin.models.lti import LaunchState
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiResourceLink
from tests.factories import make_quiz_module
from tests.learner_helpers import SLUG
from tests.learner_helpers import launch_into

BLOCKED = "blocking the tool's cookies inside the course page"
REFUSED = "expired or was already used"


@pytest.fixture
def module(app):
    with database.connection_context():
        return make_quiz_module(pages=2, questions=2, slug=SLUG)


def text(response) -> str:
    """The page as people read it (entities decoded)."""
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def ticket_of(url: str, name: str = tickets.LANDING_PARAM) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


def ticket_rows() -> list[LaunchState]:
    with database.connection_context():
        return list(LaunchState.select().where(LaunchState.key.startswith("ticket-")))


def launched(client, platform):
    """A learner launch on a link bound to the module: its landing URL, with ticket."""
    response = launch_into(client, platform)
    assert response.status_code == 303, text(response)
    assert response.location.startswith(f"/learn/modules/{SLUG}?lti_ticket=")
    return response.location


def resume_link(page: str) -> str:
    match = re.search(r'<a class="button" href="(/lti/resume\?ticket=[^"]+)"', page)
    assert match, page
    return match.group(1)


def test_a_launch_mints_a_ticket_stored_only_as_a_hash(client, platform, module):
    ticket = ticket_of(launched(client, platform))
    selector, verifier = ticket.split(".")
    assert len(verifier) == 43  # 32 random bytes, base64url
    (row,) = ticket_rows()
    assert row.key == "ticket-" + selector
    stored = json.loads(row.value)
    assert verifier not in row.value
    assert stored["hash"] == hashlib.sha256(verifier.encode()).hexdigest()
    assert stored["landing"] == f"/learn/modules/{SLUG}"
    with database.connection_context():
        link = LtiResourceLink.get()
    assert (stored["link"], stored["context"]) == (link.id, link.context_id)
    lifetime = row.expires_at - utcnow()
    assert datetime.timedelta(seconds=100) < lifetime <= datetime.timedelta(minutes=2)


def test_with_the_cookie_the_ticket_is_spent_and_stripped(client, platform, module):
    landing = launched(client, platform)
    response = client.get(landing)
    assert response.status_code == 303
    assert response.location == f"/learn/modules/{SLUG}"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert ticket_rows() == []
    assert client.get(response.location).status_code == 200
    # Spent: a reload of the ticketed URL with the session just strips it again.
    assert client.get(landing).location == f"/learn/modules/{SLUG}"


def test_other_query_parameters_survive_stripping(client, platform, module):
    landing = launched(client, platform)
    response = client.get(landing + "&tab=notes")
    assert response.location == f"/learn/modules/{SLUG}?tab=notes"


def test_without_the_cookie_the_frame_offers_a_new_window(
    app, client, platform, module
):
    landing = launched(client, platform)
    frame = app.test_client()  # the LMS frame: the browser withheld the cookie
    page = frame.get(landing, headers={"Sec-Fetch-Dest": "iframe"})
    assert page.status_code == 200
    shown = text(page)
    assert BLOCKED in shown and "Open in a new window" in shown
    assert 'target="_blank"' in shown and "noopener" in shown
    assert "Safari" in shown and "Chrome" in shown  # how to allow cookies instead
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    new_ticket = ticket_of(resume_link(shown), "ticket")
    assert new_ticket != ticket_of(landing)
    (row,) = ticket_rows()  # the landing ticket is spent, one new one waits
    lifetime = row.expires_at - utcnow()
    assert datetime.timedelta(minutes=4) < lifetime <= datetime.timedelta(minutes=5)
    # The spent landing ticket opens nothing a second time.
    again = frame.get(landing)
    assert again.status_code == 400 and REFUSED in text(again)


def test_resume_in_a_new_window_signs_in_and_lands_on_the_module(
    app, client, platform, module
):
    landing = launched(client, platform)
    shown = text(app.test_client().get(landing))
    window = app.test_client()  # top level: first-party cookies work
    response = window.get(resume_link(shown))
    assert response.status_code == 303
    assert response.location == f"/learn/modules/{SLUG}"
    assert response.headers["Cache-Control"] == "no-store"
    page = window.get(response.location)
    assert page.status_code == 200
    assert "Start the module" in text(page), text(page)
    assert ticket_rows() == []
    with window.session_transaction() as session:
        assert session["lti_launch_id"].startswith("lti1p3-launch-")
        assert session["lti_context_id"] and session["lti_resource_link_id"]


def test_a_resume_ticket_works_once(app, client, platform, module):
    landing = launched(client, platform)
    link = resume_link(text(app.test_client().get(landing)))
    assert app.test_client().get(link).status_code == 303
    reused = app.test_client().get(link)
    assert reused.status_code == 400
    assert REFUSED in text(reused) and "open the tool again" in text(reused)


def test_an_expired_ticket_is_refused(app, client, platform, module):
    landing = launched(client, platform)
    link = resume_link(text(app.test_client().get(landing)))
    with database.connection_context():
        past = utcnow() - datetime.timedelta(seconds=1)
        LaunchState.update(expires_at=past).execute()
    response = app.test_client().get(link)
    assert response.status_code == 400 and REFUSED in text(response)


@pytest.mark.parametrize(
    "forge",
    [
        # wrong verifier: its last character changed (never to itself)
        lambda selector, verifier: (
            f"{selector}.{verifier[:-1]}" + ("B" if verifier.endswith("A") else "A")
        ),
        lambda selector, verifier: f"{selector}x.{verifier}",  # unknown selector
        lambda selector, verifier: selector,  # no verifier
        lambda selector, verifier: "",
        lambda selector, verifier: f"{selector}.{verifier}" + "A" * 200,  # too long
    ],
)
def test_a_forged_ticket_is_refused_and_spends_nothing(
    app, client, platform, module, forge
):
    landing = launched(client, platform)
    link = resume_link(text(app.test_client().get(landing)))
    selector, verifier = ticket_of(link, "ticket").split(".")
    forged = app.test_client().get(
        "/lti/resume", query_string={"ticket": forge(selector, verifier)}
    )
    assert forged.status_code == 400 and REFUSED in text(forged)
    # The real ticket still works: a forgery cannot burn it.
    assert app.test_client().get(link).status_code == 303


def test_a_ticketed_landing_without_session_or_valid_ticket_is_refused(
    app, module, platform
):
    response = app.test_client().get(f"/learn/modules/{SLUG}?lti_ticket=made.up")
    assert response.status_code == 400
    assert REFUSED in text(response) and "Traceback" not in text(response)


def test_a_resume_for_a_deactivated_registration_is_refused(
    app, client, platform, module
):
    landing = launched(client, platform)
    link = resume_link(text(app.test_client().get(landing)))
    with database.connection_context():
        LtiRegistration.update(is_active=False).execute()
    assert app.test_client().get(link).status_code == 400


def test_tickets_are_never_logged(app, client, platform, module, caplog):
    caplog.set_level(logging.DEBUG)
    landing = launched(client, platform)
    link = resume_link(text(app.test_client().get(landing)))
    app.test_client().get(link)
    app.test_client().get(link)  # refused: logged, without the ticket
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for ticket in (ticket_of(landing), ticket_of(link, "ticket")):
        # The verifier is the secret; the selector alone (in SQL debug logs) is not.
        assert ticket.split(".")[1] not in logged


def test_only_one_of_many_workers_spends_a_ticket(app):
    """Threads with their own connections race to spend one ticket: one wins."""
    grant = tickets.Grant(user=1, context=None, link=None, launch="l", landing="/")
    workers = 8
    for _round in range(5):
        with app.app_context(), database.connection_context():
            ticket = tickets.mint(grant, 60)
        start = threading.Barrier(workers)
        won = []

        def spend(start=start, won=won, ticket=ticket):
            with app.app_context(), database.connection_context():
                start.wait()
                won.append(tickets.consume(ticket))

        threads = [threading.Thread(target=spend) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert [g for g in won if g] == [grant], won
        assert len(won) == workers


def test_not_signed_in_in_a_frame_explains_blocked_cookies(app, module):
    framed = app.test_client().get(
        f"/learn/modules/{SLUG}", headers={"Sec-Fetch-Dest": "iframe"}
    )
    assert framed.status_code == 401
    shown = text(framed)
    assert "Your session with the tool was not found" in shown
    assert "blocking the tool's cookies" in shown
    assert f'href="/learn/modules/{SLUG}" target="_blank"' in shown
    assert "noopener" in shown and "Safari" in shown
    assert "Sec-Fetch-Dest" in framed.headers["Vary"]


def test_not_signed_in_top_level_keeps_the_plain_page(app, module):
    page = app.test_client().get(
        f"/learn/modules/{SLUG}", headers={"Sec-Fetch-Dest": "document"}
    )
    assert page.status_code == 401
    assert "Your session with the tool was not found" in text(page)
    assert "blocking the tool's cookies" not in text(page)
    as_json = app.test_client().get("/learn/", headers={"Accept": "application/json"})
    assert as_json.status_code == 401
    assert as_json.get_json()["error"] == "Open the tool from your course"


def test_request_logs_redact_tickets(app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    line = "GET /learn/unbound?tab=1&lti_ticket=sel.verifier HTTP/1.1"
    logging.getLogger("werkzeug").info('%s - - "%s" %s', "127.0.0.1", line, 303)
    logging.getLogger("werkzeug").info("GET /lti/resume?ticket=sel2.verifier2")
    assert "verifier" not in caplog.text
    assert "?tab=1&lti_ticket=[redacted] HTTP/1.1" in caplog.text
    assert "/lti/resume?ticket=[redacted]" in caplog.text


def test_a_session_of_another_launch_does_not_spend_the_ticket_silently(
    app, client, platform, module
):
    launched(client, platform)  # an older session in this browser
    other = app.test_client()
    landing = launched(other, platform)  # a newer launch whose cookie was lost
    page = client.get(landing)
    assert page.status_code == 200 and BLOCKED in text(page)
