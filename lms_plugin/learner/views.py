"""The learner's pages: catalog, module overview, section pages, quiz and results.

Blueprint ``learner`` under ``/learn``. Every URL needs a launch session; data is
always the signed-in user's own, in the launch's context (``scope``): an attempt
of another user or another context is a 404, never a 403 that would confirm it
exists. Views load, call one function of :mod:`lms_plugin.learner.pages` or
:mod:`lms_plugin.progress`, and render.
"""

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from peewee import JOIN
from peewee import Alias
from peewee import fn

from lms_plugin.auth import SESSION_CONTEXT_ID
from lms_plugin.auth import SESSION_LAUNCH_ID
from lms_plugin.auth import SESSION_RESOURCE_LINK_ID
from lms_plugin.auth import STAFF_ROLES
from lms_plugin.auth import Forbidden
from lms_plugin.auth import current_membership
from lms_plugin.auth import has_role
from lms_plugin.auth import is_staff
from lms_plugin.auth import login_manager
from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.errors import LmsError
from lms_plugin.learner import pages
from lms_plugin.lti.claims import CLAIM_CUSTOM
from lms_plugin.models.content import Course
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.progress import ATTEMPT_IN_PROGRESS
from lms_plugin.models.progress import ModuleProgress
from lms_plugin.models.progress import QuizAttempt
from lms_plugin.models.progress import scope_of
from lms_plugin.models.sections import section_list_query
from lms_plugin.progress import attempts

bp = Blueprint("learner", __name__, url_prefix="/learn")

#: Canvas's placement claim; "course_navigation" opens the catalog.
CLAIM_CANVAS_PLACEMENT = "https://www.instructure.com/placement"
#: Roles that choose a module for an unbound link (DEEPLINK's picker).
#: Endpoints of the instructor view, once it exists (linked from module pages).


class NotFound(LmsError):
    status_code = 404
    title = "Not found"


# --- the launch's landing ------------------------------------------------------


def landing(link: LtiResourceLink) -> str:
    """Where a resource-link launch of ``link`` opens (registered with lti)."""
    data = _launch_data()
    custom = data.get(CLAIM_CUSTOM) or {}
    custom = custom if isinstance(custom, dict) else {}
    view = custom.get("view")
    course_wide = view in ("catalog", "dashboard") or (
        data.get(CLAIM_CANVAS_PLACEMENT) == "course_navigation"
    )
    if course_wide and has_role(*STAFF_ROLES):
        return url_for("instructor.dashboard")  # staff's view of the course
    if course_wide:
        return url_for("learner.catalog")
    if link.module_slug:
        return url_for("learner.module_page", slug=link.module_slug)
    if has_role(*STAFF_ROLES):
        return url_for("deep_linking.choose_module", link_id=link.id)
    return url_for("learner.unbound")


def _launch_data() -> dict:
    """The claims of this session's launch: this request's, or from the cache."""
    from lms_plugin.lti.launch.adapter import PROTOCOL_ERRORS
    from lms_plugin.lti.launch.adapter import load_launch
    from lms_plugin.lti.launch.flow import LAUNCH_DATA_KEY

    if LAUNCH_DATA_KEY in g:  # the launch this very request validated
        return g.get(LAUNCH_DATA_KEY)
    try:
        return dict(load_launch(session[SESSION_LAUNCH_ID]).get_launch_data())
    except (KeyError, *PROTOCOL_ERRORS):
        return {}


# --- who and where -------------------------------------------------------------


@bp.before_request
def _require_launch():
    """Every learner page needs a launch session, and a membership in its context."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    g.context = g.membership = None
    context_id = session.get(SESSION_CONTEXT_ID)
    if context_id:
        g.membership = current_membership()
        if g.membership is None:
            raise Forbidden(
                "You are not a member of this course. Open it from the LMS."
            )
        g.context = g.membership.context
    return None


@bp.app_template_global()
def instructor_url() -> str | None:
    """The instructor view for the course's staff; None for everyone else."""
    if not is_staff(g.get("membership")):
        return None
    return url_for("instructor.dashboard")


#: A module joined with its current version.
_CURRENT_VERSION = (ModuleVersion.module == Module.id) & (
    ModuleVersion.number == Module.version
)

#: What learner pages read of a module version (not its catalog metadata).
VERSION_FOR_LEARNERS = (
    ModuleVersion.id,
    ModuleVersion.module,
    ModuleVersion.number,
    ModuleVersion.title,
    ModuleVersion.summary_html,
    ModuleVersion.est_minutes,
    ModuleVersion.objectives,
    ModuleVersion.completion,
    ModuleVersion.quiz,
)


@Prepared
def _current_module():
    """A module still in the course, by slug, with its current version and the
    signed-in learner's standing in it, in one statement.

    Attached to the module: ``moduleversion`` (only :data:`VERSION_FOR_LEARNERS`
    read; the version's other fields are None), ``learner_progress`` (the
    learner's :class:`ModuleProgress` in this scope, or None before any),
    ``attempts_made`` and ``attempts_open`` (attempts at its quiz, and those
    still in progress), and ``section_list`` (its pages with the learner's
    state, for :func:`~lms_plugin.models.sections.sections_from`).
    """
    mine = (QuizAttempt.user == Param("user")) & (QuizAttempt.scope == Param("scope"))
    made = QuizAttempt.select(fn.COUNT(QuizAttempt.id)).where(
        mine & (QuizAttempt.module == Module.id)
    )
    still_open = made.where(QuizAttempt.status == ATTEMPT_IN_PROGRESS)
    return (
        Module.select(
            Module,
            *VERSION_FOR_LEARNERS,
            ModuleProgress,
            # Named scalar subqueries (COUNT gives a row even with no attempts).
            fn.COALESCE(made, 0).alias("attempts_made"),
            fn.COALESCE(still_open, 0).alias("attempts_open"),
            Alias(
                section_list_query(Module.id, ModuleProgress.id),
                "section_list",
            ),
        )
        .join(ModuleVersion, on=_CURRENT_VERSION)
        .switch(Module)
        .join(
            ModuleProgress,
            JOIN.LEFT_OUTER,
            on=(ModuleProgress.module == Module.id)
            & (ModuleProgress.user == Param("user"))
            & (ModuleProgress.scope == Param("scope")),
            attr="learner_progress",
        )
        .where((Module.slug == Param("slug")) & Module.retired_at.is_null())
    )


@Prepared
def _plain_module():
    """A module still in the course, by slug, with its current version only."""
    return (
        Module.select(Module, *VERSION_FOR_LEARNERS)
        .join(ModuleVersion, on=_CURRENT_VERSION)
        .where((Module.slug == Param("slug")) & Module.retired_at.is_null())
    )


def _module(slug: str, standing: bool = True) -> tuple[Module, ModuleVersion]:
    """A module still in the course with its current version, or a 404.

    With ``standing`` the module comes with the learner's standing in it (see
    :func:`_current_module`); the quiz pages, which read attempts themselves,
    go without it.
    """
    if standing:
        row = _current_module.first(
            slug=slug, user=current_user.id, scope=scope_of(g.context)
        )
    else:
        row = _plain_module.first(slug=slug)
    if row is None:
        raise NotFound("There is no module at this address.")
    return row, row.moduleversion


@Prepared
def _attempt():
    """An attempt of a user in a context scope, with its module and quiz version."""
    return (
        QuizAttempt.select(QuizAttempt, Module, *VERSION_FOR_LEARNERS)
        .join(Module)
        .switch(QuizAttempt)
        .join(ModuleVersion)
        .where(
            (QuizAttempt.id == Param("id"))
            & (QuizAttempt.user == Param("user"))
            & (QuizAttempt.scope == Param("scope"))
        )
    )


def _own_attempt(attempt_id: int) -> QuizAttempt:
    """The signed-in user's attempt in this context, or a 404.

    It comes with its module and module version, and with this request's user and
    context attached, so reading them costs no statement.
    """
    attempt = _attempt.first(
        id=attempt_id, user=current_user.id, scope=scope_of(g.context)
    )
    if attempt is None:
        raise NotFound("There is no attempt of yours at this address.")
    attempt.user = current_user._get_current_object()
    if g.context is not None and attempt.context_id == g.context.id:
        attempt.context = g.context
    return attempt


@Prepared
def _link():
    return LtiResourceLink.select().where(LtiResourceLink.id == Param("id"))


def _launched_link() -> LtiResourceLink | None:
    link_id = session.get(SESSION_RESOURCE_LINK_ID)
    return _link.first(id=link_id) if link_id is not None else None


# --- views ---------------------------------------------------------------------


@bp.get("/")
def catalog():
    """Every module of the course with the learner's status in each."""
    modules = (
        Module.select(Module, ModuleVersion, Course)
        .join(ModuleVersion, on=_CURRENT_VERSION)
        .switch(Module)
        .join(Course)
        .where(Module.retired_at.is_null())
        .order_by(Course.title, Module.position)
    )
    rows = ModuleProgress.by_module(current_user, scope_of(g.context))
    return render_template("learner/catalog.html", modules=modules, progress=rows)


@bp.get("/unbound")
def unbound():
    """The link the learner opened has no module chosen yet."""
    return render_template("learner/unbound.html", can_choose=has_role(*STAFF_ROLES))


@bp.get("/modules/<slug>")
def module_page(slug):
    """The module's overview: objectives, time, sections and progress."""
    module, version = _module(slug)
    view = pages.module_view(module, version)
    return render_template("learner/module.html", **view)


@bp.get("/modules/<slug>/pages/<page_slug>")
def page(slug, page_slug):
    """One section of the module; the visit is recorded."""
    module, version = _module(slug)
    view = pages.page_view(current_user, g.context, module, version, page_slug)
    if view is None:
        raise NotFound("This module has no section at this address.")
    return render_template("learner/page.html", **view)


@bp.post("/modules/<slug>/pages/<page_slug>/complete")
def complete_page(slug, page_slug):
    """Mark a section complete and go on to the next one (or the quiz)."""
    module, version = _module(slug)
    target = pages.complete_page(
        current_user, g.context, module, version, page_slug, _launched_link()
    )
    if target is None:
        raise NotFound("This module has no section at this address.")
    return redirect(_next_url(module, target), code=303)


def _next_url(module: Module, target: str) -> str:
    if target == "quiz":
        return url_for("learner.quiz", slug=module.slug)
    if target == "module":
        return url_for("learner.module_page", slug=module.slug)
    return url_for("learner.page", slug=module.slug, page_slug=target)


@bp.get("/modules/<slug>/quiz")
def quiz(slug):
    """The quiz: the attempt in progress, else its rules and past attempts."""
    module, version = _module(slug, standing=False)
    if not version.quiz:
        raise NotFound("This module has no quiz.")
    view = pages.quiz_view(current_user, g.context, module, version)
    template = "learner/attempt.html" if view.get("attempt") else "learner/quiz.html"
    return render_template(template, **view, new_key=attempts.new_attempt_key())


@bp.post("/modules/<slug>/quiz/start")
def start_quiz(slug):
    """Start an attempt (one per idempotency key) and show it."""
    module, version = _module(slug, standing=False)
    if not version.quiz:
        raise NotFound("This module has no quiz.")
    key = request.form.get("key", "")
    if not 16 <= len(key) <= 64:
        raise LmsError("The start form was incomplete. Reload the page and try again.")
    try:
        attempts.start_attempt(current_user, g.context, module, version, key)
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
        attempts.submit_attempt(attempt, form, _launched_link())
    return redirect(url_for("learner.attempt", attempt_id=attempt.id), code=303)


@bp.get("/attempts/<int:attempt_id>")
def attempt(attempt_id):
    """A submitted attempt: score, per-item feedback, answers as settings allow."""
    row = _own_attempt(attempt_id)
    if row.status != "submitted":
        return redirect(url_for("learner.quiz", slug=row.module.slug), code=303)
    view = pages.result_view(row, g.context)
    return render_template("learner/result.html", **view)
