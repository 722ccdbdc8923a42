"""LTI platform storage in a real browser: headless Chromium, a platform page on
one site framing the tool on another, postMessage storage in a forwarding frame.

Over plain HTTP the tool's state cookie is ``SameSite=Lax`` by default, so the
cross-site launch POST arrives without it, exactly as when a browser blocks
third-party cookies: only platform storage can carry the launch.
"""

import datetime
import ipaddress
import json
import shutil
import threading
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from lms_plugin.db import database
from lms_plugin.models.lti import LtiNonce
from lms_plugin.models.lti import User
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import wait
from tests.factories import make_quiz_module
from tests.learner_helpers import SLUG
from tests.lti_platform import PlatformServer
from tests.lti_platform import TestPlatform
from tests.lti_platform import login_params
from tests.lti_platform import make_rsa_key
from tests.lti_platform import pem

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

FORWARDER = """<!doctype html><title>forwarder</title><script>
var store = {}; var seen = [];
window.addEventListener("message", function (event) {
  var m = event.data || {}; seen.push(m.subject);
  var answer = {subject: m.subject + ".response", message_id: m.message_id, key: m.key};
  if (m.subject === "lti.put_data") { store[m.key] = m.value; answer.value = m.value; }
  else if (m.subject === "lti.get_data") { answer.value = store[m.key]; }
  else { return; }
  event.source.postMessage(answer, event.origin);
});
</script>"""


class BrowserPlatform(PlatformServer):
    """The platform's pages: a course page, the storage frame, the OIDC endpoint."""

    def __init__(self, platform, tool_url, with_forwarder=True):
        super().__init__(platform)
        self.tool_url = tool_url
        self.with_forwarder = with_forwarder
        self.claim_overrides = {}  # claims the platform's id_tokens change
        self.site = self.url.replace("127.0.0.1", "localhost")  # another site

    def course_page(self) -> str:
        params = login_params(
            self.platform, lti_storage_target="post_message_forwarding"
        )
        params["target_link_uri"] = self.tool_url + "/lti/launch"
        login = self.tool_url + "/lti/login?" + urlencode(params)
        forwarder = '<iframe name="post_message_forwarding" src="/forwarder"></iframe>'
        return (
            "<!doctype html><title>course</title>"
            + (forwarder if self.with_forwarder else "")
            + f'<iframe name="tool" src="{login}" width="800" height="600"></iframe>'
        )

    def auth_page(self, query: dict) -> str:
        """Sign an id_token for the nonce and form_post it back, as platforms do."""
        body = self.platform.claims(query["nonce"], **self.claim_overrides)
        fields = {"id_token": self.platform.sign(body), "state": query["state"]}
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items()
        )
        return (
            f'<form method="post" action="{query["redirect_uri"]}">{inputs}</form>'
            "<script>document.forms[0].submit()</script>"
        )

    def _handler(self):
        base = super()._handler()
        server = self

        class Handler(base):
            def do_GET(self):
                path = urlsplit(self.path)
                if path.path == "/course":
                    return self._html(server.course_page())
                if path.path == "/forwarder":
                    return self._html(FORWARDER)
                if path.path == "/auth":
                    query = {k: v[0] for k, v in parse_qs(path.query).items()}
                    return self._html(server.auth_page(query))
                return super().do_GET()

            def _html(self, text):
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _serve_tool(app, ssl_context=None):
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if ssl_context else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_port}"


@pytest.fixture
def tool_server(app):
    server, url = _serve_tool(app)
    yield url
    server.shutdown()


@pytest.fixture
def https_tool_server(app, tmp_path):
    """The tool over HTTPS with a throwaway self-signed certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    _self_signed(cert, key)
    server, url = _serve_tool(app, ssl_context=(str(cert), str(key)))
    yield url
    server.shutdown()


def _self_signed(cert_path, key_path) -> None:
    key = make_rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_text(pem(key))


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are needed for browser tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--ignore-certificate-errors",  # the HTTPS test's self-signed certificate
    )
    for flag in flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def _open_course(browser, tool_server, with_forwarder):
    platform = TestPlatform()
    site = BrowserPlatform(platform, tool_server, with_forwarder)
    platform.auth_login_url = site.site + "/auth"
    platform.register()
    return platform, site


def _tool_frame_text(browser, until: str) -> str:

    def tool_text(driver):
        driver.switch_to.default_content()
        driver.switch_to.frame("tool")
        text = driver.find_element("tag name", "body").text
        return text if until in text else False

    return wait(browser, 15).until(tool_text)


def test_launch_completes_through_platform_storage(browser, tool_server):
    platform, site = _open_course(browser, tool_server, with_forwarder=True)
    with site:
        browser.get(site.site + "/course")
        # The launch is accepted; the landing page then lacks the session cookie
        # over plain HTTP cross-site (HTTPS gets SameSite=None; Partitioned), so
        # the landing ticket offers a new window.
        _tool_frame_text(browser, "Open in a new window")
        browser.switch_to.default_content()
        browser.switch_to.frame("post_message_forwarding")
        seen = browser.execute_script("return seen")
        stored = browser.execute_script("return store")
    assert seen == ["lti.put_data"] * 2 + ["lti.get_data"] * 2, seen
    assert len(stored) == 2
    with database.connection_context():
        assert User.select().count() == 1
        assert LtiNonce.select().count() == 1


def test_https_launch_in_a_cross_site_frame_lands_signed_in(browser, https_tool_server):
    platform, site = _open_course(browser, https_tool_server, with_forwarder=True)
    with site:
        browser.get(site.site + "/course")
        # SameSite=None; Secure; Partitioned cookies carry state and session:
        # the learner page (which needs the session) opens inside the frame.
        text = _tool_frame_text(browser, "This module is not chosen yet")
        browser.switch_to.default_content()
        browser.switch_to.frame("post_message_forwarding")
        seen = browser.execute_script("return seen")
    assert "Browse all modules" in text
    assert seen == ["lti.put_data"] * 2  # stored, but the cookie sufficed


def test_unanswered_storage_falls_back_to_a_new_window(browser, tool_server):
    platform, site = _open_course(browser, tool_server, with_forwarder=False)
    with site:
        browser.get(site.site + "/course")
        text = _tool_frame_text(browser, "Open the tool in a new window")
    assert "blocks cookies in embedded frames" in text
    with database.connection_context():
        assert User.select().count() == 0


def test_storage_page_config_is_json(client, platform):
    params = login_params(platform, lti_storage_target="_parent")
    text = client.get("/lti/login", query_string=params).get_data(as_text=True)
    start = text.index('id="lti-storage">') + len('id="lti-storage">')
    config = json.loads(text[start : text.index("</script>", start)])
    assert config["target"] == "_parent"


def test_blocked_cookies_fall_back_to_a_new_window_that_resumes(browser, tool_server):
    """The frame withholds the session cookie; a new top-level window signs in."""

    with database.connection_context():
        make_quiz_module(pages=2, questions=2, slug=SLUG)
    platform, site = _open_course(browser, tool_server, with_forwarder=True)
    site.claim_overrides = {"custom": {"module_id": SLUG}}
    with site:
        browser.get(site.site + "/course")
        text = _tool_frame_text(browser, "Open in a new window")
        assert "blocking the tool's cookies inside the course page" in text
        assert not axe_violations(browser), describe(axe_violations(browser))
        course_window = browser.current_window_handle
        link = browser.find_element("css selector", 'a.button[target="_blank"]')
        assert "noopener" in link.get_attribute("rel")
        href = link.get_attribute("href")
        assert href.startswith(tool_server + "/lti/resume?ticket=")
        link.click()
        wait(browser, 15).until(lambda d: len(d.window_handles) == 2)
        (window,) = [h for h in browser.window_handles if h != course_window]
        browser.switch_to.window(window)
        wait(browser, 15).until(
            lambda d: "Start the module" in d.find_element("tag name", "body").text
        )
        assert browser.current_url == f"{tool_server}/learn/modules/{SLUG}"
        # The spent link opens nothing a second time, even signed in.
        browser.get(href)
        assert "expired or was already used" in browser.page_source
