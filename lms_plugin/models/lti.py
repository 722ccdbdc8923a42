"""Tables that mirror LTI 1.3 platform entities, named in the spec's vocabulary.

A registration is one (issuer, client_id) pair: every Canvas cloud institution shares
an issuer, so both are needed. Deployments, contexts and resource links hang off it.
Also here: the tool's own signing keys and the shared, expiring launch state (nonces,
OIDC state, launch data, service tokens) that every worker and host must see, and
the one test of whether a platform is Canvas (:attr:`LtiRegistration.is_canvas`).
"""

from urllib.parse import urlsplit

from peewee import BooleanField
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from lms_plugin.clock import utcnow
from lms_plugin.db import BaseModel
from lms_plugin.db import DateTimeField
from lms_plugin.db import Param
from lms_plugin.db import Prepared


class LtiRegistration(BaseModel):
    """A platform's registration of this tool: issuer + client_id and its endpoints."""

    issuer = CharField(max_length=255)
    client_id = CharField(max_length=255)
    name = CharField(max_length=255, default="")
    auth_login_url = TextField()  # OIDC authorization endpoint of the platform
    auth_token_url = TextField()  # OAuth2 token endpoint (AGS, NRPS)
    auth_audience = TextField(null=True)  # token `aud` if not the token URL
    key_set_url = TextField(null=True)  # platform JWKS URL
    key_set = TextField(null=True)  # inline platform JWKS (JSON), used before the URL
    platform_family = CharField(max_length=64, default="")  # canvas, moodle, ...
    source = CharField(max_length=16, default="manual")  # manual | dynamic
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("issuer", "client_id"), True),)

    @classmethod
    def active_for(cls, issuer: str, client_id: str | None):
        """The active registration for (issuer, client_id), or the issuer's only one."""
        if client_id:
            return _registration_by_client_id.first(iss=issuer, client_id=client_id)
        candidates = _registrations_of_issuer.rows(iss=issuer)
        return candidates[0] if len(candidates) == 1 else None

    @property
    def is_canvas(self) -> bool:
        """True for a Canvas registration: its family, or a Canvas cloud issuer."""
        return self.platform_family == "canvas" or is_canvas_cloud(self.issuer)


def is_canvas_cloud(url: str) -> bool:
    """True for a URL on Canvas cloud, where every host is under instructure.com."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "instructure.com" or host.endswith(".instructure.com")


class LtiDeployment(BaseModel):
    """One deployment of the tool in a platform (Canvas: per account or course)."""

    registration = ForeignKeyField(
        LtiRegistration, backref="deployments", on_delete="CASCADE"
    )
    deployment_id = CharField(max_length=255)
    is_active = BooleanField(default=True)  # False: held for an admin to accept
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("registration", "deployment_id"), True),)

    @classmethod
    def find(cls, registration, deployment_id: str):
        """The deployment ``deployment_id`` of ``registration``, or None."""
        return _deployment.first(registration=registration, deployment_id=deployment_id)


class RegistrationInvite(BaseModel):
    """An administrator's consent to Dynamic Registration: a secret in a URL.

    Only the secret's SHA-256 is stored. Usable while not revoked, not expired and
    ``uses < max_uses``; ``issuer`` (an origin), when set, is the only platform
    that may use it.
    """

    secret_hash = CharField(max_length=64, unique=True)
    issuer = TextField(null=True)
    note = CharField(max_length=255, default="")
    max_uses = IntegerField(default=1)
    uses = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)


class LtiRegistrationChange(BaseModel):
    """A Dynamic Registration that would change a trusted registration, held.

    ``settings`` is the proposed registration (JSON of ``PlatformSettings``); it
    takes effect only when an administrator accepts it (``platform accept``).
    """

    registration = ForeignKeyField(
        LtiRegistration, backref="pending_changes", on_delete="CASCADE"
    )
    settings = TextField()
    invite = ForeignKeyField(
        RegistrationInvite, null=True, backref="changes", on_delete="SET NULL"
    )
    created_at = DateTimeField(default=utcnow)


class ToolKey(BaseModel):
    """An RSA key pair the tool signs with; published in /lti/jwks until it expires.

    Published from ``created_at``; the newest key past ``activates_at`` (NULL:
    from creation) and before ``retired_at`` signs. A rotated-out key keeps being
    published until ``expires_at`` so platforms holding old tokens can verify them.
    """

    kid = CharField(max_length=64, unique=True)
    private_pem = TextField()
    public_jwk = TextField()  # JSON
    created_at = DateTimeField(default=utcnow)
    activates_at = DateTimeField(null=True)
    retired_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)


class User(BaseModel):
    """A person as one platform knows them: (registration, sub)."""

    registration = ForeignKeyField(
        LtiRegistration, backref="users", on_delete="CASCADE"
    )
    sub = CharField(max_length=255)
    name = CharField(max_length=255, default="")
    given_name = CharField(max_length=255, default="")
    family_name = CharField(max_length=255, default="")
    email = CharField(max_length=255, default="")
    created_at = DateTimeField(default=utcnow)
    last_launch_at = DateTimeField(default=utcnow)

    # flask-login's user protocol, without importing Flask into the models.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    class Meta:
        indexes = ((("registration", "sub"), True),)

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def active(cls, user_id: int):
        """The user ``user_id`` if their registration is still active, else None."""
        return _active_user.first(id=user_id)


class LtiContext(BaseModel):
    """A course (or other context) in a platform, per deployment."""

    deployment = ForeignKeyField(LtiDeployment, backref="contexts", on_delete="CASCADE")
    id_on_platform = CharField(max_length=255)
    label = CharField(max_length=255, default="")
    title = TextField(default="")
    types = TextField(default="[]")  # JSON list of context type URIs
    lineitems_url = TextField(null=True)  # AGS line item container
    ags_scopes = TextField(default="[]")  # JSON list granted in the last launch
    memberships_url = TextField(null=True)  # NRPS endpoint
    roster_synced_at = DateTimeField(null=True)  # last complete NRPS roster sync
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("deployment", "id_on_platform"), True),)

    @classmethod
    def by_id(cls, context_id: int):
        """The context ``context_id``, or None."""
        return _context_by_id.first(id=context_id)


class LtiMembership(BaseModel):
    """A user's roles in a context, from the latest launch or roster sync."""

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    context = ForeignKeyField(LtiContext, backref="memberships", on_delete="CASCADE")
    roles = TextField(default="[]")  # JSON list of role URIs as sent
    is_learner = BooleanField(default=False)
    is_instructor = BooleanField(default=False)
    is_teaching_assistant = BooleanField(default=False)
    is_content_developer = BooleanField(default=False)
    is_administrator = BooleanField(default=False)
    # NRPS member status (Active | Inactive | Deleted), or Absent: a roster sync
    # no longer lists the member. Rows are never deleted (their history stays).
    status = CharField(max_length=16, default="Active")
    roster_synced_at = DateTimeField(null=True)  # last roster sync listing them
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "context"), True),)

    @classmethod
    def of(cls, user_id: int, context_id: int):
        """The membership of a user in a context, its user and context attached.

        None when there is none, or the user's registration is no longer active.
        """
        return _membership_with_user.first(user=user_id, context=context_id)


class LtiResourceLink(BaseModel):
    """A placement of the tool in a context; bound to a module once one is chosen."""

    deployment = ForeignKeyField(
        LtiDeployment, backref="resource_links", on_delete="CASCADE"
    )
    context = ForeignKeyField(
        LtiContext, backref="resource_links", null=True, on_delete="CASCADE"
    )
    id_on_platform = CharField(max_length=255)
    title = TextField(default="")
    description = TextField(default="")
    module_slug = CharField(max_length=128, null=True)  # module id it opens
    lineitem_url = TextField(null=True)  # AGS line item coupled to this link
    custom = TextField(default="{}")  # JSON custom parameters of the last launch
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("deployment", "id_on_platform"), True),)

    @classmethod
    def by_id(cls, link_id: int):
        """The resource link ``link_id``, or None."""
        return _link_by_id.first(id=link_id)


class LtiNonce(BaseModel):
    """A nonce already received; the unique index makes each one single-use."""

    value = CharField(max_length=255, unique=True)
    expires_at = DateTimeField(index=True)

    @classmethod
    def spend(cls, value: str, expires_at) -> None:
        """Record ``value`` as used; IntegrityError if it was used before."""
        _insert_nonce.execute(value=value, expires_at=expires_at)


class LaunchState(BaseModel):
    """Expiring key-value store behind pylti1p3's launch-data storage.

    Holds OIDC state, login nonces and launch data so any worker on any host can
    finish a launch another one started.
    """

    key = CharField(max_length=255, unique=True)
    value = TextField()
    expires_at = DateTimeField(index=True)

    @classmethod
    def unexpired_value(cls, key: str, now) -> str | None:
        """The value stored under ``key`` if it has not expired by ``now``."""
        rows = _unexpired_value.raw(key=key, now=now)
        return rows[0][0] if rows else None

    @classmethod
    def take(cls, key: str, now) -> bool:
        """Delete the unexpired row ``key``; True if this call deleted it."""
        return _take_state.execute(key=key, now=now) == 1


class ServiceToken(BaseModel):
    """A cached OAuth2 access token for LTI services, per registration and scopes."""

    registration = ForeignKeyField(
        LtiRegistration, backref="service_tokens", on_delete="CASCADE"
    )
    scopes = TextField()  # space-separated, sorted
    access_token = TextField()
    expires_at = DateTimeField()

    class Meta:
        indexes = ((("registration", "scopes"), True),)


class PlatformKeySet(BaseModel):
    """A platform JWKS fetched from its URL, cached; refetched on an unknown kid."""

    url = CharField(max_length=1024, unique=True)
    jwks = TextField()
    fetched_at = DateTimeField(default=utcnow)


LTI_MODELS = [
    LtiRegistration,
    LtiDeployment,
    RegistrationInvite,
    LtiRegistrationChange,
    ToolKey,
    User,
    LtiContext,
    LtiMembership,
    LtiResourceLink,
    LtiNonce,
    LaunchState,
    ServiceToken,
    PlatformKeySet,
]


# --- hot queries, prepared once (see lms_plugin.db.Prepared) ---------------------


def _active_registrations():
    return LtiRegistration.select(LtiRegistration.id).where(LtiRegistration.is_active)


def _issuer_registrations():
    return LtiRegistration.select().where(
        (LtiRegistration.issuer == Param("iss")) & LtiRegistration.is_active
    )


_registration_by_client_id = Prepared(
    lambda: _issuer_registrations().where(
        LtiRegistration.client_id == Param("client_id")
    )
)
_registrations_of_issuer = Prepared(lambda: _issuer_registrations().limit(2))
_deployment = Prepared(
    lambda: LtiDeployment.select().where(
        (LtiDeployment.registration == Param("registration"))
        & (LtiDeployment.deployment_id == Param("deployment_id"))
    )
)
_active_user = Prepared(
    lambda: User.select().where(
        (User.id == Param("id")) & User.registration.in_(_active_registrations())
    )
)
_membership_with_user = Prepared(
    lambda: (
        LtiMembership.select(LtiMembership, User, LtiContext)
        .join(User)
        .switch(LtiMembership)
        .join(LtiContext)
        .where(
            (LtiMembership.user == Param("user"))
            & (LtiMembership.context == Param("context"))
            & User.registration.in_(_active_registrations())
        )
    )
)
_context_by_id = Prepared(
    lambda: LtiContext.select().where(LtiContext.id == Param("id"))
)
_link_by_id = Prepared(
    lambda: LtiResourceLink.select().where(LtiResourceLink.id == Param("id"))
)
_insert_nonce = Prepared(
    lambda: LtiNonce.insert(
        value=Param("value", LtiNonce.value),
        expires_at=Param("expires_at", LtiNonce.expires_at),
    )
)
_unexpired = (LaunchState.key == Param("key")) & (LaunchState.expires_at > Param("now"))
_unexpired_value = Prepared(
    lambda: LaunchState.select(LaunchState.value).where(_unexpired)
)
_take_state = Prepared(lambda: LaunchState.delete().where(_unexpired))
