"""A fake LMS for Dynamic Registration tests, served over real HTTP on 127.0.0.1.

It publishes an OpenID configuration the way Moodle or Canvas does, accepts the
tool's registration POST, and records every request it saw so tests can assert
on bodies and bearer tokens.
"""

import json
import threading
from dataclasses import dataclass
from dataclasses import field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"

CONFIG_PATHS = {
    "moodle": "/mod/lti/openid-configuration.php",
    "canvas": "/api/lti/security/openid-configuration",
}
REGISTRATION_PATHS = {
    "moodle": "/mod/lti/openid-registration.php",
    "canvas": "/api/lti/registrations",
}


@dataclass
class Seen:
    """One request the fake LMS received."""

    method: str
    path: str
    authorization: str | None
    body: dict | None


@dataclass
class FakeLms:
    """A Moodle- or Canvas-shaped platform; tweak fields to misbehave."""

    family: str = "moodle"
    client_id: str = "tool-client-1"
    deployment_id: str | None = "7"
    config_status: int = 200
    config_raw: bytes | None = None  # replaces the JSON configuration
    config_changes: dict = field(default_factory=dict)  # None value deletes a key
    registration_status: int = 200
    registration_answer: dict | None = None  # replaces the normal answer
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openid_configuration_url(self) -> str:
        return self.issuer + CONFIG_PATHS[self.family]

    def configuration(self) -> dict:
        """The OpenID configuration document this platform publishes."""
        base = self.issuer
        config = {
            "issuer": base,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/certs",
            "registration_endpoint": base + REGISTRATION_PATHS[self.family],
            "scopes_supported": [
                "openid",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            ],
            "response_types_supported": ["id_token"],
            PLATFORM_CONFIGURATION: {
                "product_family_code": self.family,
                "version": "4.5" if self.family == "moodle" else "cloud",
                "messages_supported": [
                    {"type": "LtiResourceLinkRequest"},
                    {"type": "LtiDeepLinkingRequest"},
                ],
            },
        }
        if self.family == "canvas":
            config[PLATFORM_CONFIGURATION][
                "https://canvas.instructure.com/lti/account_name"
            ] = "Test University"
        for key, value in self.config_changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def answer(self, body: dict) -> dict:
        """What the platform returns for an accepted registration."""
        if self.registration_answer is not None:
            return self.registration_answer
        answer = dict(body, client_id=self.client_id)
        tool_configuration = dict(body.get(TOOL_CONFIGURATION, {}))
        if self.deployment_id is not None:
            tool_configuration["deployment_id"] = self.deployment_id
        answer[TOOL_CONFIGURATION] = tool_configuration
        return answer

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True) if request.method == "POST" else None
        self.seen.append(
            Seen(
                request.method, request.path, request.headers.get("Authorization"), body
            )
        )
        return self._route(request, body)(environ, start_response)

    def _route(self, request: Request, body: dict | None) -> Response:
        if request.path == CONFIG_PATHS[self.family] and request.method == "GET":
            if self.config_raw is not None:
                return Response(self.config_raw, self.config_status)
            return _json(self.configuration(), self.config_status)
        if request.path == REGISTRATION_PATHS[self.family] and request.method == "POST":
            if self.registration_status >= 400:
                error = {
                    "error": "invalid_client_metadata",
                    "error_description": "redirect_uris not allowed",
                }
                return _json(error, self.registration_status)
            return _json(self.answer(body or {}), self.registration_status)
        return Response("not found", 404)

    def requests_to(self, path_key: str) -> list[Seen]:
        """Requests seen on the configuration ("config") or registration path."""
        paths = CONFIG_PATHS if path_key == "config" else REGISTRATION_PATHS
        return [s for s in self.seen if s.path == paths[self.family]]


def _json(data: dict, status: int) -> Response:
    return Response(json.dumps(data), status, mimetype="application/json")


class ServedLms:
    """Run a :class:`FakeLms` on 127.0.0.1 in a thread until ``close()``."""

    def __init__(self, lms: FakeLms):
        self.lms = lms
        self.server = make_server("127.0.0.1", 0, lms, threaded=True)
        lms.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
