"""The base layout in a real browser: accessible, keyboard-usable, frameable."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser import axe_violations
from tests.browser import describe

pytestmark = pytest.mark.browser


def test_error_page_is_accessible(page, live_server):
    page.get(f"{live_server.url}/no/such/page")
    assert page.find_element(By.TAG_NAME, "h1").text == "Not Found"
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_skip_link_is_first_and_moves_focus(page, live_server):
    page.get(f"{live_server.url}/no/such/page")
    page.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = page.switch_to.active_element
    assert focused.text == "Skip to main content"
    focused.send_keys(Keys.ENTER)
    assert page.switch_to.active_element.get_attribute("id") == "main"
