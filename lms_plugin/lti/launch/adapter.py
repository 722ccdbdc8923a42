"""The one place that builds pylti1p3 objects, and the subclasses that harden them.

pylti1p3 2.0.0 gaps closed here (see the LTI reference, section 4.3):

- state must be one our ``/lti/login`` issued, bound to this browser (cookie or
  LTI platform storage), and is consumed once;
- the nonce must be the one issued with that state and is single-use across all
  workers and hosts (unique insert into ``LtiNonce``);
- RS256 only, ``kid`` required, platform JWKS cached in the database with one
  refetch on an unknown kid;
- ``iat``/``exp``/``nbf`` checked with ``LTI_CLOCK_LEEWAY``; ``aud`` must contain
  our client_id and ``azp`` must equal it;
- launch data in the database, cookies that work in iframes, services that keep
  pagination URLs and cache tokens (``services.py``).
"""

import base64
import datetime
import secrets
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
from flask import current_app
from flask import request
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.contrib.flask import FlaskOIDCLogin
from pylti1p3.contrib.flask import FlaskRequest
from pylti1p3.contrib.flask import FlaskSessionService
from pylti1p3.exception import LtiException
from pylti1p3.exception import OIDCException

from lms_plugin import safejson
from lms_plugin.edge import find_unstorable
from lms_plugin.errors import LaunchError
from lms_plugin.lti.launch import storage
from lms_plugin.lti.launch.cookies import IframeCookieService
from lms_plugin.lti.registration.platform_keys import PlatformKeyError
from lms_plugin.lti.registration.platform_keys import fetch_key_set
from lms_plugin.lti.registration.platform_keys import platform_public_key
from lms_plugin.lti.registration.tool_config import DbToolConf

#: Seconds between our login redirect and the platform's launch POST.
LOGIN_LIFETIME = 600
#: Seconds launch data stays loadable by later requests (services, deep linking).
LAUNCH_DATA_LIFETIME = 86400
#: Login parameters a new-window retry needs (LTI 1.3 §5.1.1 third-party login).
RETRY_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
)
#: Exceptions pylti1p3 raises for bad input (it also raises plain ``Exception``).
PROTOCOL_ERRORS = (LtiException, OIDCException, PlatformKeyError)


class PlatformStorageNeeded(Exception):
    """The state cookie is missing but the login stored state in the platform."""

    def __init__(self, state: str, login: dict):
        super().__init__(state)
        self.state = state
        self.login = login


def platform_storage_keys(state: str, nonce: str) -> dict:
    """Keys under which the login page stores state and nonce in the platform."""
    return {"state": f"lti1p3_state_{state}", "nonce": f"lti1p3_nonce_{nonce}"}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (a postMessage target origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _services():
    request_adapter = FlaskRequest()
    return (
        request_adapter,
        IframeCookieService(request_adapter),
        FlaskSessionService(request_adapter),
    )


def build_login() -> "ToolOIDCLogin":
    """A login initiation handler for the current request."""
    request_adapter, cookies, session_service = _services()
    return ToolOIDCLogin(
        request_adapter,
        DbToolConf(),
        session_service=session_service,
        cookie_service=cookies,
    )


def build_launch() -> "ToolMessageLaunch":
    """A message launch for the current request (validated on first use)."""
    request_adapter, cookies, session_service = _services()
    launch = ToolMessageLaunch(
        request_adapter,
        DbToolConf(),
        session_service=session_service,
        cookie_service=cookies,
        launch_data_storage=storage.DbLaunchDataStorage(),
    )
    launch.set_launch_data_lifetime(LAUNCH_DATA_LIFETIME)
    return launch


def load_launch(launch_id: str) -> "ToolMessageLaunch":
    """Restore a validated launch saved earlier (for services and deep linking)."""
    request_adapter, cookies, session_service = _services()
    return ToolMessageLaunch.from_cache(
        launch_id,
        request_adapter,
        DbToolConf(),
        session_service=session_service,
        cookie_service=cookies,
        launch_data_storage=storage.DbLaunchDataStorage(),
    )


class ToolOIDCLogin(FlaskOIDCLogin):
    """OIDC login initiation that records the login state in the database."""

    state: str | None = None
    nonce: str | None = None

    def _prepare_redirect_url(self, launch_url: str) -> str:
        registration = self.validate_oidc_login()
        self._registration = registration
        self.state = "state-" + secrets.token_urlsafe(24)
        self.nonce = secrets.token_urlsafe(32)
        self._cookie_service.set_cookie(self.state, self.state, LOGIN_LIFETIME)
        storage.save_login(self.state, self._login_record(registration), LOGIN_LIFETIME)
        auth_params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.get_client_id(),
            "redirect_uri": launch_url,
            "state": self.state,
            "nonce": self.nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        if self._get_request_param("lti_message_hint"):
            auth_params["lti_message_hint"] = self._get_request_param(
                "lti_message_hint"
            )
        url = registration.get_auth_login_url()
        return url + ("&" if "?" in url else "?") + urlencode(auth_params)

    def _login_record(self, registration) -> dict:
        return {
            "nonce": self.nonce,
            "registration_id": registration.row.id,
            "storage_target": self.storage_target,
            "platform_origin": origin_of(registration.get_auth_login_url()),
            "retry_params": {
                name: self._get_request_param(name)
                for name in RETRY_PARAMS
                if self._get_request_param(name)
            },
        }

    def finish(self, response):
        """Attach the login's state cookie to ``response``."""
        self._cookie_service.update_response(response)
        return response

    @property
    def storage_target(self) -> str | None:
        """The platform frame for ``lti.put_data`` (LTI platform storage), if any."""
        return self._get_request_param("lti_storage_target") or None


class ToolMessageLaunch(FlaskMessageLaunch):
    """A resource-link or deep-linking launch, validated with our extra checks."""

    _login: dict | None = None
    _state: str | None = None

    def validate(self) -> "ToolMessageLaunch":
        """Validate in an order where nothing is consumed before the signature."""
        if self._restored:
            raise LtiException("a restored launch cannot be validated again")
        self._validated = True
        try:
            return (
                self.validate_state()
                .validate_jwt_format()
                .validate_registration()
                .validate_jwt_signature()
                .validate_nonce()
                .validate_deployment()
                .validate_message()
                .save_launch_data()
            )
        except Exception:
            self._validated = False
            raise

    @property
    def registration_row(self):
        return self._tool_config.registration_row

    @property
    def deployment_row(self):
        return self._tool_config.deployment_row

    def get_client_id(self) -> str:
        """Our client_id: the single ``aud``, or ``azp`` when ``aud`` is a list."""
        body = self._get_jwt_body()
        aud = body.get("aud")
        if isinstance(aud, list):
            if len(aud) == 1:
                return aud[0]
            if not body.get("azp"):
                raise LtiException("aud lists several audiences but azp is missing")
            return body["azp"]
        return aud

    def validate_state(self) -> "ToolMessageLaunch":
        """The state must come from our login, in the browser that started it."""
        state = self._get_request_param("state")
        if not state:
            raise LtiException("the launch has no state parameter")
        login = storage.find_login(state)
        if login is None:
            raise LtiException(
                "state was not issued by this tool's login, has expired or was used"
            )
        self._state, self._login = state, login
        if self._cookie_service.get_cookie(state) == state:
            return self
        if login.get("storage_target"):
            return self._validate_platform_storage(state, login)
        raise cookie_blocked_error(login)

    def _validate_platform_storage(self, state: str, login: dict):
        if "lti_storage_state" not in request.form:
            raise PlatformStorageNeeded(state, login)
        # Only our own launch page may post what it read from platform storage;
        # a cross-site form could otherwise bring an attacker's login values.
        same_origin = request.headers.get("Origin") == origin_of(request.host_url)
        if (
            same_origin
            and request.form.get("lti_storage_state") == state
            and request.form.get("lti_storage_nonce") == login["nonce"]
        ):
            return self
        raise cookie_blocked_error(login)

    def validate_jwt_format(self) -> "ToolMessageLaunch":
        """Header and claims decoded within safejson's limits, before any other use.

        pylti1p3 parses them with plain ``json.loads`` (a payload nested a few
        thousand deep is a RecursionError), then looks the registration up by
        ``iss``, ``aud`` and ``azp`` and the key by ``kid``, all before the
        signature is checked: those must be text, and no claim may hold a NUL or
        an unpaired surrogate, since claims are stored (users, contexts, launch
        data) and PostgreSQL cannot hold them.
        """
        parts = self._get_id_token().split(".")
        if len(parts) != 3:
            raise LtiException("Invalid id_token, JWT must contain 3 parts")
        header, body = (_decode_jwt_part(part) for part in parts[:2])
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LtiException("id_token header and payload must be JSON objects")
        if find_unstorable(header) or find_unstorable(body):
            raise LtiException("id_token holds a NUL character or broken Unicode")
        _require_text(header, "kid")
        _require_text(body, "iss", "azp")
        audience = body.get("aud")
        if not isinstance(audience, str) and not (
            isinstance(audience, list) and all(isinstance(a, str) for a in audience)
        ):
            raise LtiException("id_token aud must be a string or a list of strings")
        self._jwt = {"header": header, "body": body}
        return self

    def validate_registration(self) -> "ToolMessageLaunch":
        iss, client_id = self.get_iss(), self.get_client_id()
        try:
            return super().validate_registration()
        except LtiException:
            raise LaunchError(
                "This tool is not set up for the course platform that sent you.",
                detail=(
                    f"No active registration for issuer {iss!r} and client_id "
                    f"{client_id!r}. An administrator can add it (lms-plugin "
                    "platform add, or Dynamic Registration)."
                ),
                title="Platform not registered",
            ) from None

    def validate_jwt_signature(self) -> "ToolMessageLaunch":
        """RS256 only, a known kid, signature, iss, aud, azp and times with leeway."""
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LtiException(
                f"id_token alg {header.get('alg')!r} refused; RS256 only"
            )
        if not header.get("kid"):
            raise LtiException("id_token header has no kid")
        key = platform_public_key(self.registration_row, header["kid"])
        client_id = self._registration.get_client_id()
        try:
            body = jwt.decode(
                self._get_id_token(),
                key,
                algorithms=["RS256"],
                audience=client_id,
                issuer=self._registration.get_issuer(),
                leeway=current_app.config["LTI_CLOCK_LEEWAY"],
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            raise LtiException(f"id_token rejected: {error}") from None
        if "azp" in body and body["azp"] != client_id:
            raise LtiException(f"azp {body['azp']!r} is not our client_id")
        self._jwt["body"] = body
        return self

    def validate_nonce(self) -> "ToolMessageLaunch":
        """The login's own nonce, used once across every worker and host."""
        body = self._get_jwt_body()
        nonce = body.get("nonce")
        if not nonce:
            raise LtiException("id_token has no nonce")
        if nonce != self._login["nonce"]:
            raise LtiException("nonce was not issued with this launch's state")
        if self._login["registration_id"] != self.registration_row.id:
            raise LtiException("the login was started for another registration")
        leeway = current_app.config["LTI_CLOCK_LEEWAY"]
        expires_at = datetime.datetime.fromtimestamp(
            int(body["exp"]) + leeway, datetime.UTC
        ).replace(tzinfo=None)
        try:
            storage.consume_login(self._state, nonce, expires_at)
        except storage.AlreadyUsed as error:
            raise LtiException(f"replayed launch refused: {error}") from None
        return self

    def save_launch_data(self) -> "ToolMessageLaunch":
        self._session_service.save_launch_data(self._launch_id, self._jwt["body"])
        return self

    def fetch_public_key(self, key_set_url: str) -> dict:
        """pylti1p3's own key set fetch, should it ever run: the guarded client.

        ``validate_jwt_signature`` above reads keys through ``platform_keys``, so
        pylti1p3's requests session is never used for a fetch.
        """
        return fetch_key_set(key_set_url)

    def get_service_connector(self):
        from lms_plugin.lti.services.connector import ToolServiceConnector

        return ToolServiceConnector(self._registration)


#: Largest decoded id_token part read (Canvas tokens with many claims are ~10 kB).
ID_TOKEN_PART_MAX_BYTES = 200_000


def _decode_jwt_part(part: str):
    """One base64url JWT part as JSON, within safejson's depth and size limits."""
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return safejson.loads(raw, max_bytes=ID_TOKEN_PART_MAX_BYTES)
    except ValueError as error:  # binascii.Error and JsonLimitError are ValueErrors
        raise LtiException(f"Invalid JWT format, can't be decoded: {error}") from None


def _require_text(claims: dict, *names: str) -> None:
    for name in names:
        if name in claims and not isinstance(claims[name], str):
            raise LtiException(f"id_token {name} must be a string")


def cookie_blocked_error(login: dict) -> LaunchError:
    """The 'open in a new window' answer when the browser withheld our cookie."""
    return LaunchError(
        "Your browser did not let the tool keep track of this launch inside the "
        "course page (it blocks cookies in embedded frames). Open the tool in a "
        "new window to continue.",
        detail=(
            "The state cookie set by /lti/login was not sent back with the launch "
            "and no platform storage value was available."
        ),
        status_code=403,
        title="Open the tool in a new window",
        retry_params=login.get("retry_params"),
    )
