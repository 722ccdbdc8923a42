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


class LtiNonce(BaseModel):
    """A nonce already received; the unique index makes each one single-use."""

    value = CharField(max_length=255, unique=True)
    expires_at = DateTimeField(index=True)


class LaunchState(BaseModel):
    """Expiring key-value store behind pylti1p3's launch-data storage.

    Holds OIDC state, login nonces and launch data so any worker on any host can
    finish a launch another one started.
    """

    key = CharField(max_length=255, unique=True)
    value = TextField()
    expires_at = DateTimeField(index=True)


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
