"""Names and Role Provisioning Services 2.0: the course's membership container."""

from lms_plugin.demo.models import MEMBERSHIP_ROLE
from lms_plugin.demo.models import Person
from lms_plugin.demo.seed import people
from lms_plugin.demo.seed import the_course

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#: Small on purpose, so every tool's paging code is exercised.
PAGE_SIZE = 2


def members(role: str | None = None) -> list[Person]:
    """The course roster, optionally only those holding ``role``."""
    everyone = people()
    if not role:
        return everyone
    return [p for p in everyone if _role_matches(MEMBERSHIP_ROLE[p.role], role)]


def _role_matches(uri: str, wanted: str) -> bool:
    """``wanted`` is a full role URI or its short name (``Learner``)."""
    return wanted == uri or wanted == uri.rsplit("#", 1)[-1]


def member_json(person: Person) -> dict:
    """One membership as NRPS 2.0 sends it."""
    return {
        "status": "Active",
        "user_id": person.sub,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        "roles": [MEMBERSHIP_ROLE[person.role]],
    }


def container_json(url: str, page_of_members: list[Person]) -> dict:
    """The membership container for one page."""
    course = the_course()
    return {
        "id": url,
        "context": {
            "id": course.context_id,
            "label": course.label,
            "title": course.title,
        },
        "members": [member_json(person) for person in page_of_members],
    }
