"""End to end in headless Chromium: the demo LMS launches the real tool.

Everything runs over real HTTP in one server (the production one): the demo's login
initiation, the tool's OIDC redirect, the demo's signed id_token form post, the
tool fetching the demo's JWKS, and the tool's landing page inside the iframe.
"""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from lms_plugin.demo.registration import register_over_http
from tests.browser import LiveServer
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import navigate
from tests.browser import wait
from tests.demo.support import close_databases
from tests.demo.support import make_demo_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo_server(tmp_path):
    # No DEMO_BASE_URL: the issuer comes from the host the browser uses.
    app = make_demo_app(tmp_path, register=False, DEMO_BASE_URL=None)
    with LiveServer(app) as server:
        with app.app_context():  # as `lms-plugin demo` does once it listens
            register_over_http(server.url)
        yield server
    close_databases()


@pytest.fixture
def demo_page(browser, demo_server):
    browser.delete_all_cookies()
    browser.get(f"{demo_server.url}/demo/")
    return browser


def pick_user(page, name: str) -> None:
    Select(page.find_element(By.ID, "pick-user")).select_by_visible_text(name)
    navigate(page, page.find_element(By.CSS_SELECTOR, ".demo-inline-form button").click)
    wait(page, 10).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".demo-panel .lead"), name.split(" (")[0]
        )
    )


def tool_frame_text(page) -> str:
    """Wait for the tool's page in the iframe and return its main text."""
    wait(page, 20).until(
        expected_conditions.frame_to_be_available_and_switch_to_it(
            (By.ID, "tool-frame")
        )
    )
    text = tool_frame_text_here(page)
    page.switch_to.default_content()
    return text


def tool_frame_text_here(page) -> str:
    """Inside the tool's frame: wait past the auto-post pages, return main's text."""

    def landed(driver) -> bool:
        mains = driver.find_elements(By.TAG_NAME, "main")
        text = mains[0].text if mains else ""
        return bool(text) and not driver.find_elements(By.ID, "demo-autopost")

    wait(page, 20).until(landed)
    return page.find_element(By.TAG_NAME, "main").text


def test_learner_launches_the_tool_inside_the_course(demo_page, demo_server):
    pick_user(demo_page, "Jordan Lindqvist (Learner)")
    demo_page.find_element(By.ID, "launch-demo-link-welcome").click()
    text = tool_frame_text(demo_page)
    assert "This module is not chosen yet" in text, text
    assert "Browse all modules" in text  # a learner page: the launch signed in
    assert demo_page.current_url == f"{demo_server.url}/demo/links/demo-link-welcome"


def test_instructor_course_navigation_launch(demo_page):
    pick_user(demo_page, "Morgan Abara (Instructor)")
    demo_page.find_element(By.PARTIAL_LINK_TEXT, "from course navigation").click()
    text = tool_frame_text(demo_page)
    assert "Modules" in text, text


def test_instructor_deep_linking_launch_is_accepted_by_the_tool(demo_page):
    """The tool validates the deep-linking id_token (its picker comes later)."""
    pick_user(demo_page, "Morgan Abara (Instructor)")
    demo_page.find_element(By.ID, "add-modules").click()
    wait(demo_page, 20).until(
        expected_conditions.frame_to_be_available_and_switch_to_it(
            (By.ID, "tool-frame")
        )
    )
    text = tool_frame_text_here(demo_page)
    assert not demo_page.find_elements(By.CSS_SELECTOR, ".error-page"), text
    assert "Add modules to" in text, text
    demo_page.switch_to.default_content()


def test_demo_home_is_accessible(demo_page):
    violations = axe_violations(demo_page)
    assert not violations, describe(violations)
