"""Registering platforms (LMSs) with the tool: validation, upsert, deployments.

One place writes ``LtiRegistration`` and ``LtiDeployment`` rows for both ways a
platform arrives: an admin's ``lms-plugin platform add`` and LTI Dynamic
Registration (``dynamic.py``). A Dynamic Registration never changes a
registration the tool already trusts: a change to its endpoints or family is
held as an ``LtiRegistrationChange`` until an administrator accepts it.
Nothing here knows about Flask requests.
"""

import dataclasses
import json
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration
from lms_plugin.models.lti import LtiRegistrationChange
from lms_plugin.models.lti import is_canvas_cloud

#: Hosts where a plain-http platform is tolerated (a development LMS), if allowed.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

#: Families the CLI accepts; Dynamic Registration stores the platform's own code.
FAMILIES = ("canvas", "moodle", "other")

#: Column sizes of the identifiers (CharField(max_length=255)).
MAX_ID_LENGTH = 255


class PlatformError(LmsError):
    """A platform's settings are not acceptable (bad URL, empty id, unknown row)."""

    status_code = 400
    title = "Invalid platform settings"


@dataclass
class PlatformSettings:
    """Everything the tool stores about one registration, before it is saved."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: list[str] = field(default_factory=list)
    name: str = ""
    platform_family: str = ""
    source: str = "manual"


def check_url(url: str, what: str, *, allow_http_localhost: bool = False) -> str:
    """Return ``url`` stripped if it is an absolute https URL; raise otherwise.

    Plain http passes only for localhost and only when allowed: LTI 1.3 requires
    TLS for every platform endpoint (1EdTech Security Framework §3).
    """
    url = (url or "").strip()
    try:
        parsed = urlsplit(url)
        host = parsed.hostname
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise PlatformError(f"{what} is not a valid URL: {url!r}") from None
    if not host or parsed.username or parsed.password or parsed.fragment:
        raise PlatformError(
            f"{what} must be an absolute URL without credentials or fragment: {url!r}"
        )
    if parsed.scheme == "https":
        return url
    if parsed.scheme == "http" and host in LOCAL_HOSTS and allow_http_localhost:
        return url
    raise PlatformError(f"{what} must use https://: {url!r}")


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url`` with the default port filled in."""
    parsed = urlsplit(url)
    default = 443 if parsed.scheme == "https" else 80
    return parsed.scheme, (parsed.hostname or "").lower(), parsed.port or default


def check_identifier(value: str, what: str) -> str:
    """Return a client or deployment id if non-empty and short enough to store."""
    value = "" if value is None else str(value).strip()
    if not value:
        raise PlatformError(f"{what} must not be empty.")
    if len(value) > MAX_ID_LENGTH:
        raise PlatformError(f"{what} is longer than {MAX_ID_LENGTH} characters.")
    return value


#: The URL fields of a registration and their names for people.
URL_FIELDS = {
    "issuer": "Issuer",
    "auth_login_url": "OIDC authorization (login) URL",
    "auth_token_url": "Access token URL",
    "key_set_url": "Key set (JWKS) URL",
}


def validate_settings(
    settings: PlatformSettings, *, allow_http_localhost: bool = False
) -> PlatformSettings:
    """Check every field of ``settings``; return a cleaned copy or raise.

    The error lists every problem at once, one per line.
    """
    cleaned, problems = {}, []

    def check(name, checker, *args, **kwargs):
        try:
            cleaned[name] = checker(*args, **kwargs)
        except PlatformError as error:
            problems.append(error.message)

    for name, label in URL_FIELDS.items():
        value = getattr(settings, name)
        check(name, check_url, value, label, allow_http_localhost=allow_http_localhost)
    check("client_id", check_identifier, settings.client_id, "Client id")
    for index, deployment_id in enumerate(settings.deployment_ids):
        check(index, check_identifier, deployment_id, "Deployment id")
    if problems:
        raise PlatformError("\n".join(problems))
    deployment_ids = [cleaned.pop(i) for i in range(len(settings.deployment_ids))]
    return PlatformSettings(
        **cleaned,
        deployment_ids=list(dict.fromkeys(deployment_ids)),
        name=(settings.name or "").strip()[:MAX_ID_LENGTH],
        platform_family=(settings.platform_family or "").strip().lower()[:64],
        source=settings.source,
    )


def guess_family(issuer: str) -> str:
    """Canvas cloud issuers are on instructure.com; anything else is unknown."""
    return "canvas" if is_canvas_cloud(issuer) else "other"


def save_platform(settings: PlatformSettings) -> tuple[LtiRegistration, bool]:
    """Insert or update the registration and its deployments in one transaction.

    Keyed by (issuer, client_id): registering again updates the row, so primary
    keys (and every user, context and link hanging off them) survive. Returns
    the registration and whether it was created.
    """
    with database.atomic():
        registration = LtiRegistration.get_or_none(
            LtiRegistration.issuer == settings.issuer,
            LtiRegistration.client_id == settings.client_id,
        )
        created = registration is None
        if created:
            registration = LtiRegistration(
                issuer=settings.issuer, client_id=settings.client_id
            )
        _apply_settings(registration, settings)
        registration.save()
        for deployment_id in settings.deployment_ids:
            _activate(registration, deployment_id)
    return registration, created


#: Fields a Dynamic Registration may not change without an administrator:
#: where launches are signed and sent, where tokens go, and the family (Canvas
#: adds Canvas cloud to frame-ancestors).
HELD_FIELDS = ("auth_login_url", "auth_token_url", "key_set_url", "platform_family")


def propose_platform(settings: PlatformSettings, invite=None) -> tuple[object, str]:
    """Save a Dynamic Registration, or hold it if it changes a trusted one.

    Returns the registration and ``created``, ``updated`` (nothing that matters
    changed: a new deployment or name) or ``pending`` (an
    :class:`LtiRegistrationChange` waits for ``platform accept``; the trusted
    registration is untouched).
    """
    with database.atomic():
        existing = LtiRegistration.get_or_none(
            LtiRegistration.issuer == settings.issuer,
            LtiRegistration.client_id == settings.client_id,
        )
        if existing is not None and differences(existing, settings):
            LtiRegistrationChange.create(
                registration=existing,
                settings=json.dumps(dataclasses.asdict(settings)),
                invite=invite,
            )
            return existing, "pending"
        registration, created = save_platform(settings)
    return registration, "created" if created else "updated"


def differences(
    registration: LtiRegistration, settings: PlatformSettings
) -> dict[str, tuple[str, str]]:
    """The held fields ``settings`` would change: name -> (current, proposed)."""
    changed = {}
    for name in HELD_FIELDS:
        current = getattr(registration, name) or ""
        proposed = getattr(settings, name) or ""
        if name == "platform_family" and not proposed:
            continue  # an unknown family keeps the stored one
        if name == "key_set_url" and registration.key_set and not current:
            current = "(inline key set)"
        if current != proposed:
            changed[name] = (current, proposed)
    return changed


def pending_changes() -> list[LtiRegistrationChange]:
    """Held registration changes, oldest first, with their registrations."""
    return list(
        LtiRegistrationChange.select(LtiRegistrationChange, LtiRegistration)
        .join(LtiRegistration)
        .order_by(LtiRegistrationChange.id)
    )


def change_settings(change: LtiRegistrationChange) -> PlatformSettings:
    return PlatformSettings(**json.loads(change.settings))


def accept_change(change_id: int) -> LtiRegistration:
    """Apply a held change to its registration; the change is then gone."""
    with database.atomic():
        change = _change(change_id)
        registration, _ = save_platform(change_settings(change))
        change.delete_instance()
    return registration


def reject_change(change_id: int) -> LtiRegistrationChange:
    """Drop a held change; the registration stays as it was."""
    change = _change(change_id)
    change.delete_instance()
    return change


def _change(change_id: int) -> LtiRegistrationChange:
    change = LtiRegistrationChange.get_or_none(LtiRegistrationChange.id == change_id)
    if change is None:
        raise PlatformError(f"No pending registration change #{change_id}.")
    return change


def _apply_settings(registration: LtiRegistration, settings: PlatformSettings) -> None:
    registration.auth_login_url = settings.auth_login_url
    registration.auth_token_url = settings.auth_token_url
    registration.key_set_url = settings.key_set_url
    registration.source = settings.source
    registration.is_active = True
    if settings.name or not registration.name:
        registration.name = settings.name or urlsplit(settings.issuer).hostname
    if settings.platform_family or not registration.platform_family:
        registration.platform_family = settings.platform_family or guess_family(
            settings.issuer
        )


def _activate(registration: LtiRegistration, deployment_id: str) -> LtiDeployment:
    deployment = LtiDeployment.get_or_none(
        LtiDeployment.registration == registration,
        LtiDeployment.deployment_id == deployment_id,
    )
    if deployment is None:
        return LtiDeployment.create(
            registration=registration, deployment_id=deployment_id, is_active=True
        )
    if not deployment.is_active:
        deployment.is_active = True
        deployment.save()
    return deployment


def list_platforms() -> list[tuple[LtiRegistration, list[LtiDeployment]]]:
    """Every registration with its deployments, oldest first."""
    registrations = list(LtiRegistration.select().order_by(LtiRegistration.id))
    deployments: dict[int, list[LtiDeployment]] = {r.id: [] for r in registrations}
    for deployment in LtiDeployment.select().order_by(LtiDeployment.id):
        deployments[deployment.registration_id].append(deployment)
    return [(r, deployments[r.id]) for r in registrations]


def find_deployments(
    deployment_id: str, issuer: str | None = None, client_id: str | None = None
) -> list[LtiDeployment]:
    """Deployments with this id, narrowed to one registration when given."""
    query = (
        LtiDeployment.select(LtiDeployment, LtiRegistration)
        .join(LtiRegistration)
        .where(LtiDeployment.deployment_id == deployment_id)
    )
    if issuer:
        query = query.where(LtiRegistration.issuer == issuer)
    if client_id:
        query = query.where(LtiRegistration.client_id == client_id)
    return list(query.order_by(LtiDeployment.id))


def set_deployment_active(
    deployment_id: str,
    active: bool,
    *,
    issuer: str | None = None,
    client_id: str | None = None,
) -> LtiDeployment:
    """Accept (or hold again) one deployment; the id must match exactly one row."""
    matches = find_deployments(deployment_id, issuer, client_id)
    if not matches:
        raise PlatformError(f"No deployment {deployment_id!r} is known.")
    if len(matches) > 1:
        raise PlatformError(
            f"Deployment {deployment_id!r} exists under {len(matches)} registrations; "
            "add --issuer and --client-id to choose one."
        )
    deployment = matches[0]
    deployment.is_active = active
    deployment.save()
    return deployment
