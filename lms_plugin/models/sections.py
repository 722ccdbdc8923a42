"""A module's sections with the learner's state in each, read as one JSON value.

A section is a current page of a module as the learner's lists show it: its
id, slug, title and minutes, and whether the learner opened it or marked it
complete (:class:`Section`). The whole list is one select of one value (a JSON
array, :func:`section_list_query`), so it can ride along in another query as a
correlated subquery: the learner's module lookup reads it with the module, and a
module page needs no statement of its own for its sections.
"""

import json
from typing import NamedTuple

from peewee import JOIN
from peewee import SQL
from peewee import Case
from peewee import fn

from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.db import is_postgres
from lms_plugin.models.content import Page
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import PageVisit

#: A section's state for the learner (:attr:`Section.state`).
NOT_OPENED, OPENED, DONE = 0, 1, 2


class Section(NamedTuple):
    """A current page of a module as section lists show it, with the learner's state."""

    id: int
    slug: str
    title: str
    est_minutes: int
    state: int  # NOT_OPENED, OPENED, or DONE (marked complete)

    @property
    def opened(self) -> bool:
        return self.state != NOT_OPENED

    @property
    def done(self) -> bool:
        return self.state == DONE


def json_array_of_rows(*fields):
    """An aggregate of the rows' ``fields`` as one JSON array of arrays, or NULL.

    The only dialect-specific SQL of the learner's reads: PostgreSQL's
    ``json_agg(json_build_array(…))``, SQLite's ``json_group_array(json_array(…))``.
    Chosen for the database bound when the query is built (a :class:`Prepared`
    query is built once per database). No order is promised; ``NULL`` for no rows.
    Read the value back with :func:`rows_of_json_array`.
    """
    if is_postgres():
        return fn.json_agg(fn.json_build_array(*fields))
    return fn.json_group_array(fn.json_array(*fields))


def rows_of_json_array(value) -> list[list]:
    """The rows in a :func:`json_array_of_rows` value.

    SQLite gives JSON text; psycopg decodes PostgreSQL's ``json`` already.
    """
    return json.loads(value) if isinstance(value, str) else value or []


def section_list_query(module, progress):
    """The module's current pages with the learner's state, as one JSON array.

    A select of one value: ``[position, id, slug, title, minutes, state]`` per
    page (:func:`sections_from` reads it). ``module`` and ``progress`` are what
    the pages and visits are matched on: :class:`Param` slots, or an outer
    query's columns when this is a correlated subquery.
    """
    page, visit = Page.alias("section_page"), PageVisit.alias("section_visit")
    state = Case(
        None,
        [
            (visit.completed_at.is_null(False), SQL(str(DONE))),
            (visit.id.is_null(False), SQL(str(OPENED))),
        ],
        SQL(str(NOT_OPENED)),
    )
    fields = (page.position, page.id, page.slug, page.title, page.est_minutes, state)
    return (
        page.select(fn.COALESCE(json_array_of_rows(*fields), SQL("'[]'")))
        .join(
            visit,
            JOIN.LEFT_OUTER,
            on=(visit.page == page.id) & (visit.progress == progress),
        )
        .where((page.module == module) & page.retired_at.is_null())
    )


def sections_from(listed) -> list[Section]:
    """The sections in :func:`section_list_query`'s value, in page order."""
    return [Section(*item[1:]) for item in sorted(rows_of_json_array(listed))]


_sections = Prepared(
    lambda: section_list_query(Param("module", Page.module), Param("progress"))
)


def sections_of(module, progress: ModuleProgress | None) -> list[Section]:
    """The module's current pages in order, each with its state in ``progress``."""
    ((listed,),) = _sections.raw(module=module, progress=progress)
    return sections_from(listed)
