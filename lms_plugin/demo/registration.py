"""The demo platform's registration of the tool, made through the tool's own models.

``register_with_tool`` inserts the tool's ``LtiRegistration`` and ``LtiDeployment``
rows for this platform (issuer = the demo's base URL + ``/demo``) and records the
same client_id and deployment_id on the platform side. Idempotent across restarts.
"""

import contextlib
import json
import secrets

from lms_plugin.db import database
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import demo_database
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration


def issuer_for(base_url: str) -> str:
    """The platform issuer served from ``base_url``."""
    return base_url.rstrip("/") + "/demo"


def register_with_tool(base_url: str) -> Registration:
    """Register this platform with the tool served from ``base_url`` (idempotent)."""
    issuer = issuer_for(base_url)
    with demo_database.atomic():
        registration = Registration.get_or_none(Registration.issuer == issuer)
        if registration is None:
            registration = Registration.create(
                issuer=issuer,
                client_id=f"demo-{secrets.token_hex(8)}",
                deployment_id=f"1:{secrets.token_hex(12)}",
                **tool_endpoints(base_url),
            )
    with _tool_database(), database.atomic():
        _ensure_tool_rows(registration)
    return registration


def _tool_database():
    """A connection to the tool's database, reusing the request's if one is open."""
    if database.is_closed():
        return database.connection_context()
    return contextlib.nullcontext()


def tool_endpoints(base_url: str) -> dict:
    """The tool's LTI endpoints when it runs at ``base_url`` (same process)."""
    base = base_url.rstrip("/")
    return {
        "tool_login_url": f"{base}/lti/login",
        "tool_launch_url": f"{base}/lti/launch",
        "redirect_uris": json.dumps([f"{base}/lti/launch"]),
        "tool_jwks_url": f"{base}/lti/jwks",
    }


def _ensure_tool_rows(registration: Registration) -> None:
    """Create (or re-activate) the tool's registration and deployment rows."""
    issuer = registration.issuer
    tool_registration, _ = LtiRegistration.get_or_create(
        issuer=issuer,
        client_id=registration.client_id,
        defaults={
            "name": "Demo LMS (built in)",
            "auth_login_url": f"{issuer}/auth",
            "auth_token_url": f"{issuer}/token",
            "key_set_url": f"{issuer}/jwks",
            "platform_family": "demo",
            "source": "manual",
        },
    )
    LtiDeployment.get_or_create(
        registration=tool_registration, deployment_id=registration.deployment_id
    )


def current_registration(issuer: str) -> Registration | None:
    """The platform's registration for ``issuer``, if it has made one."""
    return Registration.get_or_none(Registration.issuer == issuer)
