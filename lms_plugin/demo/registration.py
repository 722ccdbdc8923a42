"""The demo platform's registration with the tool, made by LTI Dynamic Registration.

``register_over_http`` runs the tool's own Dynamic Registration code
(``lms_plugin.lti.registration.dynamic.register_with_platform``) against the demo's
OpenID configuration over real HTTP, with a one-time registration token, once
the server listens. Like any LMS it needs an administrator's consent: the demo,
being the tool's operator too, mints its own single-use invite for its issuer.
It reuses the registration when both sides still have it, so restarts register
nothing new.
"""

import contextlib
import datetime

from lms_plugin.db import database
from lms_plugin.demo.dynamic_registration import registration_token
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.lti.registration.consent import create_invite
from lms_plugin.lti.registration.dynamic import register_with_platform
from lms_plugin.lti.registration.platform_configuration import Policy
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration

#: Plain http is accepted only for loopback hosts (``check_url``'s rule), which
#: is where the demo runs; no allow list: the demo consents with an invite.
DEMO_POLICY = Policy(allow_http_localhost=True)
#: The demo's own invite is spent within seconds of being made.
INVITE_LIFETIME = datetime.timedelta(minutes=10)


def issuer_for(base_url: str) -> str:
    """The platform issuer served from ``base_url``."""
    return base_url.rstrip("/") + "/demo"


def openid_configuration_url(base_url: str) -> str:
    """Where the demo platform publishes its OpenID configuration."""
    return f"{issuer_for(base_url)}/.well-known/openid-configuration"


def register_over_http(base_url: str) -> Registration:
    """Register the demo with the tool at ``base_url`` by Dynamic Registration.

    Needs an app context and a server answering at ``base_url``. Idempotent: an
    existing registration known to both sides is returned as it is.
    """
    issuer = issuer_for(base_url)
    with demo_database.connection_context():
        existing = current_registration(issuer)
        if existing is not None and _tool_knows(existing):
            return existing
        token = registration_token()
    with _tool_database():
        _, secret = create_invite(
            expires_in=INVITE_LIFETIME,
            issuer=issuer,
            note="demo LMS",
            allow_http_localhost=True,
        )
        result = register_with_platform(
            openid_configuration_url(base_url), token, base_url, DEMO_POLICY, secret
        )
        _retire_other_clients(issuer, result.registration)
    with demo_database.connection_context():
        return current_registration(issuer)


def _tool_knows(registration: Registration) -> bool:
    """True when the tool has this client and deployment, active."""
    with _tool_database():
        return (
            LtiDeployment.select()
            .join(LtiRegistration)
            .where(
                LtiRegistration.issuer == registration.issuer,
                LtiRegistration.client_id == registration.client_id,
                LtiRegistration.is_active == True,  # noqa: E712 - SQL
                LtiDeployment.deployment_id == registration.deployment_id,
                LtiDeployment.is_active == True,  # noqa: E712 - SQL
            )
            .exists()
        )


def _retire_other_clients(issuer: str, keep: LtiRegistration) -> None:
    """The demo answers one client per issuer: older ones can no longer launch."""
    LtiRegistration.update(is_active=False).where(
        LtiRegistration.issuer == issuer, LtiRegistration.id != keep.id
    ).execute()


def _tool_database():
    """A connection to the tool's database, reusing the request's if one is open."""
    if database.is_closed():
        return database.connection_context()
    return contextlib.nullcontext()


def current_registration(issuer: str) -> Registration | None:
    """The platform's registration for ``issuer``, if it has made one."""
    return Registration.get_or_none(Registration.issuer == issuer)
