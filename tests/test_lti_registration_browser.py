"""Dynamic Registration in headless Chromium, framed by an LMS page on another site.

The LMS page (on its issuer, ``127.0.0.1``) frames the tool (``localhost``) as
Canvas and Moodle do, under the tool's Content-Security-Policy; the admin presses
Register inside the frame, and the LMS page must receive the
``org.imsglobal.lti.close`` message. No cookies are involved.
"""

import threading

import pytest
from werkzeug.serving import make_server

from lms_plugin.models.lti import LtiRegistration
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import wait as browser_wait
from tests.registration_platform import FakeLms
from tests.registration_platform import ServedLms
from tests.registration_platform import invite_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def tool_url(app):
    """The tool on a real HTTP server at 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    # "localhost": another site than the LMS's 127.0.0.1, as in production.
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_register_in_a_cross_site_frame_then_close(browser, tool_url, app):
    def wait(seconds):
        # The frame navigates after the click: read through the navigation.
        return browser_wait(browser, seconds)

    # The URL the tool's operator got from `lms-plugin platform invite`.
    served = ServedLms(FakeLms(tool_registration_url=tool_url + invite_path()))
    lms = served.lms
    try:
        browser.get(f"{lms.issuer}/admin")
        browser.switch_to.frame("tool")
        wait(15).until(lambda d: "Register" in d.find_element("tag name", "h1").text)
        violations = axe_violations(browser)
        assert not violations, describe(violations)
        browser.find_element("css selector", "#register-form button").click()
        wait(15).until(
            lambda d: "Registration complete" in d.find_element("tag name", "h1").text
        )
        violations = axe_violations(browser)
        assert not violations, describe(violations)
        browser.switch_to.default_content()
        wait(10).until(lambda d: d.execute_script("return received.length") > 0)
        received = browser.execute_script("return received")
    finally:
        served.close()

    assert "org.imsglobal.lti.close" in received
    (post,) = lms.requests_to("registration")
    assert post.authorization == "Bearer browser-token"
    with app.app_context():
        assert LtiRegistration.get().client_id == lms.client_id
