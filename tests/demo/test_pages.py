"""The demo LMS's pages: user picking (CSRF), the course, launch frames."""

import re

from tests.demo.support import pick


def test_home_shows_course_roster_and_modules(demo_client):
    page = demo_client.get("/demo/").get_data(as_text=True)
    assert "Professional Practice for Clinical Trainees" in page
    for name in ("Avery Okafor", "Jordan Lindqvist", "Morgan Abara"):
        assert name in page
    assert "Mentorship modules: start here" in page
    assert 'href="/demo/links/demo-link-welcome"' in page
    assert 'href="/demo/links/demo-course-navigation"' in page
    assert "You are using the course as" in page
    assert "<strong>Avery Okafor</strong> (Learner)" in page
    assert "Add modules (deep linking)" not in page


def test_picking_a_user_needs_the_csrf_token(demo_client):
    demo_client.get("/demo/")
    forged = demo_client.post("/demo/user", data={"sub": "demo-instructor-morgan"})
    assert forged.status_code == 400
    assert "<strong>Avery Okafor</strong>" in demo_client.get("/demo/").get_data(
        as_text=True
    )
    pick(demo_client, "demo-instructor-morgan")
    page = demo_client.get("/demo/").get_data(as_text=True)
    assert "<strong>Morgan Abara</strong> (Instructor)" in page
    assert 'href="/demo/deep-link"' in page


def test_picking_an_unknown_user_is_a_clear_400(demo_client):
    page = demo_client.get("/demo/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = demo_client.post("/demo/user", data={"csrf_token": token, "sub": "x"})
    assert response.status_code == 400
    assert b"no such person" in response.data


def test_launch_page_frames_the_tool_with_a_new_tab_link(demo_client):
    page = demo_client.get("/demo/links/demo-link-welcome").get_data(as_text=True)
    assert re.search(
        r'<iframe [^>]*title="Mentorship modules: start here: the tool" '
        r'src="/demo/links/demo-link-welcome/start"',
        page,
    )
    assert 'href="/demo/links/demo-link-welcome/start?target=window"' in page
    assert 'target="_blank"' in page


def test_unknown_link_is_404(demo_client):
    assert demo_client.get("/demo/links/nope").status_code == 404
    assert demo_client.get("/demo/links/nope/start").status_code == 404
