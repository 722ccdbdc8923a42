"""LTI Dynamic Registration, the tool side, and the URLs an admin pastes into an LMS.

Spec: 1EdTech LTI Dynamic Registration 1.0, https://www.imsglobal.org/spec/lti-dr/v1p0
(as Moodle 3.10+ and Canvas implement it; Canvas: ``doc/api/registration.md``).

0. An administrator consents: ``lms-plugin platform invite`` prints
   ``/lti/register/<secret>`` (``consent.py``), or the platform's origin is on
   ``LTI_REGISTRATION_ALLOWED_ISSUERS``. :func:`consent_for` checks it before
   the tool fetches anything.
1. The platform opens the invite's URL with ``?openid_configuration=…`` and
   ``&registration_token=…`` appended.
2. :func:`fetch_platform_configuration` GETs and checks the platform's OpenID
   configuration (§3.4, §3.5.1: the issuer shares the configuration URL's origin).
3. :func:`build_tool_registration` describes this tool (§3.5.2), and
   :func:`register_with_platform` POSTs it with the registration token as Bearer
   (§3.5.3), then, in one transaction, spends one use of the invite and stores
   the returned client_id and deployment, or holds a change to a registration
   the tool already trusts for an administrator to accept
   (``platforms.propose_platform``).

Network code and storage live here; the Flask views are in
``views.py``.
"""

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from lms_plugin import outbound
from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.lti.registration import consent
from lms_plugin.lti.registration.platforms import PlatformError
from lms_plugin.lti.registration.platforms import PlatformSettings
from lms_plugin.lti.registration.platforms import check_identifier
from lms_plugin.lti.registration.platforms import check_url
from lms_plugin.lti.registration.platforms import origin_of
from lms_plugin.lti.registration.platforms import propose_platform
from lms_plugin.lti.registration.platforms import validate_settings
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import RegistrationInvite

log = logging.getLogger(__name__)

TOOL_NAME = "Mentorship modules"
TOOL_DESCRIPTION = (
    "Professional-development modules for healthcare trainees: mentorship, "
    "feedback and clinical teaching, with completion and grades sent to the LMS."
)
#: Canvas correlates one tool across developer keys and accounts by this id.
TOOL_ID = "lms_plugin"

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_TOOL_ID = "https://canvas.instructure.com/lti/tool_id"
CANVAS_COURSE_NAV_DEFAULT = (
    "https://canvas.instructure.com/lti/course_navigation/default_enabled"
)

#: AGS (grades, line items) and NRPS (course roster), in the spec's scope URIs.
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: What each scope lets the tool do, for the confirmation page.
SCOPE_LABELS = {
    SCOPES[0]: "Create and update grade columns",
    SCOPES[1]: "Read grade columns",
    SCOPES[2]: "Read results",
    SCOPES[3]: "Send scores",
    SCOPES[4]: "Read the course roster",
}

#: Identity claims the tool asks for: names for instructors' progress pages,
#: email so a trainee can be told apart from a namesake.
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")

#: Custom parameters sent on every launch: the course's copy history lets the
#: tool recognise a copied course's links (LTI 1.3 core, Appendix E).
CUSTOM_PARAMETERS = {"context_id_history": "$Context.id.history"}

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"

#: Placements per platform family and message type. Canvas: course navigation
#: opens the course's modules; Modules ("link_selection") and Assignments
#: ("assignment_selection", graded) pick one by Deep Linking. Moodle offers its
#: activity chooser as "AddContentMenu" and turns our deep-linking message into
#: its "ContentItemSelectionRequest" tool URL.
PLACEMENTS = {
    "canvas": {
        RESOURCE_LINK: ["course_navigation"],
        DEEP_LINKING: ["link_selection", "assignment_selection"],
    },
    "moodle": {DEEP_LINKING: ["AddContentMenu"]},
}

PLACEMENT_LABELS = {
    "course_navigation": "Course navigation",
    "link_selection": "Modules > Add > External Tool",
    "assignment_selection": "Assignments > External Tool submission",
    "AddContentMenu": "Activity chooser (Deep Linking)",
}

REQUIRED_CONFIGURATION = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)

#: A platform answer bigger than this is not an OpenID configuration.
MAX_RESPONSE_BYTES = 1_000_000
USER_AGENT = "lms_plugin (LTI 1.3 tool; Dynamic Registration)"


class RegistrationError(LmsError):
    """Dynamic Registration could not finish; nothing was stored."""

    status_code = 502
    title = "Registration failed"


def tool_urls(base: str) -> dict[str, str]:
    """The tool's URLs an LMS administrator pastes in, under ``base``."""
    base = base.rstrip("/")
    return {
        "OIDC login initiation URL": f"{base}/lti/login",
        "Redirect (launch) URL": f"{base}/lti/launch",
        "Target link URI": f"{base}/lti/launch",
        "Deep linking URL": f"{base}/lti/launch",
        "Public JWKS URL": f"{base}/lti/jwks",
        "Dynamic Registration URL": f"{base}/lti/register",
        "Canvas developer key JSON URL": f"{base}/lti/config/canvas.json",
    }


@dataclass(frozen=True)
class Policy:
    """What the tool accepts from a platform during registration (from config)."""

    allow_http_localhost: bool = False
    #: Origins that may register without an invite; empty: an invite is needed.
    allowed_issuers: tuple[str, ...] = ()

    def check_url(self, url: str, what: str) -> str:
        """Check one platform URL under this policy (400 on failure)."""
        return check_url(url, what, allow_http_localhost=self.allow_http_localhost)


def policy_for(app) -> Policy:
    """The registration policy from ``app``'s configuration."""
    allow_http = app.config["LTI_ALLOW_HTTP_LOCALHOST"] or app.debug or app.testing
    return Policy(
        allow_http_localhost=bool(allow_http),
        allowed_issuers=tuple(app.config["LTI_REGISTRATION_ALLOWED_ISSUERS"] or ()),
    )


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


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration the tool uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str
    version: str
    name: str
    scopes_supported: tuple[str, ...] | None


def consented_configuration(
    openid_configuration: str,
    registration_token: str | None,
    invite_secret: str | None,
    policy: Policy,
) -> tuple[RegistrationInvite | None, "PlatformConfiguration"]:
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


def parse_platform_configuration(
    data: object, url: str, policy: Policy
) -> PlatformConfiguration:
    """Check the configuration document's fields and origins; 4xx/502 on problems."""
    if not isinstance(data, dict):
        raise RegistrationError(f"The OpenID configuration at {url} is not an object.")
    # Moodle 3.10.0 sent this key with a trailing space; 3.10.1 fixed it.
    data = {str(key).strip(): value for key, value in data.items()}
    missing = [k for k in REQUIRED_CONFIGURATION if not _text(data.get(k))]
    lti = data.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict) or not _text(lti.get("product_family_code")):
        missing.append(f"{PLATFORM_CONFIGURATION} product_family_code")
    if missing:
        raise RegistrationError(
            "The LMS's OpenID configuration lacks required fields: "
            + ", ".join(missing)
            + ". Dynamic Registration needs Moodle 3.10.1 or later, or Canvas."
        )
    issuer = policy.check_url(data["issuer"], "The platform issuer")
    _check_same_origin(issuer, url, "issuer")
    endpoints = {
        k: policy.check_url(data[k], f"The platform's {k}")
        for k in REQUIRED_CONFIGURATION[1:]
    }
    # The registration token goes to this endpoint: keep it on the issuer's site.
    _check_same_origin(endpoints["registration_endpoint"], url, "registration_endpoint")
    scopes = data.get("scopes_supported")
    return PlatformConfiguration(
        issuer=issuer,
        **endpoints,
        product_family_code=_text(lti["product_family_code"]).lower()[:64],
        version=_text(lti.get("version")),
        name=_platform_name(lti, issuer),
        scopes_supported=tuple(scopes) if isinstance(scopes, list) else None,
    )


def _check_same_origin(value: str, url: str, what: str) -> None:
    if origin_of(value) != origin_of(url):
        raise PlatformError(
            f"The platform's {what} ({value}) is not on the same site as its "
            f"OpenID configuration URL ({url}); refusing to register (DR §3.5.1)."
        )


def _platform_name(lti: dict, issuer: str) -> str:
    account = _text(lti.get("https://canvas.instructure.com/lti/account_name"))
    host = urlsplit(issuer).hostname or issuer
    family = _text(lti.get("product_family_code")).capitalize()
    return account or f"{family} at {host}"


def requested_scopes(platform: PlatformConfiguration) -> list[str]:
    """Our scopes, narrowed to those the platform says it supports (if it says)."""
    if platform.scopes_supported is None:
        return list(SCOPES)
    return [scope for scope in SCOPES if scope in platform.scopes_supported]


def build_tool_registration(base: str, platform: PlatformConfiguration) -> dict:
    """The tool's client registration request body (DR §3.5.2) for ``platform``."""
    urls = tool_urls(base)
    launch = urls["Redirect (launch) URL"]
    tool_configuration = {
        "domain": urlsplit(base).netloc,
        "target_link_uri": launch,
        "description": TOOL_DESCRIPTION,
        "claims": list(CLAIMS),
        "custom_parameters": dict(CUSTOM_PARAMETERS),
        "messages": _messages(platform.product_family_code, launch),
    }
    if platform.product_family_code == "canvas":
        tool_configuration[CANVAS_PRIVACY_LEVEL] = "public"
        tool_configuration[CANVAS_TOOL_ID] = TOOL_ID
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["OIDC login initiation URL"],
        "redirect_uris": [launch],
        "client_name": TOOL_NAME,
        "jwks_uri": urls["Public JWKS URL"],
        "logo_uri": f"{base.rstrip('/')}/static/icon.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(requested_scopes(platform)),
        TOOL_CONFIGURATION: tool_configuration,
    }


def _messages(family: str, launch: str) -> list[dict]:
    placements = PLACEMENTS.get(family, {})
    messages = []
    for message_type in (RESOURCE_LINK, DEEP_LINKING):
        message = {"type": message_type, "target_link_uri": launch, "label": TOOL_NAME}
        if placements.get(message_type):
            message["placements"] = list(placements[message_type])
        messages.append(message)
    if family == "canvas":
        # Teachers switch course navigation on per course (Settings > Navigation).
        messages[0][CANVAS_COURSE_NAV_DEFAULT] = False
    return messages


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
        parts = [_text(data.get("error")), _text(data.get("error_description"))]
        if not any(parts) and data.get("errors"):
            parts = [json.dumps(data["errors"])]
        return ": ".join(p for p in parts if p)[:500]
    return ""


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
