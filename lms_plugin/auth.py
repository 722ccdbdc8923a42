"""Who is signed in, and in which course context: flask-login and role checks.

A user signs in only through a valid LTI launch (``lms_plugin.lti.launch.flow``), which
also stores the launch's context in the session. Role checks look at the user's
membership in *that* context only, so a launch in one course never opens another.
"""

import functools

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask import session
from flask_login import LoginManager
from flask_login import current_user

from lms_plugin.db import Param
from lms_plugin.db import Prepared
from lms_plugin.errors import LmsError
from lms_plugin.errors import render_error
from lms_plugin.errors import wants_json
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import User

login_manager = LoginManager()

#: Session keys set by each launch: later views know the course context from them.
SESSION_LAUNCH_ID = "lti_launch_id"  # pylti1p3 launch id (launch data in the DB)
SESSION_CONTEXT_ID = "lti_context_id"  # LtiContext.id, None without a context
SESSION_RESOURCE_LINK_ID = "lti_resource_link_id"  # LtiResourceLink.id or None


class NotSignedIn(LmsError):
    status_code = 401
    title = "Open the tool from your course"


class Forbidden(LmsError):
    status_code = 403
    title = "Not available to you here"


#: Where ``flask.g`` keeps the launch's membership once read (None: not a member).
_MEMBERSHIP = "lms_plugin_membership"


def _active_registrations():
    return LtiRegistration.select(LtiRegistration.id).where(LtiRegistration.is_active)


@Prepared
def _active_user():
    """A user by id, if their registration is still active."""
    return User.select().where(
        (User.id == Param("id")) & User.registration.in_(_active_registrations())
    )


@Prepared
def _membership_with_user():
    """A membership with its user and context, if the registration is active."""
    return (
        LtiMembership.select(LtiMembership, User, LtiContext)
        .join(User)
        .switch(LtiMembership)
        .join(LtiContext)
        .where(
            (LtiMembership.user == Param("user"))
            & (LtiMembership.context == Param("context"))
            & User.registration.in_(_active_registrations())
        )
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, if their registration is still active.

    With a course context in the session, the user comes with their membership
    in it (one query for both; :func:`current_membership` then reads no more).
    """
    if not user_id.isdigit():
        return None
    context_id = session.get(SESSION_CONTEXT_ID)
    if context_id:
        membership = _membership_with_user.first(user=int(user_id), context=context_id)
        if membership is not None:
            setattr(g, _MEMBERSHIP, membership)
            return membership.user
    return _active_user.first(id=int(user_id))


@login_manager.unauthorized_handler
def _unauthorized():
    raise NotSignedIn(
        "Your session with the tool was not found or has ended. Open the tool "
        "again from your course."
    )


def in_frame() -> bool:
    """True when the browser says this page loads inside a frame (an LMS page)."""
    return request.headers.get("Sec-Fetch-Dest") in ("iframe", "frame")


def _not_signed_in(error: NotSignedIn):
    """The 401 page; inside a frame, with advice for browsers that block cookies."""
    if wants_json():
        return render_error(error.status_code, error.title, error.message)
    page = render_template(
        "auth/not_signed_in.html",
        error=error,
        status=error.status_code,
        in_frame=in_frame(),
        retry_url=request.full_path.rstrip("?") if request.method == "GET" else None,
    )
    return page, error.status_code, {"Vary": "Sec-Fetch-Dest"}


def current_context() -> LtiContext | None:
    """The course context of the current launch, or None."""
    context_id = session.get(SESSION_CONTEXT_ID)
    return LtiContext.get_or_none(LtiContext.id == context_id) if context_id else None


def current_membership() -> LtiMembership | None:
    """The signed-in user's membership in the launch's context (its context
    attached), or None."""
    if not current_user.is_authenticated:
        return None
    if _MEMBERSHIP not in g:
        context_id = session.get(SESSION_CONTEXT_ID)
        found = None
        if context_id:
            found = _membership_with_user.first(
                user=current_user.id, context=context_id
            )
        setattr(g, _MEMBERSHIP, found)
    return g.get(_MEMBERSHIP)


#: The course staff: they see the instructor view and choose a link's module.
STAFF_ROLES = ("instructor", "teaching_assistant", "administrator")


def is_staff(membership) -> bool:
    """True when ``membership`` (or None) holds one of :data:`STAFF_ROLES`."""
    return bool(membership) and any(getattr(membership, f"is_{r}") for r in STAFF_ROLES)


def has_role(*roles: str) -> bool:
    """True when the user holds one of ``roles`` in the current context."""
    membership = current_membership()
    return bool(membership) and any(getattr(membership, f"is_{r}") for r in roles)


def role_required(*roles: str):
    """Decorate a view: signed in, and one of ``roles`` in the launch's context."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_role(*roles):
                raise Forbidden(
                    "This page is for "
                    + " or ".join(r.replace("_", " ") for r in roles)
                    + " roles in this course."
                )
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    """Attach flask-login to ``app``."""
    login_manager.init_app(app)
    app.register_error_handler(NotSignedIn, _not_signed_in)
