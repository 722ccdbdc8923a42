"""A fake LMS for Dynamic Registration tests, served over real HTTP on 127.0.0.1.

It publishes an OpenID configuration the way Moodle or Canvas does, accepts the
tool's registration POST, and records every request it saw so tests can assert
on bodies and bearer tokens. Also the steps of registering through the tool's
pages as the LMS's iframe does (an invite's URL, the form, the Register button).
"""

import datetime
import html
import json
import re
import threading
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from lms_plugin.lti.registration import consent

TOOL = "http://localhost"  # the test client's host
ORIGIN = {"Origin": TOOL}

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
    tool_registration_url: str = ""  # framed by the admin page, as LMSs do

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
        if request.path == "/admin" and self.tool_registration_url:
            return Response(self.admin_page(), mimetype="text/html")
        return Response("not found", 404)

    def admin_page(self) -> str:
        """The LMS page that frames the tool's registration and awaits the close."""
        query = urlencode(
            {
                "openid_configuration": self.openid_configuration_url,
                "registration_token": "browser-token",
            }
        )
        return (
            "<!doctype html><title>LMS admin</title><script>"
            "var received = [];"
            "window.addEventListener('message', function (event) {"
            " received.push(event.data && event.data.subject); });"
            "</script>"
            f'<iframe name="tool" src="{self.tool_registration_url}?{query}"'
            ' width="900" height="700"></iframe>'
        )

    def requests_to(self, path_key: str) -> list[Seen]:
        """Requests seen on the configuration ("config") or registration path."""
        paths = CONFIG_PATHS if path_key == "config" else REGISTRATION_PATHS
        return [s for s in self.seen if s.path == paths[self.family]]


def _json(data: dict, status: int) -> Response:
    return Response(json.dumps(data), status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class ServedLms:
    """Run a :class:`FakeLms` on 127.0.0.1 in a thread until ``close()``."""

    def __init__(self, lms: FakeLms):
        self.lms = lms
        self.server = make_server(
            "127.0.0.1", 0, lms, threaded=True, request_handler=_QuietHandler
        )
        lms.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def invite_path(**fields) -> str:
    """A fresh administrator's invite, as the path of its registration URL."""
    fields.setdefault("expires_in", datetime.timedelta(hours=1))
    _, secret = consent.create_invite(allow_http_localhost=True, **fields)
    return f"/lti/register/{secret}"


def open_form(client, lms: FakeLms, token: str | None = "reg-token-1", path=None):
    """GET the invite's registration URL as the LMS's iframe does."""
    query = {"openid_configuration": lms.openid_configuration_url}
    if token:
        query["registration_token"] = token
    return client.get(path or invite_path(), query_string=query)


def form_fields(response) -> dict:
    """The hidden fields of the confirmation form."""
    fields = re.findall(r'name="(\w+)" value="([^"]*)"', response.text)
    return {name: html.unescape(value) for name, value in fields}


def form_action(response) -> str:
    """Where the confirmation form posts (the invite's registration URL)."""
    return html.unescape(
        re.search(r'id="register-form"[^>]*action="([^"]*)"', response.text)[1]
    )


def press_register(client, page, headers=ORIGIN):
    return client.post(form_action(page), data=form_fields(page), headers=headers)


def register(client, lms: FakeLms, token: str | None = "reg-token-1", path=None):
    """Open the form and press Register; return the POST response."""
    page = open_form(client, lms, token, path)
    assert page.status_code == 200, page.text
    return press_register(client, page)
