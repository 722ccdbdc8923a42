"""Assignment and Grade Services 2.0 on the platform side: line items and scores.

Validation follows the spec and Canvas's stricter reading: ``userId`` must be a
learner in the course (422), ``scoreMaximum`` comes with ``scoreGiven``, and a
score older than the stored one is refused with 400 (tools must send monotonic
timestamps). No extra credit: ``scoreGiven`` above ``scoreMaximum`` is refused.
"""

import datetime
import math
from collections.abc import Mapping

from lms_plugin.demo.models import LEARNER
from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import Person
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import Score
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.models import utcnow
from lms_plugin.demo.oauth import ServiceError

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


def bad(message: str, status: int = 400) -> ServiceError:
    """A 400 (or ``status``) invalid_request error."""
    return ServiceError("invalid_request", message, status)


def line_item_json(item: LineItem, issuer: str) -> dict:
    """A line item as the AGS media type."""
    body = {
        "id": f"{issuer}/api/lineitems/{item.id}",
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    for key, value in (
        ("resourceId", item.resource_id),
        ("tag", item.tag),
        ("startDateTime", item.start_at),
        ("endDateTime", item.end_at),
    ):
        if value:
            body[key] = value
    if item.resource_link_id:
        body["resourceLinkId"] = item.resource_link.link_id
    return body


def find_line_items(args: Mapping):
    """Line items filtered by ``resource_link_id``, ``resource_id`` and ``tag``."""
    query = LineItem.select().order_by(LineItem.id)
    if args.get("resource_link_id"):
        query = query.join(ResourceLink).where(
            ResourceLink.link_id == args["resource_link_id"]
        )
    if args.get("resource_id"):
        query = query.where(LineItem.resource_id == args["resource_id"])
    if args.get("tag"):
        query = query.where(LineItem.tag == args["tag"])
    return query


def create_line_item(data) -> LineItem:
    """Create a line item from an AGS line item document."""
    fields = _line_item_fields(data)
    fields["resource_link"] = _resource_link(data.get("resourceLinkId"))
    return LineItem.create(**fields)


def update_line_item(item: LineItem, data) -> LineItem:
    """Replace a line item's fields (PUT); its resource link cannot move."""
    fields = _line_item_fields(data)
    link_id = data.get("resourceLinkId")
    current = item.resource_link.link_id if item.resource_link_id else None
    if link_id is not None and link_id != current:
        raise bad("resourceLinkId cannot be changed")
    LineItem.update(**fields).where(LineItem.id == item.id).execute()
    return LineItem.get_by_id(item.id)


def _line_item_fields(data) -> dict:
    if not isinstance(data, dict):
        raise bad("the body must be a JSON object")
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise bad("label is required")
    return {
        "label": label.strip()[:255],
        "score_maximum": _positive(data.get("scoreMaximum"), "scoreMaximum"),
        "resource_id": _optional_text(data, "resourceId"),
        "tag": _optional_text(data, "tag"),
        "start_at": _optional_time(data, "startDateTime"),
        "end_at": _optional_time(data, "endDateTime"),
    }


def _resource_link(link_id) -> ResourceLink | None:
    if link_id is None:
        return None
    link = ResourceLink.get_or_none(ResourceLink.link_id == str(link_id))
    if link is None:
        raise bad(f"no resource link {link_id!r} in this course", 404)
    return link


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{name} must be a number")
    if not math.isfinite(value):
        raise bad(f"{name} must be finite")
    return float(value)


def _positive(value, name: str) -> float:
    number = _number(value, name)
    if number <= 0:
        raise bad(f"{name} must be greater than 0")
    return number


def _optional_text(data: dict, name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    return value[:255]


def _optional_time(data: dict, name: str) -> str:
    value = data.get(name)
    if value in (None, ""):
        return ""
    parse_timestamp(value, name)
    return value


def parse_timestamp(value, name: str = "timestamp") -> datetime.datetime:
    """An ISO 8601 timestamp with a time zone, as naive UTC."""
    if not isinstance(value, str):
        raise bad(f"{name} must be an ISO 8601 string")
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise bad(f"{name} {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise bad(f"{name} {value!r} needs a time zone (e.g. Z or +00:00)")
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def record_score(item: LineItem, data) -> Score:
    """Validate and store a score (one row per learner and line item)."""
    fields = score_fields(data)
    with demo_database.atomic():
        stored = Score.get_or_none(
            (Score.line_item == item) & (Score.person == fields["person"])
        )
        if stored is None:
            return Score.create(line_item=item, **fields)
        if fields["timestamp"] < stored.timestamp:
            raise bad(
                f"timestamp {fields['timestamp_sent']} is older than the stored "
                f"score's {stored.timestamp_sent}"
            )
        Score.update(**fields).where(Score.id == stored.id).execute()
        return Score.get_by_id(stored.id)


def score_fields(data) -> dict:
    """The validated fields of a score document."""
    if not isinstance(data, dict):
        raise bad("the body must be a JSON object")
    fields = {
        "person": _learner(data.get("userId")),
        "activity_progress": _choice(data, "activityProgress", ACTIVITY_PROGRESS),
        "grading_progress": _choice(data, "gradingProgress", GRADING_PROGRESS),
        "timestamp": parse_timestamp(data.get("timestamp")),
        "timestamp_sent": data["timestamp"],
        "comment": _optional_text_long(data, "comment"),
        "received_at": utcnow(),
        **_score_values(data),
    }
    return fields


def _learner(user_id) -> Person:
    if not isinstance(user_id, str) or not user_id:
        raise bad("userId is required")
    person = Person.get_or_none(Person.sub == user_id)
    if person is None or person.role != LEARNER:
        raise bad(f"userId {user_id!r} is not a learner in this course", 422)
    return person


def _choice(data: dict, name: str, allowed: tuple) -> str:
    value = data.get(name)
    if value not in allowed:
        raise bad(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _optional_text_long(data: dict, name: str) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    return value[:4000]


def _score_values(data: dict) -> dict:
    if data.get("scoreGiven") is None:
        return {"score_given": None, "score_maximum": None}
    given = _number(data["scoreGiven"], "scoreGiven")
    if data.get("scoreMaximum") is None:
        raise bad("scoreMaximum is required with scoreGiven")
    maximum = _positive(data["scoreMaximum"], "scoreMaximum")
    if given < 0:
        raise bad("scoreGiven must not be negative")
    if given > maximum:
        raise bad(
            f"scoreGiven {given:g} exceeds scoreMaximum {maximum:g}; this gradebook "
            "does not accept extra credit"
        )
    return {"score_given": given, "score_maximum": maximum}


def result_json(score: Score, issuer: str) -> dict:
    """A stored score as an AGS result."""
    line_item_url = f"{issuer}/api/lineitems/{score.line_item_id}"
    body = {
        "id": f"{line_item_url}/results/{score.id}",
        "scoreOf": line_item_url,
        "userId": score.person.sub,
    }
    if score.score_given is not None:
        # Results are on the line item's scale.
        ratio = score.score_given / score.score_maximum
        body["resultScore"] = round(ratio * score.line_item.score_maximum, 6)
        body["resultMaximum"] = score.line_item.score_maximum
    if score.comment:
        body["comment"] = score.comment
    return body
