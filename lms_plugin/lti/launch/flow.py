"""A launch is validate → sync → dispatch.

``validate_launch`` runs every check (adapter.py) and turns any refusal into a
:class:`LaunchError`; ``sync_*_from_launch`` record who, where and in which role;
``dispatch`` logs the user in and sends them to the page for the message type.
"""

import json
import logging

from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.utils import redirect

from lms_plugin.auth import start_launch_session
from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.errors import LaunchError
from lms_plugin.landing import landing_for
from lms_plugin.lti import claims
from lms_plugin.lti import roles
from lms_plugin.lti.launch import storage
from lms_plugin.lti.launch import tickets
from lms_plugin.lti.launch.adapter import PROTOCOL_ERRORS
from lms_plugin.lti.launch.adapter import PlatformStorageNeeded
from lms_plugin.lti.launch.adapter import ToolMessageLaunch
from lms_plugin.lti.launch.adapter import build_launch
from lms_plugin.lti.launch.adapter import build_login
from lms_plugin.lti.launch.adapter import origin_of
from lms_plugin.lti.launch.adapter import platform_storage_keys
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.lti import LtiResourceLink
from lms_plugin.models.lti import User

log = logging.getLogger(__name__)

#: Malformed claims that pylti1p3's validators trip over instead of rejecting.
_MALFORMED = (AttributeError, TypeError, ValueError, KeyError)


def validate_launch() -> tuple[ToolMessageLaunch, dict]:
    """Build and validate the launch of this request; refuse it with a LaunchError."""
    try:
        message_launch = build_launch()
        return message_launch, dict(message_launch.get_launch_data())
    except (LaunchError, PlatformStorageNeeded):
        raise
    except PROTOCOL_ERRORS + _MALFORMED as error:
        raise rejected(str(error)) from None
    except Exception as error:
        # pylti1p3 raises bare Exception for unknown issuers/client_ids; anything
        # more specific (a database outage) is a real 500.
        if type(error) is not Exception:
            raise
        raise rejected(str(error)) from None


def rejected(reason: str) -> LaunchError:
    """The LaunchError for a launch that failed an LTI security check."""
    return LaunchError(
        "The course platform's launch could not be verified, so the tool did not "
        "open. Go back to your course and open the tool again; if it keeps "
        "happening, tell your course administrator.",
        detail=reason,
    )


def start_login():
    """Answer an OIDC login: redirect to the platform (through platform storage)."""
    storage.purge_now_and_then()
    oidc = build_login()
    try:
        url = oidc.get_redirect_object(url_for("lti.launch", _external=True))
    except PROTOCOL_ERRORS as error:
        raise login_rejected(str(error)) from None
    if not oidc.storage_target:
        return url.do_redirect()
    page = render_template(
        "lti/platform_storage_login.html",
        auth_url=url.get_redirect_url(),
        target=oidc.storage_target,
        platform_origin=origin_of(url.get_redirect_url()),
        keys=platform_storage_keys(oidc.state, oidc.nonce),
        state=oidc.state,
        nonce=oidc.nonce,
    )
    return oidc.finish(make_response(page))


def login_rejected(reason: str) -> LaunchError:
    """The LaunchError for a login initiation we cannot act on."""
    return LaunchError(
        "The tool could not start the sign-in from your course platform. Go back "
        "to your course and open the tool again; if it keeps happening, tell your "
        "course administrator.",
        detail=f"OIDC login initiation refused: {reason} (iss={_param('iss')!r}, "
        f"client_id={_param('client_id')!r})",
    )


def _param(name: str) -> str | None:
    return request.values.get(name)


def platform_storage_launch_page(needed: PlatformStorageNeeded):
    """A page that reads state and nonce back from platform storage, then re-posts."""
    login = needed.login
    return render_template(
        "lti/platform_storage_launch.html",
        target=login["storage_target"],
        platform_origin=login["platform_origin"],
        keys=platform_storage_keys(needed.state, login["nonce"]),
        form=request.form,
    )


def handle_launch():
    """Validate, record and dispatch the launch posted to ``/lti/launch``."""
    try:
        message_launch, data = validate_launch()
    except PlatformStorageNeeded as needed:
        return platform_storage_launch_page(needed)
    user, context, membership, link = sync_launch(message_launch, data)
    launch_id = message_launch.get_launch_id()
    start_launch_session(user, launch_id, context, membership, link, data)
    log.info(
        "LTI launch accepted: %s user=%s context=%s",
        data.get(claims.CLAIM_MESSAGE_TYPE),
        user.id,
        context.id if context else None,
    )
    return dispatch(message_launch, link)


def sync_launch(message_launch: ToolMessageLaunch, data: dict):
    """Record user, context, membership and resource link in one transaction."""
    deployment = message_launch.deployment_row
    with database.atomic():
        user = sync_user_from_launch(message_launch.registration_row, data)
        context = sync_context_from_launch(deployment, data)
        membership = sync_membership_from_launch(user, context, data)
        link = None
        if message_launch.is_resource_launch():
            link = sync_resource_link_from_launch(deployment, context, data)
            bind_link_from_launch(link, data)
    return user, context, membership, link


def dispatch(message_launch: ToolMessageLaunch, link: LtiResourceLink | None):
    """Send the user on by message type."""
    if message_launch.is_deep_link_launch():
        return handle_deep_linking_launch(message_launch)
    if link is not None:
        return landing_redirect(landing_for(link))
    message_type = message_launch.get_launch_data().get(claims.CLAIM_MESSAGE_TYPE)
    raise LaunchError(
        "This kind of launch is not supported by the tool.",
        detail=f"message type {message_type!r} is not handled",
    )


def handle_deep_linking_launch(message_launch: ToolMessageLaunch):
    """Open the module picker for a deep-linking launch (``deep_linking.py``)."""
    from lms_plugin.lti.deep_linking import flow as deep_linking

    return deep_linking.start(message_launch)


def bind_link_from_launch(link: LtiResourceLink, data: dict) -> None:
    """Bind an unbound link to the module its custom ``module_id`` names."""
    from lms_plugin.lti.deep_linking import flow as deep_linking

    deep_linking.bind_from_launch(link, data)


def landing_redirect(landing: str):
    """Redirect to ``landing`` with a one-time ticket, in case the cookie is lost."""
    grant = tickets.session_grant(landing)
    ticket = tickets.mint(grant, tickets.LANDING_LIFETIME)
    return redirect(tickets.with_ticket(landing, ticket), code=303)


def _claim(data: dict, name: str) -> dict:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value.strip()[:255] if isinstance(value, str) else ""


def sync_user_from_launch(registration, data: dict) -> User:
    """Record the user (registration, sub) with the PII this launch carries."""
    values = {
        name: _text(data.get(name))
        for name in ("name", "given_name", "family_name", "email")
    }
    if not values["name"]:
        values["name"] = f"{values['given_name']} {values['family_name']}".strip()
    values["last_launch_at"] = utcnow()
    return User.upsert({"registration": registration, "sub": data["sub"]}, values)


def sync_context_from_launch(deployment, data: dict) -> LtiContext | None:
    """Record the course context, or None when the launch has none."""
    context = _claim(data, claims.CLAIM_CONTEXT)
    if not context.get("id"):
        return None
    ags = _claim(data, claims.CLAIM_AGS_ENDPOINT)
    nrps = _claim(data, claims.CLAIM_NRPS)
    values = {
        "label": _text(context.get("label")),
        "title": str(context.get("title") or ""),
        "types": json.dumps(context.get("type") or []),
        "updated_at": utcnow(),
    }
    if ags:
        values["lineitems_url"] = ags.get("lineitems")
        values["ags_scopes"] = json.dumps(ags.get("scope") or [])
    if nrps.get("context_memberships_url"):
        values["memberships_url"] = nrps["context_memberships_url"]
    keys = {"deployment": deployment, "id_on_platform": str(context["id"])}
    return LtiContext.upsert(keys, values)


def sync_membership_from_launch(user, context, data: dict) -> LtiMembership | None:
    """Record the user's roles in the context (None without a context)."""
    if context is None:
        return None
    sent = data.get(claims.CLAIM_ROLES) or []
    granted = roles.map_roles(sent)
    values = {f"is_{role}": role in granted for role in roles.ROLES}
    # A member who launches is active, whatever an older roster sync said.
    values.update(roles=json.dumps(sent), status="Active", updated_at=utcnow())
    return LtiMembership.upsert({"user": user, "context": context}, values)


def sync_resource_link_from_launch(deployment, context, data: dict) -> LtiResourceLink:
    """Record the resource link launched (its module binding is kept)."""
    link = _claim(data, claims.CLAIM_RESOURCE_LINK)
    ags = _claim(data, claims.CLAIM_AGS_ENDPOINT)
    values = {
        "context": context,
        "title": str(link.get("title") or ""),
        "description": str(link.get("description") or ""),
        "custom": json.dumps(_claim(data, claims.CLAIM_CUSTOM)),
        "updated_at": utcnow(),
    }
    if ags.get("lineitem"):
        values["lineitem_url"] = ags["lineitem"]
    keys = {"deployment": deployment, "id_on_platform": str(link["id"])}
    return LtiResourceLink.upsert(keys, values)
