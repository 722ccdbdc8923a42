"""A platform's OpenID configuration, as LTI Dynamic Registration reads it.

Spec: DR §3.4 (the configuration document) and §3.5.1 (its issuer shares the
configuration URL's origin). :func:`parse_platform_configuration` checks the
fields the tool needs and every URL in it, and keeps what the tool uses as a
:class:`PlatformConfiguration`. The registration :class:`Policy` (from the app's
configuration: whether plain http is allowed on loopback, which origins may
register without an invite) decides which URLs pass; :class:`RegistrationError`
is any registration step that failed. Fetching the document, and the other
steps, are ``dynamic.py``'s.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from lms_plugin.errors import LmsError
from lms_plugin.lti.registration.platforms import PlatformError
from lms_plugin.lti.registration.platforms import check_url
from lms_plugin.lti.registration.platforms import origin_of

#: The key of the configuration's LTI part (DR §3.5.1).
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"

#: The fields the tool cannot register without.
REQUIRED_CONFIGURATION = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


class RegistrationError(LmsError):
    """Dynamic Registration could not finish; nothing was stored."""

    status_code = 502
    title = "Registration failed"


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


def parse_platform_configuration(
    data: object, url: str, policy: Policy
) -> PlatformConfiguration:
    """Check the configuration document's fields and origins; 4xx/502 on problems."""
    if not isinstance(data, dict):
        raise RegistrationError(f"The OpenID configuration at {url} is not an object.")
    # Moodle 3.10.0 sent this key with a trailing space; 3.10.1 fixed it.
    data = {str(key).strip(): value for key, value in data.items()}
    missing = [k for k in REQUIRED_CONFIGURATION if not text_of(data.get(k))]
    lti = data.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict) or not text_of(lti.get("product_family_code")):
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
        product_family_code=text_of(lti["product_family_code"]).lower()[:64],
        version=text_of(lti.get("version")),
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
    account = text_of(lti.get("https://canvas.instructure.com/lti/account_name"))
    host = urlsplit(issuer).hostname or issuer
    family = text_of(lti.get("product_family_code")).capitalize()
    return account or f"{family} at {host}"


def text_of(value: object) -> str:
    """``value`` stripped when it is a string, else ``""``."""
    return value.strip() if isinstance(value, str) else ""
