"""Where a resource-link launch opens: the page for this link, person and placement.

:func:`landing_for` is called by the launch (``lms_plugin.lti.launch.flow``) and
after staff choose a link's module (``lms_plugin.lti.deep_linking.views``). It reads
the current launch (:func:`lms_plugin.auth.current_launch`): the roles in its
context and the routing claims saved at launch, and the link's own custom
parameters, which every launch of the link records.
"""

import json

from flask import url_for

from lms_plugin.auth import current_launch
from lms_plugin.lti.claims import CLAIM_CANVAS_PLACEMENT
from lms_plugin.models.lti import LtiResourceLink

#: Custom ``view`` values that open the whole course rather than one module.
COURSE_WIDE_VIEWS = ("catalog", "dashboard")


def landing_for(link: LtiResourceLink) -> str:
    """The URL a launch of ``link`` lands on.

    A course-wide launch (custom ``view`` of catalog or dashboard, or Canvas's
    course navigation) opens the instructor dashboard for staff and the catalog
    for learners; a link bound to a module opens it; an unbound link opens the
    module chooser for staff and an explanation for learners.
    """
    launch = current_launch()
    staff = launch is not None and launch.is_staff
    placement = launch.claims.get(CLAIM_CANVAS_PLACEMENT) if launch else None
    course_wide = (
        _custom(link).get("view") in COURSE_WIDE_VIEWS
        or placement == "course_navigation"
    )
    if course_wide:
        return url_for("instructor.dashboard" if staff else "learner.catalog")
    if link.module_slug:
        return url_for("learner.module_page", slug=link.module_slug)
    if staff:
        return url_for("deep_linking.choose_module", link_id=link.id)
    return url_for("learner.unbound")


def _custom(link: LtiResourceLink) -> dict:
    try:
        custom = json.loads(link.custom or "{}")
    except ValueError:
        return {}
    return custom if isinstance(custom, dict) else {}
