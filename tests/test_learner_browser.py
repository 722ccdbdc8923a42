"""A learner's whole journey in headless Chromium, by mouse and by keyboard alone.

The browser launches through the test platform for real: ``/lti/login``
redirects to the platform's authorization endpoint (served by the test app
itself here), whose form posts a freshly signed id_token to ``/lti/launch``.
axe-core checks every learner page on the way.
"""

from urllib.parse import urlencode

import pytest
from flask import render_template_string
from flask import request
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from lms_plugin.content.publish import publish_course
from lms_plugin.db import database
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import navigate
from tests.browser import wait
from tests.content_helpers import MODULE
from tests.content_helpers import SAMPLE
from tests.factories import make_quiz_module
from tests.learner_helpers import SLUG
from tests.lti_platform import TestPlatform
from tests.lti_platform import login_params

pytestmark = pytest.mark.browser

AUTHORIZE = """<!doctype html><html lang="en"><head><title>Test platform</title>
</head><body><main><h1>Test platform</h1>
<form method="post" action="{{ redirect_uri }}">
<input type="hidden" name="id_token" value="{{ id_token }}">
<input type="hidden" name="state" value="{{ state }}">
<button type="submit" id="launch">Launch the tool</button>
</form></main></body></html>"""


@pytest.fixture
def journey(app, page, live_server):
    """A module, and a platform whose authorization endpoint is on the live server."""
    with database.connection_context():
        make_quiz_module(pages=3, questions=4, slug=SLUG, title="Feedback basics")
    return platform_login(app, page, live_server, SLUG)


def platform_login(app, page, live_server, module_id: str):
    """Open the platform's login into ``module_id``; the browser waits to launch."""
    platform = TestPlatform()
    platform.auth_login_url = f"{live_server.url}/_platform/authorize"

    @app.get("/_platform/authorize")
    def authorize():
        claims = platform.claims(
            request.args["nonce"],
            sub="browser-learner",
            custom={"module_id": module_id},
            **{"https://purl.imsglobal.org/spec/lti/claim/target_link_uri": (
                request.args["redirect_uri"])},
        )  # fmt: skip
        return render_template_string(
            AUTHORIZE,
            redirect_uri=request.args["redirect_uri"],
            id_token=platform.sign(claims),
            state=request.args["state"],
        )

    platform.register()
    params = login_params(platform, target_link_uri=f"{live_server.url}/lti/launch")
    page.get(f"{live_server.url}/lti/login?{urlencode(params)}")
    return page


def accessible(driver) -> None:
    violations = axe_violations(driver)
    assert not violations, f"{driver.current_url}\n{describe(violations)}"


def h1(driver) -> str:
    """The page's h1, once the page has one."""
    return wait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "h1").text)


def click(driver, text: str) -> None:
    """Click a link or button by its text; wait for the next page."""
    xpath = f"//*[self::a or self::button][contains(., '{text}')]"
    navigate(driver, driver.find_element(By.XPATH, xpath).click)


def answer_all(driver, right: bool) -> None:
    """Choose option b (the key) or a in every question, by clicking its label."""
    for radio in driver.find_elements(By.CSS_SELECTOR, "input[type=radio]"):
        if radio.get_attribute("value") == ("b" if right else "a"):
            driver.find_element(
                By.CSS_SELECTOR, f"label[for='{radio.get_attribute('id')}']"
            ).click()


def test_read_fail_retry_pass_and_complete(journey):
    driver = journey
    click(driver, "Launch the tool")  # the platform's page, then ours
    assert h1(driver) == "Feedback basics"
    accessible(driver)
    click(driver, "Start the module")
    for number in range(1, 4):
        assert "Section" in h1(driver)
        assert f"Section {number} of 3" in driver.page_source
        if number == 1:
            accessible(driver)
        click(driver, "Mark complete and continue")
    assert h1(driver) == "Check your understanding"
    accessible(driver)
    click(driver, "Start the quiz")
    assert "attempt 1" in h1(driver)
    accessible(driver)
    answer_all(driver, right=False)
    click(driver, "Submit answers")
    assert h1(driver) == "Attempt 1: 0%, not passed"
    assert driver.switch_to.active_element.get_attribute("id") == "result-title"
    accessible(driver)
    click(driver, "Try again")
    click(driver, "Start attempt 2")
    answer_all(driver, right=True)
    click(driver, "Submit answers")
    assert h1(driver) == "Attempt 2: 100%, passed"
    accessible(driver)  # the review with answers revealed
    click(driver, "Back to the module")
    assert "Completed on" in driver.page_source
    click(driver, "All modules")
    assert "Completed" in driver.find_element(By.CSS_SELECTOR, ".badge").text
    accessible(driver)
    driver.get(driver.current_url.replace("/learn/", "/learn/unbound"))
    assert h1(driver) == "This module is not chosen yet"
    accessible(driver)


# --- keyboard only -------------------------------------------------------------


def focused(driver):
    return driver.switch_to.active_element


def tab_to(driver, wanted, limit=120):
    """Press Tab until the focused element's text or value contains ``wanted``."""
    for _ in range(limit):
        element = focused(driver)
        label = (element.text or "") + " " + (element.get_attribute("value") or "")
        if wanted in label and element.tag_name in ("a", "button"):
            return element
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached {wanted!r} on {driver.current_url}")


def press(driver, wanted):
    """Tab to a link or button and press Enter; wait for the next page."""
    tab_to(driver, wanted)
    navigate(driver, ActionChains(driver).send_keys(Keys.ENTER).perform)


def choose_by_keyboard(driver, right: bool) -> None:
    """In each radio group: Tab into it, then arrow keys until a or b is checked."""
    target = "b" if right else "a"
    count = len(driver.find_elements(By.CSS_SELECTOR, "fieldset"))
    ActionChains(driver).send_keys(Keys.TAB).perform()
    for _ in range(count):
        while focused(driver).get_attribute("type") != "radio":
            ActionChains(driver).send_keys(Keys.TAB).perform()
        for _ in range(5):
            if focused(driver).get_attribute("value") == target:
                break
            ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        assert focused(driver).is_selected()
        ActionChains(driver).send_keys(Keys.TAB).perform()


def visible_focus(driver) -> bool:
    """The focused element draws an outline (our :focus-visible style)."""
    style = driver.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, s.outlineWidth];"
    )
    return style[0] != "none" and style[1] != "0px"


def test_the_same_journey_by_keyboard_alone(journey):
    driver = journey
    press(driver, "Launch the tool")
    assert h1(driver) == "Feedback basics"
    tab_to(driver, "Start the module")
    assert visible_focus(driver)
    press(driver, "Start the module")
    for _ in range(3):
        press(driver, "Mark complete and continue")
    press(driver, "Start the quiz")
    choose_by_keyboard(driver, right=False)
    press(driver, "Submit answers")
    assert h1(driver) == "Attempt 1: 0%, not passed"
    press(driver, "Try again")
    press(driver, "Start attempt 2")
    choose_by_keyboard(driver, right=True)
    press(driver, "Submit answers")
    assert h1(driver) == "Attempt 2: 100%, passed"
    press(driver, "Back to the module")
    assert "Completed on" in driver.page_source


# --- images ----------------------------------------------------------------------


def test_a_published_image_loads_on_its_section_page(app, page, live_server):
    assert publish_course(SAMPLE).ok  # its second page shows assets/ask-tell-ask.png
    driver = platform_login(app, page, live_server, MODULE)
    click(driver, "Launch the tool")
    assert h1(driver) == "Giving feedback at the bedside"
    driver.get(f"{live_server.url}/learn/modules/{MODULE}/pages/m01-p02")
    assert h1(driver) == "A model you can use tomorrow"
    image = driver.find_element(By.CSS_SELECTOR, ".page-body img")
    assert image.get_attribute("alt").startswith("Three steps from left to right")
    loaded = "return arguments[0].complete && arguments[0].naturalWidth;"
    assert wait(driver).until(lambda d: d.execute_script(loaded, image)) == 120
    accessible(driver)
