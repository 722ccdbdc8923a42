"""The grade passback outbox: one row per score to post to a platform's gradebook.

A learner's request only inserts a :class:`ScorePost` (in the same transaction as
the attempt); senders (a thread of the server, or ``lms-plugin worker`` processes)
claim rows with a lease (``locked_by``/``locked_until``), post them over LTI AGS and
record the outcome. A sender that dies leaves its lease to expire; the row is then
claimed again.
"""

from peewee import CharField
from peewee import FloatField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from lms_plugin.clock import utcnow
from lms_plugin.db import BaseModel
from lms_plugin.db import DateTimeField
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User

PENDING = "pending"  # waiting for its next attempt
SENDING = "sending"  # claimed by a sender until locked_until
SENT = "sent"  # the platform accepted it
FAILED = "failed"  # gave up (a permanent refusal or too many attempts)
SUPERSEDED = "superseded"  # a newer score for the same user and line item won
STATUSES = (PENDING, SENDING, SENT, FAILED, SUPERSEDED)


class ScorePost(BaseModel):
    """An AGS score (spec field names in comments) and its delivery state."""

    user = ForeignKeyField(User, backref="score_posts", on_delete="CASCADE")
    context = ForeignKeyField(LtiContext, backref="score_posts", on_delete="CASCADE")
    resource_link = ForeignKeyField(
        LtiResourceLink, backref="score_posts", null=True, on_delete="CASCADE"
    )
    registration = ForeignKeyField(
        LtiRegistration, backref="score_posts", on_delete="CASCADE"
    )
    module_slug = CharField(max_length=128)  # the line item's resourceId
    lineitem_url = TextField(null=True)  # launch's `lineitem` claim, or found/created
    lineitems_url = TextField(null=True)  # container to find/create it in
    line_key = CharField(max_length=64)  # hash naming the line item (monotonicity)
    user_sub = CharField(max_length=255)  # userId
    score_given = FloatField(null=True)  # scoreGiven
    score_maximum = FloatField(null=True)  # scoreMaximum
    activity_progress = CharField(max_length=16)  # activityProgress
    grading_progress = CharField(max_length=16)  # gradingProgress
    timestamp = DateTimeField()  # naive UTC, millisecond precision, monotonic
    comment = TextField(null=True)
    # JSON AGS `submission` {startedAt, submittedAt}; Canvas' extension
    # (new_submission, submitted_at) is added when sending to Canvas.
    submission = TextField(null=True)
    status = CharField(max_length=16, default=PENDING)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    last_error = TextField(null=True)  # the platform's reason, for people
    locked_by = CharField(max_length=128, null=True)  # claim token of a sender
    locked_until = DateTimeField(null=True)  # lease end; reclaimable after it
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            # claim_batch: due pending rows, expired leases.
            (("status", "next_attempt_at"), False),
            # monotonic timestamps and superseded checks per user + line item.
            (("user", "line_key", "timestamp"), False),
        )


PASSBACK_MODELS = [ScorePost]
