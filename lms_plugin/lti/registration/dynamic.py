"""LTI Dynamic Registration, the tool side: the steps, over the network, and storage.

Spec: 1EdTech LTI Dynamic Registration 1.0, https://www.imsglobal.org/spec/lti-dr/v1p0
(as Moodle 3.10+ and Canvas implement it; Canvas: ``doc/api/registration.md``).

0. An administrator consents: ``lms-plugin platform invite`` prints
   ``/lti/register/<secret>`` (``consent.py``), or the platform's origin is on
   ``LTI_REGISTRATION_ALLOWED_ISSUERS``. :func:`consent_for` checks it before
   the tool fetches anything.
1. The platform opens the invite's URL with ``?openid_configuration=…`` and
   ``&registration_token=…`` appended.
2. :func:`fetch_platform_configuration` GETs the platform's OpenID configuration
   and ``platform_configuration.py`` checks it (§3.4, §3.5.1: the issuer shares
   the configuration URL's origin).
3. ``tool_registration.py`` describes this tool (§3.5.2), and
   :func:`register_with_platform` POSTs it with the registration token as Bearer
   (§3.5.3), then, in one transaction, spends one use of the invite and stores
   the returned client_id and deployment, or holds a change to a registration
   the tool already trusts for an administrator to accept
   (``platforms.propose_platform``).

Network code and storage live here; the Flask views are in ``views.py``.
"""

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from lms_plugin import outbound
from lms_plugin.db import database
from lms_plugin.lti.registration import consent
from lms_plugin.lti.registration.platform_configuration import PlatformConfiguration
from lms_plugin.lti.registration.platform_configuration import Policy
from lms_plugin.lti.registration.platform_configuration import RegistrationError
from lms_plugin.lti.registration.platform_configuration import (
    parse_platform_configuration,
)
from lms_plugin.lti.registration.platform_configuration import text_of
from lms_plugin.lti.registration.platforms import PlatformError
from lms_plugin.lti.registration.platforms import PlatformSettings
from lms_plugin.lti.registration.platforms import check_identifier
from lms_plugin.lti.registration.platforms import propose_platform
from lms_plugin.lti.registration.platforms import validate_settings
from lms_plugin.lti.registration.tool_registration import TOOL_CONFIGURATION
from lms_plugin.lti.registration.tool_registration import build_tool_registration
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import RegistrationInvite

log = logging.getLogger(__name__)

#: A platform answer bigger than this is not an OpenID configuration.
MAX_RESPONSE_BYTES = 1_000_000
USER_AGENT = "lms_plugin (LTI 1.3 tool; Dynamic Registration)"


def consent_for(
    openid_configuration: str, invite_secret: str | None, policy: Policy
) -> RegistrationInvite | None:
    """The administrator's consent to register this platform, before any fetch.

    A usable invite (returned), or the configuration URL's origin on the allow
    list (None). Anything else is a 403 :class:`consent.ConsentError`.
    """
    url = policy.check_url(openid_configuration, "The openid_configuration URL")
    if invite_secret:
        return consent.usable_invite(invite_secret, url)
    if consent.allow_listed(url, policy.allowed_issuers):
        return None
    raise consent.ConsentError(
        "This tool registers an LMS only with its administrator's consent, and "
        f"{urlsplit(url).hostname} has none. " + consent.HOW_TO_INVITE
    )


def consented_configuration(
    openid_configuration: str,
    registration_token: str | None,
    invite_secret: str | None,
    policy: Policy,
) -> tuple[RegistrationInvite | None, PlatformConfiguration]:
    """Consent first, then the platform's configuration, then its issuer checked."""
    invite = consent_for(openid_configuration, invite_secret, policy)
    platform = fetch_platform_configuration(
        openid_configuration, registration_token, policy
    )
    consent.check_issuer(invite, platform.issuer)
    return invite, platform


def fetch_platform_configuration(
    url: str, registration_token: str | None, policy: Policy
) -> PlatformConfiguration:
    """GET and validate the platform's OpenID configuration (DR §3.4).

    Only after :func:`consent_for` has allowed this registration.
    """
    url = policy.check_url(url, "The openid_configuration URL")
    # Canvas requires the registration token on this GET; Moodle ignores it.
    response = _http("GET", url, registration_token)
    if response.status_code != 200:
        # Said as every other failure is: whoever names the URL must not learn
        # what answers where (lms_plugin/outbound); the status goes to the log.
        raise outbound.unusable(
            f"GET {url}: HTTP {response.status_code} {_platform_error(response)}"
        )
    return parse_platform_configuration(_json(response, url), url, policy)


@dataclass(frozen=True)
class RegistrationResult:
    """What the platform answered and what the tool stored."""

    registration: LtiRegistration
    outcome: str  # created | updated | pending (held for an administrator)
    deployment_id: str | None

    @property
    def created(self) -> bool:
        return self.outcome == "created"

    @property
    def pending(self) -> bool:
        return self.outcome == "pending"


def register_with_platform(
    openid_configuration: str,
    registration_token: str | None,
    base: str,
    policy: Policy,
    invite_secret: str | None = None,
) -> RegistrationResult:
    """Run Dynamic Registration end to end; store the result in one transaction.

    Refused (403) before anything is fetched unless an administrator consented
    (:func:`consent_for`).
    """
    invite, platform = consented_configuration(
        openid_configuration, registration_token, invite_secret, policy
    )
    body = build_tool_registration(base, platform)
    answer = post_tool_registration(platform, body, registration_token)
    client_id, deployment_id = _read_registration_response(answer)
    settings = PlatformSettings(
        issuer=platform.issuer,
        client_id=client_id,
        auth_login_url=platform.authorization_endpoint,
        auth_token_url=platform.token_endpoint,
        key_set_url=platform.jwks_uri,
        deployment_ids=[deployment_id] if deployment_id else [],
        name=platform.name,
        platform_family=platform.product_family_code,
        source="dynamic",
    )
    settings = validate_settings(
        settings, allow_http_localhost=policy.allow_http_localhost
    )
    try:
        with database.atomic():
            if invite is not None:
                consent.spend(invite)
            registration, outcome = propose_platform(settings, invite)
    except consent.ConsentError:
        raise
    except Exception as error:
        log.exception(
            "registered with %s as client_id %s but could not store it",
            platform.issuer,
            client_id,
        )
        raise RegistrationError(
            f"Your LMS registered the tool as client {client_id}, but the tool could "
            "not save the registration. Nothing was saved; try again, or add it with "
            "`lms-plugin platform add`.",
            detail=type(error).__name__,
            status_code=500,
        ) from None
    log.info(
        "dynamic registration %s: %s client_id=%s deployment=%s invite=%s",
        outcome,
        platform.issuer,
        client_id,
        deployment_id,
        invite.id if invite else "allow-list",
    )
    return RegistrationResult(registration, outcome, deployment_id)


def post_tool_registration(
    platform: PlatformConfiguration, body: dict, registration_token: str | None
) -> dict:
    """POST the registration to the platform; return its JSON answer (DR §3.6)."""
    response = _http(
        "POST", platform.registration_endpoint, registration_token, json_body=body
    )
    if response.status_code not in (200, 201):
        raise RegistrationError(
            f"The LMS refused the registration (HTTP {response.status_code}).",
            detail=_platform_error(response),
        )
    answer = _json(response, platform.registration_endpoint)
    if not isinstance(answer, dict):
        raise RegistrationError("The LMS's registration answer is not a JSON object.")
    return answer


def _read_registration_response(answer: dict) -> tuple[str, str | None]:
    """client_id and (Moodle) deployment_id from the platform's answer."""
    try:
        client_id = check_identifier(answer.get("client_id"), "client_id")
    except PlatformError as error:
        raise RegistrationError(
            "The LMS accepted the registration but sent no usable client_id.",
            detail=error.message,
        ) from None
    configuration = answer.get(TOOL_CONFIGURATION)
    raw = (
        configuration.get("deployment_id") if isinstance(configuration, dict) else None
    )
    if raw is None or raw == "":
        # Canvas creates the deployment when the admin enables the key; the
        # first launch brings it (held or accepted per LTI_UNKNOWN_DEPLOYMENTS).
        return client_id, None
    try:
        return client_id, check_identifier(raw, "deployment_id")
    except PlatformError as error:
        raise RegistrationError(
            "The LMS sent an unusable deployment_id.", detail=error.message
        ) from None


def _http(
    method: str, url: str, token: str | None, json_body: dict | None = None
) -> outbound.Response:
    """One request to the platform through the guarded client (``lms_plugin.outbound``).

    Any failure is :class:`~lms_plugin.outbound.OutboundError`, one neutral
    message; the registration token is never sent to a refused address.
    """
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with outbound.client(
        USER_AGENT, max_bytes=MAX_RESPONSE_BYTES, registration=True
    ) as http:
        return http.request(method, url, headers=headers, json=json_body)


def _json(response: outbound.Response, url: str) -> object:
    try:
        return response.json()
    except ValueError as error:
        raise outbound.unusable(f"{url}: {error}") from None


def _platform_error(response: outbound.Response) -> str:
    """A short, safe summary of a platform's error answer for the admin."""
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, body is not JSON"
    if isinstance(data, dict):
        # Spec form (RFC 7591 §3.2.2), then Canvas's {"errors": [...]}.
        parts = [text_of(data.get("error")), text_of(data.get("error_description"))]
        if not any(parts) and data.get("errors"):
            parts = [json.dumps(data["errors"])]
        return ": ".join(p for p in parts if p)[:500]
    return ""
