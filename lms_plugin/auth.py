"""Who is signed in, through which launch, in which course context, in which roles.

A user signs in only through a valid LTI launch (``lms_plugin.lti.launch.flow``),
which calls :func:`start_launch_session`: the session then names that launch, its
course context and resource link, and the routing claims the landing needs.
flask-login's user loader reads them once per request into a :class:`CurrentLaunch`
(user, membership with its context, resource link, launch id, claims), which every
view and template reads through :func:`current_launch`; nothing else reads or writes
those session keys. Role checks look at the membership in *that* context only, so a
launch in one course never opens another.
"""

import functools
from dataclasses import dataclass
from dataclasses import field

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask import session
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_user

from lms_plugin.errors import LmsError
from lms_plugin.errors import render_error
from lms_plugin.errors import wants_json
from lms_plugin.lti import roles
from lms_plugin.lti.claims import CLAIM_CANVAS_PLACEMENT
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User

login_manager = LoginManager()

#: Session keys set by each launch, read only here.
_LAUNCH_ID = "lti_launch_id"  # pylti1p3 launch id (launch data in the DB)
_CONTEXT_ID = "lti_context_id"  # LtiContext.id, None without a context
_RESOURCE_LINK_ID = "lti_resource_link_id"  # LtiResourceLink.id or None
_CLAIMS = "lti_routing_claims"  # the launch's claims that decide where it lands


class NotSignedIn(LmsError):
    status_code = 401
    title = "Open the tool from your course"


class Forbidden(LmsError):
    status_code = 403
    title = "Not available to you here"


@dataclass(eq=False)
class CurrentLaunch:
    """The launch this request's session belongs to, as the user loader read it.

    ``membership`` is the user's in ``context`` (None without a context, or when
    the user is not a member there); ``claims`` are the routing claims saved at
    launch (:data:`ROUTING_CLAIMS`). ``link`` is read on first use.
    """

    user: User
    launch_id: str | None
    context: LtiContext | None
    membership: LtiMembership | None
    link_id: int | None
    context_id: int | None = None  # as the session names it, even if since deleted
    claims: dict = field(default_factory=dict)
    read_link: LtiResourceLink | None = field(default=None, repr=False)

    @property
    def link(self) -> LtiResourceLink | None:
        """The resource link launched, or None (a course-wide launch)."""
        if self.read_link is None and self.link_id is not None:
            self.read_link = LtiResourceLink.by_id(self.link_id)
        return self.read_link

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of ``roles`` in the launch's context."""
        found = self.membership
        return bool(found) and any(getattr(found, f"is_{r}") for r in roles)

    @property
    def is_staff(self) -> bool:
        """True for the course's staff (:data:`STAFF_ROLES`)."""
        return self.has_role(*STAFF_ROLES)

    def grant(self) -> dict:
        """What a launch ticket carries to start this session in another window."""
        return {
            "user": self.user.id,
            "context": self.context.id if self.context else None,
            "link": self.link_id,
            "launch": self.launch_id,
            "claims": self.claims,
        }


#: Where ``flask.g`` keeps this request's :class:`CurrentLaunch`.
_CURRENT = "lms_plugin_launch"

#: Claims of the id_token, saved at launch, that decide where a launch lands.
ROUTING_CLAIMS = (CLAIM_CANVAS_PLACEMENT,)


def membership_of(user: User, context: LtiContext | None) -> LtiMembership | None:
    """``user``'s membership in ``context`` (its user and context attached), or None."""
    if context is None:
        return None
    return LtiMembership.of(user.id, context.id)


def active_user(user_id: int) -> User | None:
    """The user ``user_id`` if their registration is still active, else None."""
    return User.active(user_id)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, if their registration is still active; and the launch.

    With a course context in the session, the user comes with their membership in
    it (one statement for both). A user who is no longer a member of the
    session's context is still signed in, with no membership there.
    """
    if not user_id.isdigit():
        return None
    context_id = session.get(_CONTEXT_ID)
    membership = context = None
    if context_id:
        membership = LtiMembership.of(int(user_id), context_id)
    if membership is not None:
        user, context = membership.user, membership.context
    else:
        user = active_user(int(user_id))
        if user is not None and context_id:
            context = LtiContext.by_id(context_id)
    if user is not None:
        _remember(user, context, membership)
    return user


def _remember(user, context, membership, link=None) -> None:
    launch = CurrentLaunch(
        user=user,
        launch_id=session.get(_LAUNCH_ID),
        context=context,
        membership=membership,
        link_id=session.get(_RESOURCE_LINK_ID),
        context_id=session.get(_CONTEXT_ID),
        claims=session.get(_CLAIMS) or {},
        read_link=link,
    )
    setattr(g, _CURRENT, launch)


def start_launch_session(user, launch_id, context, membership, link, claims) -> None:
    """Log ``user`` in with a fresh session bound to this launch.

    ``membership``: the user's in ``context`` as the launch recorded it (or
    None); ``claims``: the id_token's, of which the :data:`ROUTING_CLAIMS` that
    are strings are kept for the landing.
    """
    session.clear()  # a launch in another context must not inherit this one
    login_user(user)
    session[_LAUNCH_ID] = launch_id
    session[_CONTEXT_ID] = context.id if context else None
    session[_RESOURCE_LINK_ID] = link.id if link else None
    session[_CLAIMS] = {
        name: claims[name]
        for name in ROUTING_CLAIMS
        if isinstance(claims.get(name), str)
    }
    if membership is not None:  # as the user loader reads it: user and context
        membership.user, membership.context = user, context
    _remember(user, context, membership, link)


def current_launch() -> CurrentLaunch | None:
    """This request's launch; None when nobody is signed in."""
    if not current_user.is_authenticated:
        return None
    return g.get(_CURRENT)


def reread_context() -> None:
    """Read the launch's context again (after this request changed it)."""
    launch = current_launch()
    if launch is not None and launch.context is not None:
        launch.context = LtiContext.by_id(launch.context.id)


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


#: The course staff: they see the instructor view and choose a link's module.
STAFF_ROLES = roles.STAFF


def is_staff(membership) -> bool:
    """True when ``membership`` (or None) holds one of :data:`STAFF_ROLES`."""
    return bool(membership) and any(getattr(membership, f"is_{r}") for r in STAFF_ROLES)


def has_role(*roles: str) -> bool:
    """True when the signed-in user holds one of ``roles`` in the launch's context."""
    launch = current_launch()
    return launch is not None and launch.has_role(*roles)


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
    app.context_processor(_launch_for_templates)


def _launch_for_templates() -> dict:
    """Templates read the launch as ``launch`` (None when this request loaded none).

    Reads only what the user loader left: rendering a page never queries for it.
    """
    return {"launch": g.get(_CURRENT)}
