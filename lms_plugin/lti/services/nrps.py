"""Names and Role Provisioning Services 2.0: a course context's full roster.

Spec: https://www.imsglobal.org/spec/lti-nrps/v2p0. :func:`sync_roster` reads
every page of the context's membership container (the ``context_memberships_url``
of the launch's NRPS claim, kept on :class:`LtiContext`), following
``Link: rel="next"`` URLs exactly as sent (``services.py``), with a token for the
``contextmembership.readonly`` scope. Then, in one transaction, it upserts a
:class:`User` and an :class:`LtiMembership` for every member, including people
who never launched the tool, and marks members the roster no longer lists as
``Absent``. Nothing is deleted; a failed fetch changes nothing.
"""

import json
import logging
from dataclasses import dataclass

from pylti1p3.names_roles import NamesRolesProvisioningService

from lms_plugin import outbound
from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.lti import roles
from lms_plugin.lti.launch.adapter import PROTOCOL_ERRORS
from lms_plugin.lti.registration.platform_keys import USER_AGENT
from lms_plugin.lti.registration.tool_config import DbRegistration
from lms_plugin.lti.services.connector import TIMEOUT
from lms_plugin.lti.services.connector import ToolServiceConnector
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import User

log = logging.getLogger(__name__)

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ABSENT = "Absent"  # our status for members a roster sync no longer lists
STATUSES = ("Active", "Inactive", "Deleted")  # NRPS member statuses
MAX_PAGES = 1000  # a platform that pages forever is cut off, not followed
_PII = ("name", "given_name", "family_name", "email")
#: What a malformed membership container makes pylti1p3 or us raise.
_MALFORMED = (ValueError, AttributeError, TypeError)


class RosterError(LmsError):
    status_code = 502
    title = "The course roster could not be read"


@dataclass(frozen=True)
class RosterResult:
    """What a roster sync found and changed."""

    members: int  # members listed by the platform (all pages)
    pages: int
    added: int  # memberships new to the tool (mostly people who never launched)
    updated: int  # memberships already known, refreshed
    absent: int  # memberships newly marked Absent


def sync_roster(context: LtiContext) -> RosterResult:
    """Fetch the full NRPS roster of ``context`` and record every member."""
    members, pages = fetch_members(context)
    with database.atomic():
        result = record_roster(context, members, pages)
    log.info("roster of context %s synced: %s", context.id, result)
    return result


def fetch_members(context: LtiContext) -> tuple[list[dict], int]:
    """Every member on every page of the context's roster, and the page count."""
    url = context.memberships_url
    if not url:
        raise RosterError(
            "This course's platform has not offered its roster (Names and Roles) "
            "to the tool. Open the tool once from the course as an instructor, "
            "and check that the tool's registration grants Names and Roles.",
            detail=f"context {context.id} has no context_memberships_url",
            status_code=409,
        )
    registration = DbRegistration(context.deployment.registration)
    try:
        with outbound.client(USER_AGENT, deadline=TIMEOUT) as http:
            service = NamesRolesProvisioningService(
                ToolServiceConnector(registration, http),
                {"context_memberships_url": url},
            )
            return _all_pages(service, url)
    except (outbound.OutboundError, *PROTOCOL_ERRORS, *_MALFORMED) as error:
        # Of a guarded-client failure only its kind: addresses stay in the log.
        reason = error.kind if isinstance(error, outbound.OutboundError) else error
        raise RosterError(
            "The course platform did not send its roster. Nothing was changed; "
            "try again in a few minutes.",
            detail=f"NRPS {url}: {reason}"[:2000],
        ) from None


def _all_pages(service, url: str) -> tuple[list[dict], int]:
    members, seen = [], set()
    while url:
        if url in seen or len(seen) >= MAX_PAGES:
            raise ValueError(f"paging stopped at {url} (loop or over {MAX_PAGES})")
        seen.add(url)
        page, next_url = service.get_members_page(url)
        if not isinstance(page, list):
            raise ValueError(f"members of {url} is not a list")
        url = next_url
        members.extend(member for member in page if isinstance(member, dict))
    return members, len(seen)


def record_roster(context: LtiContext, members: list[dict], pages: int):
    """Upsert users and memberships; mark the unlisted Absent (in a transaction)."""
    now = utcnow()
    registration = context.deployment.registration
    known = {
        m.user.sub: m
        for m in LtiMembership.select(LtiMembership, User)
        .join(User)
        .where(LtiMembership.context == context)
    }
    added = updated = 0
    for member in members:
        sub = member.get("user_id")
        if not isinstance(sub, str) or not sub:
            continue  # a member the platform cannot identify cannot be recorded
        user = _upsert_user(registration, sub, member)
        _upsert_membership(user, context, member, now)
        if sub in known:
            updated += 1
        else:
            added += 1
    absent = (
        LtiMembership.update(status=ABSENT, updated_at=now)
        .where(
            (LtiMembership.context == context)
            & (LtiMembership.status != ABSENT)
            & (
                LtiMembership.roster_synced_at.is_null()
                | (LtiMembership.roster_synced_at < now)
            )
        )
        .execute()
    )
    LtiContext.update(roster_synced_at=now).where(LtiContext.id == context.id).execute()
    return RosterResult(len(members), pages, added, updated, absent)


def _upsert_user(registration, sub: str, member: dict) -> User:
    """The user (registration, sub); PII the member carries replaces ours."""
    values = {name: _text(member.get(name)) for name in _PII}
    values = {name: value for name, value in values.items() if value}
    return User.upsert({"registration": registration, "sub": sub}, values)


def _upsert_membership(user, context, member: dict, now) -> None:
    sent = [r for r in member.get("roles") or [] if isinstance(r, str)]
    granted = roles.map_roles(sent)
    status = member.get("status")
    values = {f"is_{role}": role in granted for role in roles.ROLES}
    values.update(
        roles=json.dumps(sent),
        status=status if status in STATUSES else "Active",
        roster_synced_at=now,
        updated_at=now,
    )
    LtiMembership.upsert({"user": user, "context": context}, values)


def _text(value) -> str:
    return value.strip()[:255] if isinstance(value, str) else ""
