"""What the course page shows: the modules and the gradebook grid."""

from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import Score
from lms_plugin.demo.seed import learners


def module_links() -> list[ResourceLink]:
    """The course's module placements, oldest first."""
    return list(
        ResourceLink.select()
        .where(ResourceLink.placement == "module")
        .order_by(ResourceLink.id)
    )


def grid() -> dict:
    """Line items as columns, learners as rows, each cell the stored score."""
    items = list(LineItem.select().order_by(LineItem.id))
    scores = {(s.line_item_id, s.person_id): s for s in Score.select()}
    rows = [
        {"person": person, "cells": [scores.get((i.id, person.id)) for i in items]}
        for person in learners()
    ]
    return {"items": items, "rows": rows}
