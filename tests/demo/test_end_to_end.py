"""The whole product in headless Chromium, through the demo LMS, over real HTTP.

The demo registers by Dynamic Registration; the instructor adds a module with
Deep Linking (the tool's picker, the demo's link and line item); a learner
launches it, reads pages, takes the quiz and submits; the server's passback
thread posts the score to the demo's AGS, and the demo's gradebook shows it; the
tool syncs the roster from the demo's Names and Roles service.
"""

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from lms_plugin.db import database
from lms_plugin.demo.registration import register_over_http
from lms_plugin.lti.services.nrps import sync_roster
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.passback import ScorePost
from lms_plugin.passback.sender import stop_thread
from tests.browser import LiveServer
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import navigate
from tests.browser import wait
from tests.demo.support import close_databases
from tests.demo.support import make_demo_app
from tests.demo.test_browser import pick_user
from tests.demo.test_browser import tool_frame_text_here

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODULE = "m01-clinical-foundations"
LEARNER = "Jordan Lindqvist (Learner)"
INSTRUCTOR = "Morgan Abara (Instructor)"


@pytest.fixture
def demo(tmp_path):
    app = make_demo_app(
        tmp_path,
        register=False,
        DEMO_BASE_URL=None,
        PASSBACK_THREAD=True,  # the server's own sender delivers the score
        PASSBACK_POLL_SECONDS=0.5,
        AUTO_PUBLISH=True,  # as `lms-plugin demo` does: the course in courses/
    )
    with LiveServer(app) as server:
        with app.app_context():
            register_over_http(server.url)
        yield app, server
        stop_thread(app)
    close_databases()


def into_tool_frame(page) -> None:
    wait(page, 20).until(
        expected_conditions.frame_to_be_available_and_switch_to_it(
            (By.ID, "tool-frame")
        )
    )


def click_and_land(page, by, value) -> str:
    """Click in the tool's frame and wait for the next page's main text."""
    navigate(page, page.find_element(by, value).click)
    return tool_frame_text_here(page)


def deep_link_module(page, server) -> str:
    """As the instructor: Add modules, pick MODULE in the tool, return its link id."""
    page.get(f"{server.url}/demo/")
    pick_user(page, INSTRUCTOR)
    page.find_element(By.ID, "add-modules").click()
    into_tool_frame(page)
    assert "Add modules to" in tool_frame_text_here(page)
    page.find_element(By.CSS_SELECTOR, f"label[for=module-{MODULE}]").click()
    text = click_and_land(page, By.CSS_SELECTOR, "button[value=add]")
    assert "1" in text and "added" in text.lower(), text
    page.switch_to.default_content()
    page.get(f"{server.url}/demo/")
    added = page.find_elements(By.CSS_SELECTOR, ".demo-links li")[-1]  # the newest
    title = added.find_element(By.TAG_NAME, "h3").text
    assert "clinical knowledge" in title, added.text
    assert "Graded: out of" in added.text  # the demo made its line item
    return added.find_element(By.CSS_SELECTOR, "a[id^=launch-]").get_attribute("id")


def answer_keys(app) -> dict[str, dict]:
    """Every published question by id (case items too), keys included."""
    found = {}
    with app.app_context():
        for version in QuestionVersion.select():
            data = version.data
            for item in [data, *data.get("items", [])]:
                if "id" in item:
                    found[item["id"]] = item
    return found


def answer_correctly(page, keys: dict[str, dict]) -> int:
    """Tick the correct option of every choice question shown; return how many."""
    answered = set()
    for box in page.find_elements(
        By.CSS_SELECTOR, ".quiz-form input[type=radio], .quiz-form input[type=checkbox]"
    ):
        question = keys[box.get_attribute("name").removeprefix("q.")]
        wanted = {o["id"] for o in question.get("options", []) if o.get("correct")}
        if question["type"] == "true_false":
            wanted = {str(question.get("answer")).lower()}
        if box.get_attribute("value") in wanted and not box.is_selected():
            page.execute_script("arguments[0].click()", box)
            answered.add(question["id"])
    return len(answered)


def learner_takes_module(page, server, launch_id: str, keys) -> str:
    page.get(f"{server.url}/demo/")
    pick_user(page, LEARNER)
    page.find_element(By.ID, launch_id).click()
    into_tool_frame(page)
    text = tool_frame_text_here(page)
    assert "What you will be able to do" in text, text  # the module's page
    text = click_and_land(page, By.PARTIAL_LINK_TEXT, "Start the module")
    for _ in range(2):  # read two pages
        text = click_and_land(page, By.CSS_SELECTOR, "form.complete button")
    click_and_land(page, By.CSS_SELECTOR, ".breadcrumb a[href$='" + MODULE + "']")
    click_and_land(page, By.PARTIAL_LINK_TEXT, "quiz")
    click_and_land(page, By.CSS_SELECTOR, "main form button[type=submit]")
    assert answer_correctly(page, keys) > 0
    text = click_and_land(page, By.CSS_SELECTOR, "button[value=submit]")
    page.switch_to.default_content()
    return text


def wait_for_delivery(app, timeout=60) -> ScorePost:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            rows = list(ScorePost.select())
        if rows and all(r.status == "sent" for r in rows):
            return rows[-1]
        time.sleep(0.5)
    raise AssertionError(
        f"scores not delivered: {[(r.status, r.last_error) for r in rows]}"
    )


def test_deep_link_learn_quiz_gradebook_and_roster(browser, demo):
    app, server = demo
    browser.delete_all_cookies()
    launch_id = deep_link_module(browser, server)
    result = learner_takes_module(browser, server, launch_id, answer_keys(app))
    assert "%" in result, result

    score = wait_for_delivery(app)
    assert score.module_slug == MODULE and score.score_given is not None
    browser.get(f"{server.url}/demo/")
    gradebook = browser.find_element(By.CSS_SELECTOR, ".demo-gradebook").text
    shown = f"{score.score_given:g} / {score.score_maximum:g}"
    assert shown in gradebook, gradebook
    assert "FullyGraded" in gradebook
    assert not (violations := axe_violations(browser)), describe(violations)

    with app.app_context(), database.connection_context():
        [context] = LtiContext.select()
        roster = sync_roster(context)
        members = {
            (m.user.name, m.status)
            for m in LtiMembership.select().where(LtiMembership.context == context)
        }
    assert (roster.members, roster.pages) == (3, 2)  # two a page: paging followed
    assert members == {
        ("Avery Okafor", "Active"),  # never launched: known from NRPS only
        ("Jordan Lindqvist", "Active"),
        ("Morgan Abara", "Active"),
    }
    roster_page = browser.find_element(By.CSS_SELECTOR, ".demo-roster").text
    for name, _ in members:
        assert name in roster_page
