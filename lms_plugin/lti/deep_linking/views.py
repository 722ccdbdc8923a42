"""Blueprint "deep_linking": the module picker and the chooser for pasted links.

``/lti/deep-linking/<launch_id>`` answers a deep-linking launch (GET shows the
picker, POST signs and posts the response back to the platform);
``/lti/links/<link_id>/choose`` lets course staff choose the module of a link
that was added without deep linking. The work lives in ``deep_linking.py``.
"""

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import login_required
from werkzeug.utils import redirect

from lms_plugin.landing import landing_for
from lms_plugin.lti.deep_linking import flow as dl

bp = Blueprint("deep_linking", __name__)


@bp.get("/lti/deep-linking/<launch_id>")
@login_required
def picker(launch_id: str):
    """The picker of published modules for a deep-linking launch."""
    return _picker_page(dl.load_request(launch_id))


@bp.post("/lti/deep-linking/<launch_id>")
@login_required
def picker_submit(launch_id: str):
    """Sign the chosen modules (or none, to cancel) and post them to the platform."""
    deep_link = dl.load_request(launch_id)
    choices = []
    if request.form.get("action") != "cancel":
        try:
            choices = dl.chosen_modules(
                request.form.getlist("module"), multiple=deep_link.accept_multiple
            )
        except ValueError as error:
            return _picker_page(deep_link, error=str(error)), 422
    token = dl.respond(deep_link, choices)
    return render_template(
        "lti/deep_link_return.html",
        return_url=deep_link.return_url,
        jwt=token,
        summary=dl.summary(choices),
    )


def _picker_page(deep_link: dl.DeepLinkRequest, error: str | None = None):
    return render_template(
        "lti/deep_link_picker.html",
        deep_link=deep_link,
        modules=dl.published_modules(),
        chosen=set(request.form.getlist("module")),
        error=error,
    )


@bp.route("/lti/links/<int:link_id>/choose", methods=["GET", "POST"])
@login_required
def choose_module(link_id: int):
    """Course staff choose the module a pasted (unbound) link opens."""
    link = dl.link_for_staff(link_id)
    error = None
    if request.method == "POST":
        try:
            dl.bind_link(link, request.form.get("module", ""))
            return redirect(landing_for(link), code=303)
        except ValueError as problem:
            error = str(problem)
    page = render_template(
        "lti/deep_link_choose.html",
        link=link,
        modules=dl.published_modules(),
        chosen={request.form.get("module") or link.module_slug},
        error=error,
    )
    return page, 422 if error else 200
