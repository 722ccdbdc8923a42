"""The connector pylti1p3's AGS and NRPS services call: tokens cached, links kept.

pylti1p3 2.0.0 keeps access tokens in one object's memory and lower-cases the
``Link: rel="next"`` header before reading the URL, which breaks mixed-case
cursors. Here tokens are cached in :class:`ServiceToken`, per registration and
sorted scopes, for every worker; next-page URLs are kept exactly as sent. Every
call, the token request included, goes through the guarded client
(``lms_plugin.outbound``) in place of pylti1p3's own requests session.
"""

import datetime
import time
import uuid

from pylti1p3.exception import LtiException
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from lms_plugin import outbound
from lms_plugin.clock import utcnow
from lms_plugin.lti.registration.platform_keys import USER_AGENT
from lms_plugin.models.lti import ServiceToken

#: A cached token closer than this to expiry is not handed out.
TOKEN_MARGIN = datetime.timedelta(seconds=60)
TIMEOUT = 30  # seconds per service call, in all


class RegistrationInactive(LtiException):
    """The registration is not trusted (inactive): no service calls for it."""


#: What pylti1p3 is handed as its session; ``_requests_session`` stands in.
_GUARDED = object()


class ToolServiceConnector(ServiceConnector):
    """Service calls for one registration (a ``DbRegistration``)."""

    def __init__(
        self, registration, http: outbound.Client | None = None, timeout=TIMEOUT
    ):
        self._client = http  # made on first use when not given (needs an app)
        self.timeout = timeout
        # Truthy, so pylti1p3 makes no requests session of its own.
        super().__init__(registration, _GUARDED)
        # This object's own copy of tokens it read or fetched, so a sender posting
        # many scores reads the shared cache once; the database stays the source.
        self._held: dict[str, tuple[str, datetime.datetime]] = {}

    @property
    def http(self) -> outbound.Client:
        """The guarded client every call of this connector goes through."""
        if self._client is None:
            self._client = outbound.client(USER_AGENT, deadline=self.timeout)
        return self._client

    #: pylti1p3's stock methods call ``self._requests_session``: the same client.
    _requests_session = property(lambda self: self.http, lambda self, value: None)

    def get_access_token(self, scopes) -> str:
        """A bearer token for ``scopes``, from the shared cache when still fresh.

        Never for a registration that is not active: an untrusted platform gets
        no service call (its token endpoint would receive our signed assertion).
        """
        if not self._registration.row.is_active:
            raise RegistrationInactive(
                f"registration {self._registration.row.id} is inactive; "
                "no service calls until an administrator activates it"
            )
        scope_key = " ".join(sorted(set(scopes)))
        held = self._held.get(scope_key)
        if held and held[1] > utcnow() + TOKEN_MARGIN:
            return held[0]
        cached = ServiceToken.get_or_none(
            (ServiceToken.registration == self._registration.row)
            & (ServiceToken.scopes == scope_key)
            & (ServiceToken.expires_at > utcnow() + TOKEN_MARGIN)
        )
        if cached:
            self._held[scope_key] = (cached.access_token, cached.expires_at)
            return cached.access_token
        return self._request_token(scope_key)

    def _request_token(self, scope_key: str) -> str:
        registration = self._registration
        token_url = registration.get_auth_token_url()
        now = int(time.time())
        assertion = self.encode_jwt(
            {
                "iss": registration.get_client_id(),
                "sub": registration.get_client_id(),
                "aud": registration.get_auth_audience() or token_url,
                "iat": now - 5,
                "exp": now + 60,
                "jti": f"lti-service-token-{uuid.uuid4()}",
            },
            registration.get_tool_private_key(),
            {"kid": registration.get_kid()},
        )
        response = self.http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": (
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                ),
                "client_assertion": assertion,
                "scope": scope_key,
            },
            timeout=self.timeout,
        )
        if not response.ok:
            raise LtiServiceException(response)
        answer = response.json()
        self._store_token(scope_key, answer)
        return answer["access_token"]

    def _store_token(self, scope_key: str, answer: dict) -> None:
        expires_at = utcnow() + datetime.timedelta(
            seconds=int(answer.get("expires_in", 3600))
        )
        ServiceToken.upsert(
            {"registration": self._registration.row, "scopes": scope_key},
            {"access_token": answer["access_token"], "expires_at": expires_at},
        )
        self._held[scope_key] = (answer["access_token"], expires_at)

    def forget_token(self, scopes) -> None:
        """Drop the cached token for ``scopes`` (the platform refused it)."""
        self._held.pop(" ".join(sorted(set(scopes))), None)
        ServiceToken.delete().where(
            (ServiceToken.registration == self._registration.row)
            & (ServiceToken.scopes == " ".join(sorted(set(scopes))))
        ).execute()

    def send(self, scopes, url, *, method="GET", data=None, headers=None, timeout=None):
        """Call a service and return the raw response, whatever its status.

        For callers that need the status and headers (``Retry-After``) rather than
        an exception: a 401 drops the cached token and tries once more.
        """
        response = self._send_raw(scopes, url, method, data, headers, timeout)
        if response.status_code == 401:
            self.forget_token(scopes)
            response = self._send_raw(scopes, url, method, data, headers, timeout)
        return response

    def _send_raw(self, scopes, url, method, data, headers, timeout):
        headers = {
            **(headers or {}),
            "Authorization": "Bearer " + self.get_access_token(scopes),
        }
        return self.http.request(
            method, url, data=data, headers=headers, timeout=timeout or self.timeout
        )

    def make_service_request(
        self,
        scopes,
        url,
        is_post=False,
        data=None,
        content_type="application/json",
        accept="application/json",
        case_insensitive_headers=False,
    ):
        """Call a service; retry once with a new token if the cached one is refused."""
        response = self._send(scopes, url, is_post, data, content_type, accept)
        if response.status_code == 401:
            self.forget_token(scopes)
            response = self._send(scopes, url, is_post, data, content_type, accept)
        if not response.ok:
            raise LtiServiceException(response)
        return {
            "headers": response.headers
            if case_insensitive_headers
            else dict(response.headers),
            "body": response.json() if response.content else None,
            # httpx parses Link headers without touching the URL's case.
            "next_page_url": response.links.get("next", {}).get("url"),
        }

    def _send(self, scopes, url, is_post, data, content_type, accept):
        headers = {
            "Authorization": "Bearer " + self.get_access_token(scopes),
            "Accept": accept,
        }
        if not is_post:
            return self.http.get(url, headers=headers, timeout=self.timeout)
        headers["Content-Type"] = content_type
        return self.http.post(
            url, data=data or None, headers=headers, timeout=self.timeout
        )
