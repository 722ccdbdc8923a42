"""The demo course, its roster and its first placements (all people are fictional)."""

import json

from lms_plugin.demo.models import INSTRUCTOR
from lms_plugin.demo.models import LEARNER
from lms_plugin.demo.models import Course
from lms_plugin.demo.models import Person
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import demo_database

COURSE = {
    "context_id": "demo-course-nur510",
    "label": "NUR 510",
    "title": "Professional Practice for Clinical Trainees (demo course)",
}

PEOPLE = [
    {
        "sub": "demo-learner-avery",
        "given_name": "Avery",
        "family_name": "Okafor",
        "email": "avery.okafor@demo-lms.example",
        "role": LEARNER,
    },
    {
        "sub": "demo-learner-jordan",
        "given_name": "Jordan",
        "family_name": "Lindqvist",
        "email": "jordan.lindqvist@demo-lms.example",
        "role": LEARNER,
    },
    {
        "sub": "demo-instructor-morgan",
        "given_name": "Morgan",
        "family_name": "Abara",
        "email": "morgan.abara@demo-lms.example",
        "role": INSTRUCTOR,
    },
]

#: Link ids of the placements every demo course starts with.
COURSE_NAV_LINK_ID = "demo-course-navigation"
WELCOME_LINK_ID = "demo-link-welcome"


def seed() -> None:
    """Create the course, roster and starting placements once (idempotent)."""
    with demo_database.atomic():
        Course.get_or_create(context_id=COURSE["context_id"], defaults=COURSE)
        for position, person in enumerate(PEOPLE):
            name = f"{person['given_name']} {person['family_name']}"
            Person.get_or_create(
                sub=person["sub"],
                defaults={**person, "name": name, "position": position},
            )
        ResourceLink.get_or_create(
            link_id=COURSE_NAV_LINK_ID,
            defaults={
                "title": "Mentorship modules",
                "text": "The tool's course navigation entry.",
                "placement": "course_navigation",
                # As a Canvas course_navigation placement is configured: the
                # catalog of modules rather than one module.
                "custom": json.dumps({"view": "catalog"}),
            },
        )
        ResourceLink.get_or_create(
            link_id=WELCOME_LINK_ID,
            defaults={
                "title": "Mentorship modules: start here",
                "text": "A link to the tool added by the course administrator.",
            },
        )


def the_course() -> Course:
    """The demo's one course."""
    return Course.get(Course.context_id == COURSE["context_id"])


def people() -> list[Person]:
    """Everyone in the course, learners first."""
    return list(Person.select().order_by(Person.position))


def learners() -> list[Person]:
    """The course's learners."""
    return [person for person in people() if person.role == LEARNER]
