"""The demo LMS's pages: the course home, user picking, and launch frames.

A launch opens the tool in an iframe on a course page, as Canvas does: the frame
loads ``…/start``, which posts the login initiation to the tool's ``/lti/login``.
"""

from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from lms_plugin.demo import gradebook
from lms_plugin.demo.blueprint import bp
from lms_plugin.demo.blueprint import issuer
from lms_plugin.demo.blueprint import registration
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.oidc import start_launch
from lms_plugin.demo.seed import COURSE_NAV_LINK_ID
from lms_plugin.demo.seed import people
from lms_plugin.demo.seed import the_course
from lms_plugin.demo.users import check_csrf
from lms_plugin.demo.users import current_person
from lms_plugin.demo.users import pick_person
from lms_plugin.errors import LmsError


@bp.get("/")
def home():
    """The course: user picker, modules, gradebook and roster."""
    registration()
    return render_template(
        "demo/home.html",
        me=current_person(),
        people=people(),
        course=the_course(),
        links=gradebook.module_links(),
        nav_link_id=COURSE_NAV_LINK_ID,
        grid=gradebook.grid(),
    )


@bp.post("/user")
def choose_user():
    """Switch the current user (CSRF-checked form)."""
    check_csrf()
    pick_person(request.form.get("sub", ""))
    return redirect(url_for("demo.home"))


@bp.get("/links/<link_id>")
def link_frame(link_id: str):
    """A course page showing the tool for one placement in an iframe."""
    link = _link(link_id)
    start = url_for("demo.start_link_launch", link_id=link.link_id)
    return render_template("demo/frame.html", title=link.title, start=start)


@bp.get("/deep-link")
def deep_link_frame():
    """The instructor's "add modules" dialog: a deep-linking launch in an iframe."""
    _require_instructor()
    start = url_for("demo.start_deep_link_launch")
    return render_template("demo/frame.html", title="Add modules", start=start)


@bp.get("/links/<link_id>/start")
def start_link_launch(link_id: str):
    """Post the login initiation for a resource-link launch to the tool."""
    return _initiate(_link(link_id))


@bp.get("/deep-link/start")
def start_deep_link_launch():
    """Post the login initiation for a deep-linking launch to the tool."""
    _require_instructor()
    return _initiate(None)


def _initiate(link: ResourceLink | None):
    target = "window" if request.args.get("target") == "window" else "iframe"
    reg = registration()
    fields = start_launch(reg, issuer(), current_person(), link, target)
    return render_template(
        "demo/autopost.html",
        action=reg.tool_login_url,
        fields=fields,
        what="Starting the launch",
    )


def _link(link_id: str) -> ResourceLink:
    link = ResourceLink.get_or_none(ResourceLink.link_id == link_id)
    if link is None:
        raise LmsError("There is no such module in the course.", status_code=404)
    return link


def _require_instructor() -> None:
    if not current_person().is_instructor:
        raise LmsError(
            "Only the course's instructor can add modules. Switch user to the "
            "instructor on the course page.",
            status_code=403,
        )
