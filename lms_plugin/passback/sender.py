"""The sender: deliver claimed outbox rows over AGS, in a thread or a worker process.

For each row: skip it if a newer score for the same user and line item exists,
find or create the line item when the launch gave only the container, post the
score, and record the outcome (sent; retry later with backoff or at the
platform's ``Retry-After``; failed with the platform's reason).
"""

import json
import logging
import threading
import time

from flask import Flask

from lms_plugin import outbound
from lms_plugin.db import database
from lms_plugin.db import is_postgres
from lms_plugin.lti.registration import keys
from lms_plugin.lti.registration.platform_keys import USER_AGENT
from lms_plugin.lti.services.ags import SCOPE_LINEITEM
from lms_plugin.lti.services.ags import SCOPE_LINEITEM_READONLY
from lms_plugin.lti.services.ags import SCOPE_SCORE
from lms_plugin.lti.services.ags import AgsClient
from lms_plugin.lti.services.ags import AgsError
from lms_plugin.lti.services.ags import score_document
from lms_plugin.models.content import Module
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.passback import outbox

log = logging.getLogger(__name__)

GRADE_SYNC_ONLY = (
    "The platform lets this tool send scores only into an existing grade column "
    "(AGS without the line item scope, e.g. Moodle's 'grade sync only'), and the "
    "launch named no column for this link. Add the module through the tool's "
    "content selection (Deep Linking), which creates the column, or let the tool "
    "manage columns in the platform's tool settings; then requeue the score."
)


#: Seconds after which a batch's superseded check is done again.
RECHECK_SECONDS = 1.0


class Settings:
    """The PASSBACK_* configuration a sender needs, read once from the app."""

    def __init__(self, config):
        self.batch = int(config["PASSBACK_BATCH"])
        self.max_attempts = int(config["PASSBACK_MAX_ATTEMPTS"])
        self.backoff_base = float(config["PASSBACK_BACKOFF_BASE"])
        self.backoff_max = float(config["PASSBACK_BACKOFF_MAX"])
        self.lease = float(config["PASSBACK_LEASE_SECONDS"])
        self.timeout = float(config["PASSBACK_HTTP_TIMEOUT"])
        self.poll = float(config["PASSBACK_POLL_SECONDS"])


class Sender:
    """Claims and delivers batches; one per thread or worker process."""

    def __init__(self, app: Flask, batch: int | None = None):
        self.app = app
        self.settings = Settings(app.config)
        if batch:
            self.settings.batch = batch
        # Keep-alive across a batch; each call ends by PASSBACK_HTTP_TIMEOUT.
        self.http = outbound.client(USER_AGENT, deadline=self.settings.timeout, app=app)
        self.stop = threading.Event()
        self.counts = {"sent": 0, "retry": 0, "failed": 0, "superseded": 0}

    def run_once(self) -> int:
        """Claim one batch and deliver it; return how many rows were claimed."""
        with self.app.app_context(), database.connection_context():
            token, rows = outbox.claim_batch(self.settings.batch, self.settings.lease)
            try:
                self._deliver_all(token, rows)
            finally:
                if rows:
                    outbox.release(token)  # rows left when stopping mid-batch
        return len(rows)

    def drain(self) -> dict:
        """Deliver until nothing is due (or stopped); return outcome counts."""
        while not self.stop.is_set() and self.run_once():
            pass
        return self.counts

    def run_forever(self) -> None:
        """Deliver until stopped, waiting ``PASSBACK_POLL_SECONDS`` when idle."""
        while not self.stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # a database outage must not end the sender
                log.exception("grade passback sender: batch failed; retrying")
                claimed = 0
            if not claimed:
                self.stop.wait(self.settings.poll)

    def _deliver_all(self, token: str, rows: list) -> None:
        clients: dict[int, AgsClient] = {}
        started = time.monotonic()
        superseded, checked = outbox.superseded_among(rows), time.monotonic()
        for index, row in enumerate(rows):
            if self.stop.is_set():
                return
            if time.monotonic() - checked > RECHECK_SECONDS:  # a slow batch
                superseded = outbox.superseded_among(rows[index:])
                checked = time.monotonic()
            if time.monotonic() - started > self.settings.lease / 2:
                outbox.extend_lease(token, self.settings.lease)
                started = time.monotonic()
            client = clients.get(row.registration_id)
            if client is None:
                client = AgsClient(row.registration, self.http, self.settings.timeout)
                clients[row.registration_id] = client
            try:
                outcome = self.deliver(row, client, row.id in superseded)
            except Exception as error:  # a bug must not requeue the row forever
                log.exception("score %s: unexpected error", row.id)
                outcome = self._failed_attempt(
                    row, AgsError(f"unexpected error: {error}", retryable=True)
                )
            self.counts[outcome] += 1

    def deliver(self, row, client: AgsClient, superseded: bool = False) -> str:
        """Deliver one claimed row; return sent, retry, failed or superseded.

        ``superseded``: a newer score for the same user and line item is sent or
        queued (checked for the whole batch, and again when a batch runs slow).
        """
        if superseded:
            outbox.mark_superseded(row)
            return "superseded"
        scopes = _granted(row.context)
        if SCOPE_SCORE not in scopes:
            return self._fail(row, "The platform did not grant the AGS score scope.")
        try:
            url = row.lineitem_url or resolve_lineitem(row, client, scopes)
            client.post_score(url, score_document(row), scopes)
        except AgsError as error:
            return self._failed_attempt(row, error)
        except _Refused as refused:
            return self._fail(row, str(refused))
        outbox.mark_sent(row)
        return "sent"

    def _failed_attempt(self, row, error: AgsError) -> str:
        attempts = row.attempts + 1
        if not error.retryable or attempts >= self.settings.max_attempts:
            reason = error.reason
            if error.retryable:
                reason = f"gave up after {attempts} attempts; last: {reason}"
            return self._fail(row, reason, counted=True)
        delay = error.retry_after
        if delay is None:
            s = self.settings
            delay = outbox.backoff_delay(attempts, s.backoff_base, s.backoff_max)
        outbox.mark_retry(row, error.reason, delay)
        log.info("score %s: retry in %.1f s: %s", row.id, delay, error.reason)
        return "retry"

    def _fail(self, row, reason: str, counted: bool = False) -> str:
        outbox.mark_failed(row, reason, counted=counted)
        log.warning("score %s failed: %s", row.id, reason)
        return "failed"


class _Refused(Exception):
    """The row cannot be delivered as things stand (no line item possible)."""


def _granted(context: LtiContext) -> list[str]:
    try:
        scopes = json.loads(context.ags_scopes or "[]")
    except ValueError:
        return []
    return [s for s in scopes if isinstance(s, str)]


def resolve_lineitem(row, client: AgsClient, scopes: list[str]) -> str:
    """The line item URL for ``row``: the link's, found by resourceId, or created.

    On PostgreSQL this runs under a lock on the context row, so two senders do
    not both create a line item for the same link. The platform checks the
    token request made meanwhile against the tool's JWKS, which it reads over
    HTTP from another connection: the signing key must be committed before the
    lock's transaction begins (the first key, created inside it, would be
    missing from /lti/jwks until the commit). SQLite has no row lock to take,
    and a transaction there would hold the database's write lock across the
    platform's answers as soon as anything in it wrote (the first key, a
    cached token): every other writer waited, the JWKS request of a platform
    served by this very process too (the demo's first grade). So only the
    writes that store the answer share one, after the platform has answered.
    """
    if not is_postgres():
        url = _stored_lineitem(row) or _find_or_create(row, client, scopes)
        with database.atomic():
            outbox.remember_lineitem(row, url)
        return url
    keys.signing_key()  # committed now, so published before the platform asks
    with database.atomic():
        LtiContext.select(LtiContext.id).where(
            LtiContext.id == row.context_id
        ).for_update().execute()
        url = _stored_lineitem(row) or _find_or_create(row, client, scopes)
        outbox.remember_lineitem(row, url)
    return url


def _stored_lineitem(row) -> str | None:
    if not row.resource_link_id:
        return None
    return (
        LtiResourceLink.select(LtiResourceLink.lineitem_url)
        .where(LtiResourceLink.id == row.resource_link_id)
        .scalar()
    )


def _find_or_create(row, client: AgsClient, scopes: list[str]) -> str:
    if not row.lineitems_url:
        raise _Refused("The launch gave neither a line item nor a line item container.")
    can_read = SCOPE_LINEITEM in scopes or SCOPE_LINEITEM_READONLY in scopes
    if not can_read:
        raise _Refused(GRADE_SYNC_ONLY)
    link = row.resource_link
    link_id = link.id_on_platform if link else None
    url = client.find_lineitem(row.lineitems_url, row.module_slug, link_id, scopes)
    if url:
        return url
    if SCOPE_LINEITEM not in scopes:
        raise _Refused(GRADE_SYNC_ONLY)
    lineitem = {
        "scoreMaximum": row.score_maximum or 100,
        "label": _label(row.module_slug, link),
        "resourceId": row.module_slug,
        "tag": "lms_plugin",
    }
    if link_id:
        lineitem["resourceLinkId"] = link_id
    return client.create_lineitem(row.lineitems_url, lineitem, scopes)


def _label(module_slug: str, link) -> str:
    """The new column's name: the module's title, else the link's, else the id."""
    module = Module.get_or_none(Module.slug == module_slug)
    if module is not None:
        return module.current().title
    return link.title if link and link.title else module_slug


# --- the embedded sender thread ------------------------------------------------

_thread_lock = threading.Lock()


def start_thread(app: Flask) -> threading.Thread:
    """Start the app's sender thread unless it is running already."""
    state = app.extensions["lms_plugin.passback"]
    with _thread_lock:
        thread = state.get("thread")
        if thread is not None and thread.is_alive():
            return thread
        sender = Sender(app)
        thread = threading.Thread(
            target=sender.run_forever, name="lms_plugin-passback", daemon=True
        )
        state.update(thread=thread, sender=sender)
        thread.start()
    log.info("grade passback sender thread started")
    return thread


def stop_thread(app: Flask, timeout: float = 10) -> None:
    """Ask the app's sender thread to stop, and wait for it."""
    state = app.extensions["lms_plugin.passback"]
    sender, thread = state.get("sender"), state.get("thread")
    if sender is not None:
        sender.stop.set()
    if thread is not None:
        thread.join(timeout)
