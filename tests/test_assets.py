"""Published images over HTTP: the route's caching and errors, and learners' pages
whose ``<img>`` leads to the bytes, at the root and under a mount point."""

import hashlib
import re

import pytest
from flask import url_for
from markupsafe import escape

from lms_plugin.assets import stored_html
from lms_plugin.content.publish import publish_course
from tests.content_helpers import MODULE
from tests.content_helpers import copy_sample
from tests.content_helpers import image_in_drawn_stem
from tests.learner_helpers import launch_into
from tests.learner_helpers import start
from tests.lti_platform import landing_of

IMAGE = "ask-tell-ask.png"
#: Where the app is mounted: at the root, and under a prefix (SCRIPT_NAME).
MOUNTS = ("", "/tools/lms")


@pytest.fixture
def course(app, tmp_path):
    """The sample course, published; its image's (path, digest, URL)."""
    course = copy_sample(tmp_path)
    image_in_drawn_stem(course, IMAGE, "A clock face")  # an image in a question too
    assert publish_course(course).ok
    return course


@pytest.fixture
def image(course):
    data = (course / "assets" / IMAGE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return data, digest, f"/content/assets/{digest}.png"


def test_the_image_is_served_with_its_type_and_cached_for_good(client, image):
    data, digest, url = image
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == data
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(data))
    # No session needed or started: nothing a third-party iframe could withhold.
    assert "Set-Cookie" not in response.headers
    # The same bytes for every visitor: shared caches need not key on the cookie.
    assert "Cookie" not in response.headers.get("Vary", "")
    # Framable where the tool is, like every page (no X-Frame-Options).
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert client.head(url).status_code == 200


def test_a_browser_that_has_the_image_gets_304(client, image):
    _, digest, url = image
    for tag in (f'"{digest}"', f'W/"{digest}"', f'"other", "{digest}"', "*"):
        response = client.get(url, headers={"If-None-Match": tag})
        assert response.status_code == 304, tag
        assert response.data == b""
        assert response.headers["ETag"] == f'"{digest}"'
        assert "immutable" in response.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_unknown_images_and_wrong_extensions_are_404(client, image):
    _, digest, url = image
    for wrong in (
        f"/content/assets/{'0' * 64}.png",  # no such digest
        url.replace(".png", ".jpg"),  # not what it is
        url.replace(".png", ".svg"),
        url.replace(".png", ""),
        f"/content/assets/{digest.upper()}.png",
        f"/content/assets/{digest[:-1]}.png",
        "/content/assets/assets%2Fask-tell-ask.png",
    ):
        response = client.get(wrong)
        assert response.status_code == 404, wrong
        assert "not found" in response.get_data(as_text=True).lower()
    response = client.get(f"/content/assets/{'0' * 64}.png", headers={
        "If-None-Match": f'"{"0" * 64}"'
    })  # fmt: skip
    assert response.status_code == 404  # never 304 for what is not there


def srcs(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


@pytest.mark.parametrize("mount", MOUNTS)
def test_a_learner_sees_the_image_wherever_the_app_is_mounted(
    client, platform, image, mount
):
    data, _, url = image
    response = launch_into(client, platform, custom={"module_id": MODULE})
    assert landing_of(response) == f"/learn/modules/{MODULE}"
    base = f"http://localhost{mount}"
    page = client.get(f"/learn/modules/{MODULE}/pages/m01-p02", base_url=base)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert srcs(html) == [f"{mount}{url}"]
    assert 'alt="Three steps from left to right' in html
    assert f'href="{mount}/learn/modules/{MODULE}"' in html  # links agree
    served = client.get(srcs(html)[0].removeprefix(mount), base_url=base)
    assert served.status_code == 200 and served.data == data
    assert page.headers["Cache-Control"] == "no-store"  # the signed-in page
    # The image is the same for everyone: cached for good, signed in or not.
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("mount", MOUNTS)
def test_images_in_questions_follow_the_mount_point(client, platform, image, mount):
    data, _, url = image
    launch_into(client, platform, custom={"module_id": MODULE})
    start(client, MODULE)  # the quiz page now shows the attempt's questions
    base = f"http://localhost{mount}"
    quiz = client.get(f"/learn/modules/{MODULE}/quiz", base_url=base)
    html = quiz.get_data(as_text=True)
    assert quiz.status_code == 200 and 'alt="A clock face"' in html
    assert srcs(html) == [f"{mount}{url}"]
    served = client.get(srcs(html)[0].removeprefix(mount), base_url=base)
    assert served.data == data


def test_stored_html_adds_the_mount_point_only_to_image_urls(app):
    digest = "ab" * 32
    html = (
        f'<p>See <img src="/content/assets/{digest}.png" alt="a"> and '
        '<a href="https://example.org/content/assets/">a link</a></p>'
    )
    with app.test_request_context("/", base_url="http://localhost/"):
        assert stored_html(html) == html
        assert stored_html(None) == ""
    for mount in ("/tools/lms", "/a b&c", "/tü"):
        with app.test_request_context("/", base_url=f"http://localhost{mount}/"):
            shown = str(stored_html(html))
            expected = escape(url_for("assets.image", digest=digest, ext="png"))
        assert expected.startswith(escape(mount))
        assert f'<img src="{expected}" alt="a">' in shown  # as links are built
        assert 'href="https://example.org/content/assets/"' in shown
