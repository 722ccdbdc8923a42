"""The module picker in headless Chromium: axe-core finds nothing serious, the
keyboard and labels work, and the signed response posts itself to the platform
under the tool's CSP (the script is a static file, no inline script)."""

import pytest
from flask import request
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from lms_plugin import csrf
from lms_plugin.lti import claims as c
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import wait
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import launch
from tests.module_factory import make_catalog

pytestmark = pytest.mark.browser


@pytest.fixture
def returned(app):
    """A stand-in for the platform's deep_link_return_url on the same server."""
    posted = []

    @app.post("/_platform/deep_link_return")
    @csrf.exempt
    def deep_link_return():
        posted.append(request.form.to_dict())
        return "<!doctype html><title>Platform</title><h1>Back in the course</h1>"

    return posted


@pytest.fixture
def picker(returned, app, platform, page, live_server):
    """The browser on the picker of a real deep-linking launch by an instructor."""
    make_catalog()
    client = app.test_client()
    settings = {
        "deep_link_return_url": live_server.url + "/_platform/deep_link_return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
        "accept_multiple": True,
        "data": "browser-data",
    }
    response = launch(
        client,
        platform,
        message_type=c.MESSAGE_DEEP_LINKING,
        roles=[INSTRUCTOR],
        **{c.CLAIM_DEEP_LINKING_SETTINGS: settings},
    )
    assert response.status_code == 303
    page.get(live_server.url + "/healthz")
    cookie = client.get_cookie("session")
    page.add_cookie({"name": "session", "value": cookie.value, "path": "/"})
    page.get(live_server.url + response.location)
    return page


def test_picker_has_no_serious_accessibility_violations(picker):
    assert picker.find_element(By.TAG_NAME, "h1").text.startswith("Add modules to")
    violations = axe_violations(picker)
    assert not violations, describe(violations)
    for summary in picker.find_elements(By.CSS_SELECTOR, "details summary"):
        summary.click()  # objectives open: still clean
    violations = axe_violations(picker)
    assert not violations, describe(violations)


def test_error_state_is_announced_and_accessible(picker):
    picker.find_element(By.CSS_SELECTOR, "button[value=add]").click()
    # The form posts and a new page loads: wait for it rather than race it.
    alert = wait(picker, 10).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, "[role=alert]")
    )
    assert "Choose at least one module" in alert.text
    assert picker.title.startswith("Error:")
    violations = axe_violations(picker)
    assert not violations, describe(violations)


def test_keyboard_choice_posts_the_signed_response_to_the_platform(
    picker, returned, live_server
):
    box = picker.find_element(By.ID, "module-m02-burnout")
    label = picker.find_element(By.CSS_SELECTOR, "label[for=module-m02-burnout]")
    label.click()  # the label toggles its checkbox
    assert box.is_selected()
    picker.find_element(By.ID, "module-m01-feedback").send_keys(Keys.SPACE)
    picker.find_element(By.CSS_SELECTOR, "button[value=add]").send_keys(Keys.ENTER)
    wait(picker, 10).until(
        lambda driver: driver.current_url.endswith("/_platform/deep_link_return")
    )
    assert picker.find_element(By.TAG_NAME, "h1").text == "Back in the course"
    assert len(returned) == 1 and set(returned[0]) == {"JWT"}
    assert returned[0]["JWT"].count(".") == 2
