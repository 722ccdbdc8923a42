"""Dynamic Registration in headless Chromium, framed by an LMS page on another site.

The LMS page (``localhost``) frames the tool (``127.0.0.1``) as Canvas and Moodle
do; the admin presses Register inside the frame, and the LMS page must receive
the ``org.imsglobal.lti.close`` message. No cookies are involved.
"""

import shutil
import threading
from pathlib import Path

import pytest
from registration_platform import FakeLms
from registration_platform import ServedLms
from werkzeug.serving import make_server

from lms_plugin.models.lti import LtiRegistration

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are needed for browser tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def axe_violations(driver) -> list[dict]:
    """Serious and critical axe-core (WCAG 2.1 A/AA) violations in this frame."""
    try:
        import selenium_axe_python
    except ImportError:
        pytest.skip("selenium-axe-python (axe-core) is needed")
    script = Path(selenium_axe_python.__file__).parent / "axe-core" / "axe.min.js"
    driver.execute_script(script.read_text())
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations));"
    )
    return [
        (v["id"], v["help"])
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.fixture
def tool_url(app):
    """The tool on a real HTTP server at 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_register_in_a_cross_site_frame_then_close(browser, tool_url, app):
    from selenium.webdriver.support.ui import WebDriverWait

    served = ServedLms(FakeLms(tool_registration_url=tool_url + "/lti/register"))
    lms = served.lms
    try:
        browser.get(f"http://localhost:{lms.port}/admin")
        browser.switch_to.frame("tool")
        WebDriverWait(browser, 15).until(
            lambda d: "Register" in d.find_element("tag name", "h1").text
        )
        assert axe_violations(browser) == []
        browser.find_element("css selector", "#register-form button").click()
        WebDriverWait(browser, 15).until(
            lambda d: "Registration complete" in d.find_element("tag name", "h1").text
        )
        assert axe_violations(browser) == []
        browser.switch_to.default_content()
        WebDriverWait(browser, 10).until(
            lambda d: d.execute_script("return received.length") > 0
        )
        received = browser.execute_script("return received")
    finally:
        served.close()

    assert "org.imsglobal.lti.close" in received
    (post,) = lms.requests_to("registration")
    assert post.authorization == "Bearer browser-token"
    with app.app_context():
        assert LtiRegistration.get().client_id == lms.client_id
