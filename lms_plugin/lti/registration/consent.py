"""An administrator's consent to Dynamic Registration: invites, and who may register.

A platform is trusted only after an administrator says so. For Dynamic
Registration that consent is the URL the administrator pastes into the LMS:
``lms-plugin platform invite`` mints ``<base>/lti/register/<secret>``, a secret
that is single-use (or N-use) and expires, and is stored only as its SHA-256;
with ``--issuer`` only that platform may use it (its configuration URL on the
issuer's origin before anything is fetched, then exactly that issuer).
Moodle and Canvas append ``openid_configuration`` and ``registration_token`` as
query parameters, so the secret rides in the path where they leave it alone.

Without an invite, only a platform whose origin is on
``LTI_REGISTRATION_ALLOWED_ISSUERS`` may register; anything else is a 403 that
tells an administrator how to get an invite, decided before the tool fetches a
single URL.
"""

import datetime
import hashlib
import logging
import secrets

from lms_plugin.clock import utcnow
from lms_plugin.errors import LmsError
from lms_plugin.lti.registration.platforms import check_url
from lms_plugin.lti.registration.platforms import origin_of
from lms_plugin.models.lti import RegistrationInvite

log = logging.getLogger(__name__)

#: 32 random bytes, URL-safe: 43 characters.
SECRET_BYTES = 32
#: Longest secret the route accepts (anything longer is not one of ours).
MAX_SECRET_LENGTH = 64

HOW_TO_INVITE = (
    "Ask the tool's administrator to run `lms-plugin platform invite` on the "
    "tool's server and paste the registration URL it prints into your LMS "
    "(Moodle: Manage tools > Tool URL; Canvas: Developer Keys > LTI Registration)."
)


class ConsentError(LmsError):
    """No administrator consented to this registration."""

    status_code = 403
    title = "Registration needs an invitation"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_invite(
    *,
    expires_in: datetime.timedelta,
    uses: int = 1,
    issuer: str | None = None,
    note: str = "",
    allow_http_localhost: bool = False,
) -> tuple[RegistrationInvite, str]:
    """Store a new invite; return it with its secret (shown once, never stored)."""
    if uses < 1:
        raise ConsentError("An invite must allow at least one registration.")
    if expires_in <= datetime.timedelta(0):
        raise ConsentError("An invite must expire in the future.")
    if issuer:
        issuer = check_url(
            issuer, "--issuer", allow_http_localhost=allow_http_localhost
        )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    invite = RegistrationInvite.create(
        secret_hash=hash_secret(secret),
        issuer=issuer.rstrip("/") if issuer else None,
        note=note[:255],
        max_uses=uses,
        expires_at=utcnow() + expires_in,
    )
    return invite, secret


def invite_url(base: str, secret: str) -> str:
    """The registration URL an administrator pastes into the LMS."""
    return f"{base.rstrip('/')}/lti/register/{secret}"


def usable_invite(secret: str, openid_configuration: str) -> RegistrationInvite:
    """The invite behind ``secret`` if it may register this platform; 403 if not.

    One message for unknown, expired, revoked and used-up invites: the page is
    public, and must not tell a stranger which secrets exist.
    """
    invite = None
    if secret and len(secret) <= MAX_SECRET_LENGTH:
        invite = RegistrationInvite.get_or_none(
            RegistrationInvite.secret_hash == hash_secret(secret)
        )
    if invite is None or state_of(invite) != "usable":
        raise ConsentError(
            "This registration URL is not valid: it is unknown, expired, revoked "
            "or already used. " + HOW_TO_INVITE
        )
    if invite.issuer and origin_of(openid_configuration) != origin_of(invite.issuer):
        log.warning(
            "invite %s is for %s, used from %s", invite.id, invite.issuer,
            openid_configuration,
        )  # fmt: skip
        raise ConsentError(
            "This registration URL was issued for another LMS. " + HOW_TO_INVITE
        )
    return invite


def check_issuer(invite: RegistrationInvite | None, issuer: str) -> None:
    """Refuse a platform whose issuer is not the one the invite names."""
    if invite is not None and invite.issuer and issuer.rstrip("/") != invite.issuer:
        log.warning(
            "invite %s is for %s, the LMS says %s", invite.id, invite.issuer, issuer
        )
        raise ConsentError(
            f"This registration URL was issued for another LMS than {issuer}. "
            + HOW_TO_INVITE
        )


def spend(invite: RegistrationInvite) -> None:
    """Use one registration of ``invite``, atomically; 403 if none is left.

    A conditional UPDATE, so two registrations racing for a single-use invite
    cannot both succeed, on any number of workers.
    """
    now = utcnow()
    spent = (
        RegistrationInvite.update(uses=RegistrationInvite.uses + 1, last_used_at=now)
        .where(
            (RegistrationInvite.id == invite.id)
            & (RegistrationInvite.uses < RegistrationInvite.max_uses)
            & RegistrationInvite.revoked_at.is_null()
            & (RegistrationInvite.expires_at > now)
        )
        .execute()
    )
    if spent != 1:
        raise ConsentError(
            "This registration URL was used up or revoked while the registration "
            "ran; nothing was saved. " + HOW_TO_INVITE
        )


def state_of(invite: RegistrationInvite, now: datetime.datetime | None = None) -> str:
    """usable, used, expired or revoked."""
    now = now or utcnow()
    if invite.revoked_at is not None:
        return "revoked"
    if invite.uses >= invite.max_uses:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    return "usable"


def list_invites() -> list[RegistrationInvite]:
    return list(RegistrationInvite.select().order_by(RegistrationInvite.id))


def revoke(invite_id: int) -> RegistrationInvite:
    """Revoke one invite by id (idempotent); 404-like error if unknown."""
    invite = RegistrationInvite.get_or_none(RegistrationInvite.id == invite_id)
    if invite is None:
        raise ConsentError(f"No invite #{invite_id}.", status_code=404)
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        invite.save()
    return invite


def allow_listed(openid_configuration: str, allowed_issuers: tuple[str, ...]) -> bool:
    """True when the configuration URL's origin is on the allow list."""
    return bool(allowed_issuers) and origin_of(openid_configuration) in {
        origin_of(allowed) for allowed in allowed_issuers
    }
