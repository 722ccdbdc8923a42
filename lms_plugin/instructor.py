"""The instructor view of one course context: roster, gradebook, CSV, statistics.

Blueprint ``instructor`` under ``/instructor``. Every URL needs a launch session
whose user is an instructor, teaching assistant or administrator of the launch's
context (``role_required`` checks the membership in *that* context), and every
query is filtered by that context: another course's data is never shown, and a
score of another course is a 404. Views load, call one function of
:mod:`lms_plugin.reports`, and render.
"""

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for

from lms_plugin.auth import STAFF_ROLES
from lms_plugin.auth import Forbidden
from lms_plugin.auth import current_launch
from lms_plugin.auth import reread_context
from lms_plugin.auth import role_required
from lms_plugin.errors import LmsError
from lms_plugin.lti.services.nrps import RosterError
from lms_plugin.lti.services.nrps import sync_roster
from lms_plugin.models import learning
from lms_plugin.models.content import Module
from lms_plugin.models.lti import LtiContext
from lms_plugin.reports import export
from lms_plugin.reports import gradebook
from lms_plugin.reports import item_stats

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


class NotFound(LmsError):
    status_code = 404
    title = "Not found"


@bp.before_request
@role_required(*STAFF_ROLES)
def _require_staff():
    """Staff of the launch's context only; the context is every query's filter."""
    if current_launch().context is None:
        raise Forbidden("The instructor view needs a launch from a course.")


def _context() -> LtiContext:
    """The launch's course context (staff only reach the views: see above)."""
    return current_launch().context


def _module(slug: str) -> Module:
    row = learning.any_module(slug)
    if row is None:
        raise NotFound("There is no module at this address.")
    return row


@bp.get("/")
def dashboard():
    """Roster and learners × modules, with the gradebook state of each score."""
    context = _context()
    if context.memberships_url and context.roster_synced_at is None:
        _sync_roster(quiet=True)  # first visit: fetch the full roster once
    book = gradebook.build(_context())
    return render_template("instructor/dashboard.html", book=book, gb=gradebook)


@bp.post("/roster/refresh")
def refresh_roster():
    """Fetch the course roster again over Names and Roles."""
    _sync_roster(quiet=False)
    return redirect(url_for("instructor.dashboard"), code=303)


def _sync_roster(quiet: bool) -> None:
    try:
        result = sync_roster(_context())
    except RosterError as error:
        flash(error.message, "error")
        return
    reread_context()  # roster_synced_at changed
    if not quiet:
        flash(
            f"Roster refreshed: {result.members} members ({result.added} new, "
            f"{result.absent} no longer listed).",
            "info",
        )


@bp.post("/scores/<int:score_id>/resend")
def resend_score(score_id):
    """Queue a failed or pending score for the gradebook again."""
    outcome = gradebook.resend(_context(), score_id)
    messages = {
        "queued": "The score is queued and will be sent to the gradebook shortly.",
        "hurried": "The score is queued; it will be sent without further delay.",
        "unchanged": "This score is already sent or being sent; nothing changed.",
    }
    flash(messages[outcome], "info")
    return redirect(url_for("instructor.dashboard") + "#gradebook", code=303)


@bp.get("/export.csv")
def export_csv():
    """The gradebook table as CSV (one row per learner and module)."""
    # A byte order mark makes Excel read the file as UTF-8.
    body = "\ufeff" + export.to_csv(gradebook.build(_context()))
    label = _context().label or "course"  # headers are Latin-1: keep ASCII only
    name = "".join(c if c.isascii() and c.isalnum() else "-" for c in label)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-progress.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/modules/<slug>/statistics")
def statistics(slug):
    """Per-question statistics of a module's quiz in this course."""
    module = _module(slug)
    items, attempts = item_stats.module_statistics(_context(), module)
    return render_template(
        "instructor/statistics.html",
        module=module,
        version=module.moduleversion,
        items=items,
        attempts=attempts,
        stats=item_stats,
    )


def init_app(app: Flask) -> None:
    """Register the instructor view."""
    app.register_blueprint(bp)
