"""Blueprint ``learner`` (``/learn``): the learner's pages, as thin views.

Every URL needs a launch session (:func:`lms_plugin.auth.current_launch`); data is
always the signed-in user's own, in the launch's context (``scope``): an attempt
of another user or another context is a 404, never a 403 that would confirm it
exists. Views load (``lms_plugin.models.learning``), call one function of
:mod:`lms_plugin.learner.pages` or :mod:`lms_plugin.progress.attempts`, and render.
"""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from lms_plugin.auth import Forbidden
from lms_plugin.auth import current_launch
from lms_plugin.auth import login_manager
from lms_plugin.errors import LmsError
from lms_plugin.learner import pages
from lms_plugin.models import learning
from lms_plugin.models.content import Module
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import scope_of
from lms_plugin.progress import attempts

bp = Blueprint("learner", __name__, url_prefix="/learn")


class NotFound(LmsError):
    status_code = 404
    title = "Not found"


@bp.before_request
def _require_launch():
    """Every learner page needs a launch session, and a membership in its context."""
    launch = current_launch()
    if launch is None:
        return login_manager.unauthorized()
    if launch.context_id is not None and launch.membership is None:
        raise Forbidden("You are not a member of this course. Open it from the LMS.")
    return None


@bp.app_template_global()
def instructor_url() -> str | None:
    """The instructor view for the course's staff; None for everyone else."""
    launch = current_launch()
    return url_for("instructor.dashboard") if launch and launch.is_staff else None


def _standing(slug: str) -> learning.LearnerModule:
    """The module ``slug`` with the learner's standing in it, or a 404."""
    launch = current_launch()
    found = learning.module_for_learner(slug, launch.user, launch.context)
    if found is None:
        raise NotFound("There is no module at this address.")
    return found


def _module_with_quiz(slug: str):
    """The module ``slug`` and its current version, with a quiz; else a 404."""
    found = learning.current_module(slug)
    if found is None:
        raise NotFound("There is no module at this address.")
    if not found[1].quiz:
        raise NotFound("This module has no quiz.")
    return found


def _own_attempt(attempt_id: int):
    """The signed-in user's attempt in this context, or a 404."""
    launch = current_launch()
    attempt = learning.attempt_of(attempt_id, launch.user, launch.context)
    if attempt is None:
        raise NotFound("There is no attempt of yours at this address.")
    return attempt


# --- views ---------------------------------------------------------------------


@bp.get("/")
def catalog():
    """Every module of the course with the learner's status in each."""
    launch = current_launch()
    rows = ModuleProgress.by_module(launch.user, scope_of(launch.context))
    return render_template(
        "learner/catalog.html", modules=learning.catalog(), progress=rows
    )


@bp.get("/unbound")
def unbound():
    """The link the learner opened has no module chosen yet."""
    return render_template("learner/unbound.html", can_choose=current_launch().is_staff)


@bp.get("/modules/<slug>")
def module_page(slug):
    """The module's overview: objectives, time, sections and progress."""
    view = pages.module_view(_standing(slug))
    return render_template("learner/module.html", **view)


@bp.get("/modules/<slug>/pages/<page_slug>")
def page(slug, page_slug):
    """One section of the module; the visit is recorded."""
    view = pages.page_view(current_launch(), _standing(slug), page_slug)
    if view is None:
        raise NotFound("This module has no section at this address.")
    return render_template("learner/page.html", **view)


@bp.post("/modules/<slug>/pages/<page_slug>/complete")
def complete_page(slug, page_slug):
    """Mark a section complete and go on to the next one (or the quiz)."""
    standing = _standing(slug)
    target = pages.complete_page(current_launch(), standing, page_slug)
    if target is None:
        raise NotFound("This module has no section at this address.")
    return redirect(_next_url(standing.module, target), code=303)


def _next_url(module: Module, target: str) -> str:
    if target == "quiz":
        return url_for("learner.quiz", slug=module.slug)
    if target == "module":
        return url_for("learner.module_page", slug=module.slug)
    return url_for("learner.page", slug=module.slug, page_slug=target)


@bp.get("/modules/<slug>/quiz")
def quiz(slug):
    """The quiz: the attempt in progress, else its rules and past attempts."""
    module, version = _module_with_quiz(slug)
    launch = current_launch()
    view = pages.quiz_view(launch.user, launch.context, module, version)
    template = "learner/attempt.html" if view.get("attempt") else "learner/quiz.html"
    return render_template(template, **view, new_key=attempts.new_attempt_key())


@bp.post("/modules/<slug>/quiz/start")
def start_quiz(slug):
    """Start an attempt (one per idempotency key) and show it."""
    module, version = _module_with_quiz(slug)
    key = request.form.get("key", "")
    if not 16 <= len(key) <= 64:
        raise LmsError("The start form was incomplete. Reload the page and try again.")
    try:
        launch = current_launch()
        attempts.start_attempt(launch.user, launch.context, module, version, key)
    except attempts.AttemptsExhausted:
        flash("You have used every attempt this quiz allows.", "error")
    return redirect(url_for("learner.quiz", slug=slug), code=303)


@bp.post("/attempts/<int:attempt_id>")
def answer(attempt_id):
    """Save an attempt's answers, or submit it once; then show where it stands."""
    attempt = _own_attempt(attempt_id)
    form = request.form.to_dict(flat=False)
    if request.form.get("action") == "save":
        if attempts.save_responses(attempt, form):
            flash("Your answers are saved. Submit when you are ready.", "info")
            return redirect(url_for("learner.quiz", slug=attempt.module.slug), 303)
    else:
        attempts.submit_attempt(attempt, form, current_launch().link)
    return redirect(url_for("learner.attempt", attempt_id=attempt.id), code=303)


@bp.get("/attempts/<int:attempt_id>")
def attempt(attempt_id):
    """A submitted attempt: score, per-item feedback, answers as settings allow."""
    row = _own_attempt(attempt_id)
    if row.status != "submitted":
        return redirect(url_for("learner.quiz", slug=row.module.slug), code=303)
    view = pages.result_view(row, current_launch().context)
    return render_template("learner/result.html", **view)
