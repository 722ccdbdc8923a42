"""The LTI endpoints: login initiation, launch, resume and the tool's JWKS."""

import logging

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import render_template

from lms_plugin import csrf
from lms_plugin.errors import LaunchError
from lms_plugin.lti.launch import resume as resume_flow
from lms_plugin.lti.launch.flow import handle_launch
from lms_plugin.lti.launch.flow import start_login
from lms_plugin.lti.registration import keys

bp = Blueprint("lti", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # a cross-site form post from the platform; LTI state protects it
def login():
    """OIDC third-party initiated login (LTI 1.3 §5.1.1, Security Framework §5.1.1)."""
    return start_login()


@bp.post("/launch")
@csrf.exempt  # the platform's form post; id_token, state and nonce protect it
def launch():
    """The platform's id_token form post: resource-link and deep-linking launches."""
    return handle_launch()


@bp.get("/launch")
def launch_by_get():
    """A reload or bookmark of the launch URL: explain instead of a bare 405."""
    raise LaunchError(
        "This address only works when your course platform opens the tool. Go "
        "back to your course and open the tool from there.",
        detail="GET /lti/launch: launches arrive as a form POST from the platform.",
        status_code=405,
        title="Open the tool from your course",
    )


@bp.before_app_request
def landing_ticket():
    """A landing URL with a launch ticket: strip it, or explain blocked cookies."""
    return resume_flow.check_landing_ticket()


@bp.get("/resume")
def resume():
    """The new-window way in when the course page's frame withheld our cookie."""
    return resume_flow.resume()


@bp.get("/jwks")
def jwks():
    """The tool's public keys: the signing key and rotated keys still in grace."""
    response = jsonify(keys.public_jwks())
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["LTI_JWKS_MAX_AGE"]
    return response


@bp.errorhandler(LaunchError)
def launch_error(error: LaunchError):
    """Every refused launch: a page for the learner and the admin, and a log line."""
    log.warning(
        "LTI launch rejected (%s %s): %s", error.status_code, error.title, error.detail
    )
    page = render_template("lti/launch_error.html", error=error)
    return page, error.status_code
