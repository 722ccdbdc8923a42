"""Blueprint ``lti_registration``: /lti/register and /lti/config/canvas.json.

``/lti/register/<secret>`` is the URL an administrator got from ``lms-plugin
platform invite``; plain ``/lti/register`` serves only platforms on the allow
list, and answers everyone else a 403 that says how to get an invite. Consent is
checked before the tool fetches anything (``dynamic.consent_for``).

Also wires the ``platform`` CLI group. The pages run inside the LMS's iframe,
where third-party cookies are unreliable, so the confirmation form is protected
without a session: a signed, expiring token bound to the exact registration
parameters, plus an Origin check on the POST.
"""

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from lms_plugin import csrf
from lms_plugin import security
from lms_plugin.errors import LmsError
from lms_plugin.lti.registration import consent
from lms_plugin.lti.registration.canvas import canvas_developer_key
from lms_plugin.lti.registration.dynamic import consented_configuration
from lms_plugin.lti.registration.dynamic import register_with_platform
from lms_plugin.lti.registration.platform_configuration import Policy
from lms_plugin.lti.registration.platform_configuration import policy_for
from lms_plugin.lti.registration.platforms import PlatformError
from lms_plugin.lti.registration.platforms import origin_of
from lms_plugin.lti.registration.tool_registration import PLACEMENT_LABELS
from lms_plugin.lti.registration.tool_registration import PLACEMENTS
from lms_plugin.lti.registration.tool_registration import SCOPE_LABELS
from lms_plugin.lti.registration.tool_registration import build_tool_registration
from lms_plugin.lti.registration.tool_registration import requested_scopes
from lms_plugin.models.lti import is_canvas_cloud

bp = Blueprint("lti_registration", __name__)

#: Canvas registration tokens live one hour; the confirmation form as long.
FORM_MAX_AGE = 3600


class FormError(LmsError):
    """The registration form was not one this tool showed, or it expired."""

    status_code = 400
    title = "Registration form not accepted"


@bp.get("/lti/register")
@bp.get("/lti/register/<secret>")
def register_form(secret: str | None = None):
    """Show what will be registered with the LMS, and a Register button."""
    openid_configuration, token = _registration_params(request.args)
    _, platform = consented_configuration(
        openid_configuration, token, secret, _policy()
    )
    base = request.host_url
    return render_template(
        "lti_registration/confirm.html",
        platform=platform,
        registration=build_tool_registration(base, platform),
        scopes=[SCOPE_LABELS[scope] for scope in requested_scopes(platform)],
        placements=_placement_labels(platform.product_family_code),
        openid_configuration=openid_configuration,
        registration_token=token or "",
        form_token=_sign_form(openid_configuration, token, secret),
        form_action=request.path,
    )


def _placement_labels(family: str) -> list[str]:
    names = [n for names in PLACEMENTS.get(family, {}).values() for n in names]
    return [PLACEMENT_LABELS.get(name, name) for name in names]


@bp.post("/lti/register")
@bp.post("/lti/register/<secret>")
@csrf.exempt  # inside the LMS iframe: the signed form token (not the session) guards it
def register_submit(secret: str | None = None):
    """Register with the LMS, then tell the LMS window to close this frame."""
    _check_origin()
    openid_configuration, token = _registration_params(request.form)
    _verify_form(
        request.form.get("form_token", ""), openid_configuration, token, secret
    )
    result = register_with_platform(
        openid_configuration, token, request.host_url, _policy(), secret
    )
    return render_template("lti_registration/complete.html", result=result)


@bp.get("/lti/config/canvas.json")
def canvas_config():
    """The Canvas developer-key JSON, with URLs of the host Canvas asked."""
    return jsonify(canvas_developer_key(request.host_url))


@bp.after_request
def _registration_headers(response):
    if request.endpoint and request.endpoint.startswith("lti_registration.register"):
        # The page carries the platform's one-time token: keep it out of caches
        # and out of Referer headers to other sites. Not "no-referrer": with it
        # browsers send "Origin: null" on our own form POST.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = registration_csp(
            request.values.get("openid_configuration", "")
        )
    return response


def registration_csp(openid_configuration: str) -> str:
    """The page's CSP: framable by the LMS that is registering, though unknown yet.

    security.py lets only registered platforms frame the tool; the LMS running
    Dynamic Registration frames this page before it is registered. Canvas cloud
    serves its admin pages from each institution's instructure.com host.
    Framing gains a stranger nothing here: without consent the page is a 403
    with nothing to click, and with it the confirmation is the admin's own.
    """
    try:
        url = _policy().check_url(openid_configuration, "openid_configuration")
    except PlatformError:
        return security.content_security_policy()
    parts = urlsplit(url)
    ancestors = [f"{parts.scheme}://{parts.netloc}"]
    if is_canvas_cloud(url):
        ancestors.extend(security.CANVAS_CLOUD_ORIGINS)
    return security.content_security_policy(tuple(ancestors))


def _policy() -> Policy:
    return policy_for(current_app)


def _registration_params(values) -> tuple[str, str | None]:
    openid_configuration = (values.get("openid_configuration") or "").strip()
    if not openid_configuration:
        raise PlatformError(
            "This is the tool's Dynamic Registration URL. Paste it into your LMS "
            "(Canvas: Developer Keys > LTI Registration; Moodle: Manage tools > "
            "Tool URL); the LMS adds the openid_configuration parameter."
        )
    return openid_configuration, (
        values.get("registration_token") or ""
    ).strip() or None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lti-registration")


def _fingerprint(
    openid_configuration: str, token: str | None, secret: str | None
) -> list[str]:
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    return [openid_configuration, digest, consent.hash_secret(secret or "")]


def _sign_form(openid_configuration: str, token: str | None, secret: str | None) -> str:
    return _serializer().dumps(_fingerprint(openid_configuration, token, secret))


def _verify_form(
    form_token: str, openid_configuration: str, token: str | None, secret: str | None
):
    try:
        signed = _serializer().loads(form_token, max_age=FORM_MAX_AGE)
    except SignatureExpired:
        raise FormError(
            "The registration page expired. Start the registration again from your LMS."
        ) from None
    except BadSignature:
        raise FormError("The registration form was not issued by this tool.") from None
    if signed != _fingerprint(openid_configuration, token, secret):
        raise FormError("The registration form was altered after it was shown.")


def _check_origin() -> None:
    """Refuse a cross-site POST: browsers name the posting page's origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return  # old browsers and non-browser clients; the signed form still holds
    allowed = {origin_of(request.host_url)}
    if current_app.config["BASE_URL"]:
        allowed.add(origin_of(current_app.config["BASE_URL"]))
    if origin == "null" or origin_of(origin) not in allowed:
        raise FormError(
            "The registration form was posted from another site.",
            detail="Behind a proxy, set PROXY_FIX or BASE_URL so the tool knows "
            "its public address.",
            status_code=403,
        )
