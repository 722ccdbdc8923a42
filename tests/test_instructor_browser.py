"""The instructor pages in headless Chromium: axe-core finds no serious or
critical problem on the dashboard and the statistics page, and the Resend button
works as a real form post (CSRF token included)."""

import pytest
from selenium.webdriver.common.by import By

from lms_plugin.db import database
from lms_plugin.models.passback import FAILED
from lms_plugin.models.passback import PENDING
from lms_plugin.models.passback import ScorePost
from tests.browser import axe_violations
from tests.browser import describe
from tests.browser import wait
from tests.factories import make_quiz_module
from tests.instructor_helpers import launch_as
from tests.instructor_helpers import take_quiz
from tests.learner_helpers import SLUG
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_page(app, platform, page, live_server):
    """The browser signed in as the instructor of a course with six attempts."""
    with database.connection_context():
        make_quiz_module(pages=1, questions=3, slug=SLUG, title="Giving feedback")
    for n in range(6):
        take_quiz(launch_as(app, platform, f"s-{n}", LEARNER), right=n % 2 == 0)
    with database.connection_context():
        ScorePost.update(status=FAILED, last_error="HTTP 422: closed").where(
            ScorePost.id == ScorePost.select(ScorePost.id).limit(1)
        ).execute()
    client = launch_as(app, platform, "teacher", INSTRUCTOR)
    page.get(live_server.url + "/healthz")
    cookie = client.get_cookie("session")
    page.add_cookie({"name": "session", "value": cookie.value, "path": "/"})
    return page


def test_dashboard_has_no_serious_accessibility_problem(staff_page, live_server):
    staff_page.get(live_server.url + "/instructor/")
    assert "Progress by module" in staff_page.page_source
    violations = axe_violations(staff_page)
    assert not violations, describe(violations)


def test_statistics_page_has_no_serious_accessibility_problem(staff_page, live_server):
    staff_page.get(live_server.url + f"/instructor/modules/{SLUG}/statistics")
    assert "6 submitted attempts" in staff_page.page_source
    violations = axe_violations(staff_page)
    assert not violations, describe(violations)


def test_resend_button_posts_the_form(staff_page, live_server):
    staff_page.get(live_server.url + "/instructor/")
    buttons = staff_page.find_elements(By.XPATH, "//button[text()='Resend']")
    failed = [b for b in buttons if "Failed" in b.find_element(By.XPATH, "../..").text]
    assert len(failed) == 1
    failed[0].click()
    # The form posts and redirects: wait for the next page rather than race it.
    flashes = wait(staff_page, 10).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, ".flashes")
    )
    assert "queued" in flashes.text
    with database.connection_context():
        assert not ScorePost.select().where(ScorePost.status == FAILED).exists()
        assert ScorePost.select().where(ScorePost.status == PENDING).count() == 6
