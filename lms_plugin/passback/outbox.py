"""The outbox of grade passback, a queue: enqueue a score, claim rows, record outcomes.

``enqueue_score`` runs inside the learner's request and transaction and only writes
a row. Senders ``claim_batch`` rows under a lease (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``; SQLite: one atomic ``UPDATE``), and every outcome is written only while
the sender still holds the row's lease. What a score may say and the document
posted for it are AGS's business (:mod:`lms_plugin.lti.services.ags`).
"""

import datetime
import hashlib
import json
import os
import random
import socket
import uuid

from peewee import JOIN
from peewee import fn

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.db import is_postgres
from lms_plugin.lti.services.ags import check_score
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import SENDING
from lms_plugin.models.passback import SENT
from lms_plugin.models.passback import SUPERSEDED
from lms_plugin.models.passback import ScorePost

ONE_MS = datetime.timedelta(milliseconds=1)


def enqueue_score(
    *,
    user,
    context,
    resource_link,
    module_slug: str,
    score_given: float,
    score_maximum: float,
    activity_progress: str,
    grading_progress: str,
    timestamp: datetime.datetime,
    comment: str | None = None,
    submission: dict | None = None,
) -> ScorePost | None:
    """Queue a score for the gradebook in the caller's transaction; None if ungraded.

    Nothing is sent here. Only learners of ``context`` are graded, and only when a
    launch gave an AGS line item (or line item container). The stored timestamp
    has millisecond precision and is never earlier than the newest one queued for
    the same user and line item.

    :raises InvalidScore: a score AGS does not allow (:func:`ags.check_score`).
    """
    check_score(score_given, score_maximum, activity_progress, grading_progress)
    if context is None or not _is_learner(user, context):
        return None
    lineitem_url = resource_link.lineitem_url if resource_link else None
    if not (lineitem_url or context.lineitems_url):
        return None
    registration = _registration_of(context)
    line_key = line_key_for(context, resource_link, module_slug)
    stamp = _monotonic(user, line_key, _to_naive_ms(timestamp))
    return ScorePost.create(
        user=user,
        context=context,
        resource_link=resource_link,
        registration=registration,
        module_slug=module_slug,
        lineitem_url=lineitem_url,
        lineitems_url=context.lineitems_url,
        line_key=line_key,
        user_sub=user.sub,
        score_given=score_given,
        score_maximum=score_maximum,
        activity_progress=activity_progress,
        grading_progress=grading_progress,
        timestamp=stamp,
        comment=comment,
        submission=json.dumps(submission) if submission else None,
        next_attempt_at=utcnow(),
    )


def _is_learner(user, context) -> bool:
    """True for a learner; on PostgreSQL also serializes enqueues per membership."""
    query = LtiMembership.select(LtiMembership.is_learner).where(
        (LtiMembership.user == user) & (LtiMembership.context == context)
    )
    if is_postgres():
        query = query.for_update()
    membership = query.first()
    return bool(membership and membership.is_learner)


def _registration_of(context) -> LtiRegistration:
    return (
        LtiRegistration.select()
        .join(LtiDeployment)
        .where(LtiDeployment.id == context.deployment_id)
        .get()
    )


def line_key_for(context, resource_link, module_slug: str) -> str:
    """A stable name of the line item a score goes to (context, link, module)."""
    link_id = resource_link.id if resource_link else ""
    raw = f"{context.id}|{link_id}|{module_slug}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _to_naive_ms(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _monotonic(user, line_key: str, stamp: datetime.datetime) -> datetime.datetime:
    """``stamp``, or 1 ms after the newest queued timestamp if that is not earlier."""
    newest = (
        ScorePost.select(fn.MAX(ScorePost.timestamp))
        .where((ScorePost.user == user) & (ScorePost.line_key == line_key))
        .scalar()
    )
    if isinstance(newest, str):  # SQLite aggregates come back as text
        newest = datetime.datetime.fromisoformat(newest)
    if newest is not None and stamp <= newest:
        return newest + ONE_MS
    return stamp


# --- senders -----------------------------------------------------------------


def claim_token() -> str:
    """A name for one claim by this process: host, pid and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _due(now):
    return ((ScorePost.status == PENDING) & (ScorePost.next_attempt_at <= now)) | (
        (ScorePost.status == SENDING) & (ScorePost.locked_until < now)
    )


def claim_batch(limit: int, lease_seconds: float) -> tuple[str, list[ScorePost]]:
    """Lease up to ``limit`` due rows to a new claim token; return both.

    Two senders never hold the same row: PostgreSQL skips rows another claim has
    locked, and SQLite runs the whole claim as one UPDATE under its write lock.
    Rows whose lease expired (a sender died) are due again.
    """
    token = claim_token()
    now = utcnow()
    ids = (
        ScorePost.select(ScorePost.id)
        .where(_due(now))
        .order_by(ScorePost.next_attempt_at, ScorePost.id)
        .limit(limit)
    )
    if is_postgres():
        ids = ids.for_update(skip_locked=True)
    with database.atomic():
        claimed = (
            ScorePost.update(
                status=SENDING,
                locked_by=token,
                locked_until=now + datetime.timedelta(seconds=lease_seconds),
            )
            .where(ScorePost.id.in_(ids))
            .execute()
        )
    if not claimed:
        return token, []
    return token, list(_with_relations().where(ScorePost.locked_by == token))


def _with_relations():
    """Rows with their context, registration and link in one query."""
    return (
        ScorePost.select(ScorePost, LtiContext, LtiRegistration, LtiResourceLink)
        .join(LtiContext)
        .switch(ScorePost)
        .join(LtiRegistration)
        .switch(ScorePost)
        .join(LtiResourceLink, JOIN.LEFT_OUTER)
        .order_by(ScorePost.timestamp, ScorePost.id)
    )


def extend_lease(token: str, lease_seconds: float) -> int:
    """Push the lease of rows still held by ``token``; return how many."""
    until = utcnow() + datetime.timedelta(seconds=lease_seconds)
    return (
        ScorePost.update(locked_until=until)
        .where((ScorePost.locked_by == token) & (ScorePost.status == SENDING))
        .execute()
    )


def release(token: str) -> int:
    """Give back rows ``token`` holds and did not finish (a sender stopping)."""
    return (
        ScorePost.update(status=PENDING, locked_by=None, locked_until=None)
        .where((ScorePost.locked_by == token) & (ScorePost.status == SENDING))
        .execute()
    )


def _finish(row: ScorePost, **values) -> bool:
    """Write ``values`` if the row is still ours; False if the lease was lost."""
    values.update(locked_by=None, locked_until=None)
    return bool(
        ScorePost.update(**values)
        .where(
            (ScorePost.id == row.id)
            & (ScorePost.locked_by == row.locked_by)
            & (ScorePost.status == SENDING)
        )
        .execute()
    )


def mark_sent(row: ScorePost) -> bool:
    """The platform accepted the score."""
    return _finish(
        row, status=SENT, sent_at=utcnow(), attempts=row.attempts + 1, last_error=None
    )


def mark_superseded(row: ScorePost) -> bool:
    """A newer score for the same user and line item is sent or on its way."""
    return _finish(row, status=SUPERSEDED, last_error=None)


def mark_failed(row: ScorePost, reason: str, *, counted: bool = True) -> bool:
    """Give up on the row, keeping the platform's reason."""
    attempts = row.attempts + (1 if counted else 0)
    return _finish(row, status=FAILED, attempts=attempts, last_error=reason)


def mark_retry(row: ScorePost, reason: str, delay: float) -> bool:
    """Try again after ``delay`` seconds."""
    return _finish(
        row,
        status=PENDING,
        attempts=row.attempts + 1,
        last_error=reason,
        next_attempt_at=utcnow() + datetime.timedelta(seconds=delay),
    )


def backoff_delay(attempts: int, base: float, cap: float, rng=random) -> float:
    """Exponential backoff with jitter: between half and all of base·2^(n-1)."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return rng.uniform(ceiling / 2, ceiling)


def superseded_among(rows: list[ScorePost]) -> set[int]:
    """Ids of ``rows`` that have a newer score sent or queued (one query)."""
    if not rows:
        return set()
    newer = ScorePost.alias()
    query = (
        ScorePost.select(ScorePost.id)
        .distinct()
        .join(
            newer,
            on=(
                (newer.user == ScorePost.user)
                & (newer.line_key == ScorePost.line_key)
                & (newer.timestamp > ScorePost.timestamp)
            ),
        )
        .where(
            ScorePost.id.in_([row.id for row in rows])
            & newer.status.in_((PENDING, SENDING, SENT))
        )
    )
    return {row.id for row in query}


def remember_lineitem(row: ScorePost, url: str) -> None:
    """Store a found or created line item on the link and on queued rows."""
    ScorePost.update(lineitem_url=url).where(
        (ScorePost.line_key == row.line_key) & ScorePost.lineitem_url.is_null()
    ).execute()
    if row.resource_link_id:
        LtiResourceLink.update(lineitem_url=url).where(
            (LtiResourceLink.id == row.resource_link_id)
            & LtiResourceLink.lineitem_url.is_null()
        ).execute()
    row.lineitem_url = url


# --- operators -----------------------------------------------------------------


def status_counts() -> dict[str, int]:
    """Rows per status."""
    query = ScorePost.select(ScorePost.status, fn.COUNT(ScorePost.id).alias("n"))
    return {row.status: row.n for row in query.group_by(ScorePost.status)}


def latest_failures(limit: int = 10) -> list[ScorePost]:
    """The most recent failed rows, newest first."""
    return list(
        ScorePost.select()
        .where(ScorePost.status == FAILED)
        .order_by(ScorePost.id.desc())
        .limit(limit)
    )


#: Statuses an operator may requeue (pending and sending rows are on their way).
REQUEUEABLE = (FAILED, SUPERSEDED, SENT)


def requeue(ids: list[int] | None = None, *, failed: bool = False) -> int:
    """Queue rows again from attempt 0: the given ids, and/or every failed row."""
    where = None
    if ids:
        where = ScorePost.id.in_(ids) & ScorePost.status.in_(REQUEUEABLE)
    if failed:
        every_failed = ScorePost.status == FAILED
        where = every_failed if where is None else (where | every_failed)
    if where is None:
        return 0
    return (
        ScorePost.update(
            status=PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            last_error=None,
            locked_by=None,
            locked_until=None,
        )
        .where(where)
        .execute()
    )
