"""LTI Assignment and Grade Services: the score document, and the calls over HTTP.

Spec: https://www.imsglobal.org/spec/lti-ags/v2p0 . What a score may say
(:func:`check_score`) and the JSON posted for a queued one (:func:`score_document`,
with Canvas' submission extension for Canvas) are here; so are the calls that
find or create line items and post scores (:class:`AgsClient`). Tokens come from
:class:`~lms_plugin.lti.services.connector.ToolServiceConnector` (cached in the database
per registration and scopes). Every failure becomes an :class:`AgsError` that says
whether trying again can help (5xx, 429, timeouts, refused connections, a token refused
twice) and carries the platform's own reason for people. Calls go through the guarded
client (``lms_plugin.outbound``): an address it refuses, a redirect or an oversized
answer fails the score at once.
"""

import datetime
import email.utils
import json
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from pylti1p3.exception import LtiServiceException

from lms_plugin import outbound
from lms_plugin.lti.registration.tool_config import DbRegistration
from lms_plugin.lti.services.connector import RegistrationInactive
from lms_plugin.lti.services.connector import ToolServiceConnector
from lms_plugin.models.passback import ScorePost

_AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = _AGS + "lineitem"
SCOPE_LINEITEM_READONLY = _AGS + "lineitem.readonly"
SCOPE_RESULT_READONLY = _AGS + "result.readonly"
SCOPE_SCORE = _AGS + "score"

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
#: Canvas' extension on a score: creates a submission (lti.md 5.1).
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"

#: A score's ``activityProgress`` and ``gradingProgress`` values.
ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

#: Pages of a line item container read while looking for our resourceId.
MAX_CONTAINER_PAGES = 20
#: Characters of a platform's answer kept as the reason.
REASON_CHARS = 500


class AgsError(Exception):
    """A service call that did not succeed; ``retryable`` says if a retry may."""

    def __init__(
        self, reason: str, *, retryable: bool, retry_after: float | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class InvalidScore(ValueError):
    """A score the AGS spec does not allow (a programming error of the caller)."""


def check_score(score_given, score_maximum, activity: str, grading: str) -> None:
    """Refuse a score the spec does not allow.

    :raises InvalidScore: an unknown progress value, or a ``scoreGiven`` that is
        negative or lacks a ``scoreMaximum`` above 0.
    """
    if activity not in ACTIVITY_PROGRESS:
        raise InvalidScore(f"activityProgress {activity!r} is not an AGS value")
    if grading not in GRADING_PROGRESS:
        raise InvalidScore(f"gradingProgress {grading!r} is not an AGS value")
    if score_given is None:
        return
    if score_maximum is None or not score_maximum > 0:
        raise InvalidScore("scoreMaximum must be above 0 whenever scoreGiven is sent")
    if score_given < 0:
        raise InvalidScore("scoreGiven must not be negative")


def iso_ms(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as AGS timestamps are written."""
    return value.isoformat(timespec="milliseconds") + "Z"


def submission_times(started_at, submitted_at) -> dict:
    """A score's ``submission``: when the learner started and submitted (naive UTC)."""
    return {"startedAt": iso_ms(started_at), "submittedAt": iso_ms(submitted_at)}


def score_document(row: ScorePost) -> dict:
    """The AGS score JSON for a queued ``row`` (with Canvas' extension for Canvas)."""
    score = {
        "userId": row.user_sub,
        "activityProgress": row.activity_progress,
        "gradingProgress": row.grading_progress,
        "timestamp": iso_ms(row.timestamp),
    }
    if row.score_given is not None:
        score["scoreGiven"] = row.score_given
        score["scoreMaximum"] = row.score_maximum
    if row.comment:
        score["comment"] = row.comment
    submission = json.loads(row.submission) if row.submission else None
    if submission:
        score["submission"] = submission  # AGS: startedAt, submittedAt
    if row.registration.is_canvas:
        submitted_at = (submission or {}).get("submittedAt") or iso_ms(row.timestamp)
        score[CANVAS_SUBMISSION] = {
            "new_submission": True,
            "submitted_at": submitted_at,
        }
    return score


def scores_url(lineitem_url: str) -> str:
    """``{lineitem}/scores``, keeping a query string (Moodle adds ``?type_id=``)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def with_query(url: str, **params) -> str:
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


#: The longest ``Retry-After`` a platform may ask for; longer asks wait this long.
MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(value: str | None, now: datetime.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date).

    ASCII digits only (``"²".isdigit()`` is true, and ``float("²")`` raises), and
    never more than :data:`MAX_RETRY_AFTER`: the wait becomes a stored datetime.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)  # a huge one is inf
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    wait = (when - now.replace(tzinfo=datetime.UTC)).total_seconds()
    return min(max(0.0, wait), MAX_RETRY_AFTER)


def platform_reason(response: outbound.Response) -> str:
    """The platform's explanation of a refusal, short enough to show people."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("errors", "error_description", "error", "message", "reason"):
            if body.get(key):
                detail = body[key]
                text = detail if isinstance(detail, str) else json.dumps(detail)
                return text[:REASON_CHARS]
    return (response.text or response.reason or "").strip()[:REASON_CHARS]


def error_for(response: outbound.Response, what: str, now) -> AgsError:
    """The :class:`AgsError` for a non-2xx answer to ``what``."""
    status = response.status_code
    reason = f"{what}: HTTP {status} {platform_reason(response)}".strip()
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return AgsError(reason, retryable=True, retry_after=retry_after)
    # 401 here means a fresh token was refused too; often a clock or key issue
    # the platform side fixes, so it is worth the bounded retries.
    return AgsError(reason, retryable=status >= 500 or status in (401, 408))


class AgsClient:
    """AGS calls for one registration, with the scopes a context granted."""

    def __init__(self, registration_row, http: outbound.Client, timeout: float):
        self.connector = ToolServiceConnector(
            DbRegistration(registration_row), http, timeout=timeout
        )

    def post_score(self, lineitem_url: str, score: dict, scopes: list[str]) -> None:
        """POST ``score`` to the line item's scores endpoint."""
        self._call(
            "score POST",
            scopes,
            scores_url(lineitem_url),
            method="POST",
            data=json.dumps(score),
            headers={"Content-Type": SCORE_TYPE, "Accept": "application/json"},
        )

    def find_lineitem(
        self,
        container_url: str,
        resource_id: str,
        resource_link_id: str | None,
        scopes: list[str],
    ) -> str | None:
        """The URL of the line item with ``resource_id`` (and link), if any."""
        filters = {"resource_id": resource_id}
        if resource_link_id:
            filters["resource_link_id"] = resource_link_id
        url = with_query(container_url, **filters)
        for _ in range(MAX_CONTAINER_PAGES):
            response = self._call("line item lookup", scopes, url)
            items = response.json() if response.content else []
            for item in items if isinstance(items, list) else []:
                if _matches(item, resource_id, resource_link_id):
                    return item["id"]
            url = response.links.get("next", {}).get("url")
            if not url:
                return None
        return None

    def create_lineitem(
        self, container_url: str, lineitem: dict, scopes: list[str]
    ) -> str:
        """Create a line item in the container; return its URL."""
        response = self._call(
            "line item create",
            scopes,
            container_url,
            method="POST",
            data=json.dumps(lineitem),
            headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
        )
        try:
            return response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise AgsError(
                "line item create: the platform's answer has no line item id",
                retryable=True,
            ) from None

    def _call(self, what, scopes, url, *, method="GET", data=None, headers=None):
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        headers = headers or {"Accept": CONTAINER_TYPE}
        try:
            response = self.connector.send(
                scopes, url, method=method, data=data, headers=headers
            )
        except RegistrationInactive as error:  # an administrator may reactivate it
            raise AgsError(f"{what}: {error}", retryable=True) from None
        except LtiServiceException as error:  # the token endpoint refused
            refused = error_for(error.response, "access token request", now)
            # Often passing (clock skew, a key the platform has not fetched yet,
            # a registration being fixed): retry within the attempt limit.
            refused.retryable = True
            raise refused from None
        except outbound.OutboundError as error:
            raise AgsError(
                f"{what}: {_OUTBOUND_REASONS.get(error.kind, error.kind)}",
                retryable=error.retryable,
            ) from None
        except (ValueError, KeyError) as error:  # a token answer we cannot read
            raise AgsError(f"{what}: {_short(error)}", retryable=True) from None
        if not response.ok:
            raise error_for(response, what, now)
        return response


def _matches(item, resource_id: str, resource_link_id: str | None) -> bool:
    if not isinstance(item, dict) or not item.get("id"):
        return False
    if str(item.get("resourceId", "")) != resource_id:
        return False
    linked = item.get("resourceLinkId")
    return not (resource_link_id and linked and str(linked) != resource_link_id)


#: What each kind of outbound failure is called in a score's reason (the
#: addresses and ports behind it stay in the log).
_OUTBOUND_REASONS = {
    outbound.TIMEOUT: "timed out",
    outbound.UNREACHABLE: "could not connect",
    outbound.FAILED: "the connection failed or the answer was unreadable",
    outbound.REFUSED: "the service URL is not a public https address",
    outbound.REDIRECT: "the platform answered with a redirect, which is not followed",
    outbound.TOO_LARGE: "the platform's answer was too large",
}


def _short(error: Exception) -> str:
    return str(error)[:REASON_CHARS]
