"""Images through the pipeline: checked with file and line, stored once by digest,
versioned with what shows them, and copied into the reviewers' preview."""

import hashlib
import re

import pytest

from lms_plugin.content import publish as publish_module
from lms_plugin.content.images import sniff
from lms_plugin.content.preview import write_preview
from lms_plugin.content.publish import publish_course
from lms_plugin.content.reading import display_path
from lms_plugin.content.validate import validate_path
from lms_plugin.db import database
from lms_plugin.models.content import Asset
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.content import Page
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from tests.content_helpers import JPEG_START
from tests.content_helpers import SVG
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import image_in_drawn_stem
from tests.content_helpers import line_of
from tests.content_helpers import module_dir
from tests.content_helpers import png
from tests.test_content_publish import publish
from tests.test_content_publish import snapshot

PAGE2 = "02-a-model-you-can-use.md"
IMAGE = "ask-tell-ask.png"
SHOWN = f"![Three steps from left to right: ask (blue), tell (orange), ask again (blue)](assets/{IMAGE})"  # noqa: E501


def use_image(course, src: str, alt: str = "A picture") -> None:
    """Make page 2 show ``src`` instead of the sample's image."""
    edit(module_dir(course) / PAGE2, SHOWN, f"![{alt}]({src})")


def digest_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- validation: each problem where the image is used ------------------------------

# name -> (files to write under assets/, src, message part)
BAD_IMAGES = {
    "missing file": ({}, "assets/diagram.png", "is missing: there is no file {assets}/diagram.png"),  # noqa: E501
    "name differs in case": ({}, "assets/Ask-Tell-Ask.png", "(there is assets/ask-tell-ask.png: names are case-sensitive)"),  # noqa: E501
    "a JPEG named .png": ({"photo.png": JPEG_START}, "assets/photo.png", "is not a PNG file: {assets}/photo.png is a JPEG image"),  # noqa: E501
    "not an image at all": ({"notes.png": b"just text"}, "assets/notes.png", "is not a PNG, JPEG, GIF or WebP image"),  # noqa: E501
    "SVG": ({"flow.svg": SVG}, "assets/flow.svg", "SVG is not allowed because it can carry script"),  # noqa: E501
    "SVG named .png": ({"flow.png": SVG}, "assets/flow.png", "SVG is not allowed because it can carry script"),  # noqa: E501
    "unsupported type": ({"scan.bmp": b"BM\0\0"}, "assets/scan.bmp", "has an unsupported type ({assets}/scan.bmp): use PNG, JPEG, GIF or WebP"),  # noqa: E501
    "outside assets/": ({}, "images/chart.png", "must be written assets/<name>, a file directly in the course's assets/ folder"),  # noqa: E501
    "in a folder inside assets/": ({}, "assets/sub/chart.png", "must be written assets/<name>"),  # noqa: E501
    "remote": ({}, "https://example.org/chart.png", "must be a local assets/ path"),
    "absolute": ({}, "/etc/chart.png", "must be a local assets/ path"),
    "parent folder": ({}, "../assets/chart.png", "must be a local assets/ path"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_IMAGES))
def test_each_image_problem_is_reported_where_the_image_is(tmp_path, name):
    files, src, message = BAD_IMAGES[name]
    course = copy_sample(tmp_path)
    for filename, data in files.items():
        (course / "assets" / filename).write_bytes(data)
    use_image(course, src)
    page = module_dir(course) / PAGE2
    (problem,) = validate_path(course)
    assert problem.is_error
    assert problem.path.endswith(PAGE2)
    assert problem.line == line_of(page, f"]({src})")
    assert problem.message.startswith(f"page 'm01-p02': image '{src}' ")
    assert message.format(assets=display_path(course / "assets")) in problem.message


def test_an_oversized_image_names_the_limit_and_the_setting(tmp_path):
    course = copy_sample(tmp_path)
    size = (course / "assets" / IMAGE).stat().st_size
    (problem,) = validate_path(course, max_asset_bytes=size - 1)
    assert problem.line == line_of(module_dir(course) / PAGE2, IMAGE)
    assert (
        f"is {size:,} bytes; the limit is {size - 1:,} (CONTENT_MAX_ASSET_BYTES)"
        in (problem.message)
    )
    assert validate_path(course, max_asset_bytes=size) == []


def test_images_are_checked_in_questions_and_summaries_too(tmp_path):
    course = copy_sample(tmp_path)
    folder = module_dir(course)
    image_in_drawn_stem(course, "clock.png")
    edit(
        folder / "bank.yaml",
        'text: "Tell them what you observed"',
        'text: "Tell them what you observed ![An eye](assets/eye.png)"',
    )
    edit(
        folder / "module.yaml",
        "  How to give a trainee feedback",
        "  ![A bedside](assets/bedside.png)\n  How to give a trainee feedback",
    )
    problems = {
        re.search(r"image '([^']+)'", p.message).group(1): p
        for p in validate_path(course)
    }
    assert sorted(problems) == [
        "assets/bedside.png", "assets/clock.png", "assets/eye.png"
    ]  # fmt: skip
    for src, filename in (
        ("assets/clock.png", "bank.yaml"),
        ("assets/eye.png", "bank.yaml"),
        ("assets/bedside.png", "module.yaml"),
    ):
        problem = problems[src]
        assert problem.path.endswith(filename) and "is missing" in problem.message
        assert problem.line == line_of(folder / filename, src)


BREAKS = {
    "missing file": lambda course: (course / "assets" / IMAGE).unlink(),
    "wrong magic bytes": lambda course: (course / "assets" / IMAGE).write_bytes(
        JPEG_START
    ),
    "SVG": lambda course: (course / "assets" / IMAGE).write_bytes(SVG),
    "outside assets/": lambda course: use_image(course, f"pictures/{IMAGE}"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_bad_image_leaves_the_database_unchanged(app, tmp_path, name):
    course = copy_sample(tmp_path)
    publish(course)
    edit(module_dir(course) / "01-what-good-feedback-looks-like.md", "timely", "prompt")
    before = snapshot()
    BREAKS[name](course)
    report = publish_course(course)
    assert not report.ok and report.added == report.changed == []
    (error,) = [p for p in report.problems if p.is_error]
    assert error.path.endswith(PAGE2) and error.line > 1
    assert snapshot() == before  # not even the valid page edit went in


def test_an_oversized_image_is_refused_by_publish(app, tmp_path):
    course = copy_sample(tmp_path)
    report = publish_course(course, max_asset_bytes=100)
    assert not report.ok
    assert any("CONTENT_MAX_ASSET_BYTES" in p.message for p in report.problems)
    assert all(not rows for rows in snapshot().values())


def test_the_sniffer_knows_each_allowed_type():
    assert sniff(png()) == "png"
    assert sniff(JPEG_START) == "jpeg"
    assert sniff(b"GIF89a\x01\x00") == sniff(b"GIF87a") == "gif"
    assert sniff(b"RIFF\x10\0\0\0WEBPVP8 ") == "webp"
    assert sniff(SVG) == sniff(b"\xef\xbb\xbf  <svg viewBox='0 0 1 1'/>") == "svg"
    assert sniff(b"<html><body>") is None and sniff(b"") is None


# --- publishing: stored once, by digest ------------------------------------------


def test_publish_stores_the_image_once_and_pages_point_at_its_digest(app, tmp_path):
    course = copy_sample(tmp_path)
    digest = digest_of(course / "assets" / IMAGE)
    report = publish(course)
    assert ("asset", IMAGE) in report.added
    with database.connection_context():
        (asset,) = Asset.select()
        page = Page.get(Page.slug == "m01-p02")
    assert asset.digest == digest and asset.media_type == "image/png"
    assert bytes(asset.data) == (course / "assets" / IMAGE).read_bytes()
    assert asset.byte_size == len(bytes(asset.data))
    assert f'src="/content/assets/{digest}.png"' in page.body_html
    assert IMAGE not in page.body_html
    assert 'alt="Three steps from left to right' in page.body_html


def test_an_image_used_in_many_places_and_courses_is_stored_once(app, tmp_path):
    course = copy_sample(tmp_path)
    edit(
        module_dir(course) / "bank.yaml",
        "      Which comment is the most specific?",
        f"      Which comment is the most specific?\n\n      ![Again](assets/{IMAGE})",
    )
    report = publish(course)
    assert report.added.count(("asset", IMAGE)) == 1
    other = copy_sample(tmp_path / "other", name="other-course")
    folder = other / "modules" / "m02-giving-feedback"
    (other / "modules" / "m01-giving-feedback").rename(folder)
    edit(other / "course.yaml", "m01-giving-feedback", "m02-giving-feedback")
    for path in folder.iterdir():  # ids of its own: a module belongs to one course
        path.write_text(path.read_text().replace("m01-", "m02-"))
    assert ("asset", IMAGE) not in publish(other).added
    with database.connection_context():
        assert Asset.select().count() == 1
        data = Question.get(Question.slug == "m01-q001").current().data
    assert (
        f"/content/assets/{digest_of(course / 'assets' / IMAGE)}.png"
        in (data["stem_html"])
    )


def test_a_changed_image_is_a_new_page_version_and_nothing_else(app, tmp_path):
    course = copy_sample(tmp_path)
    publish(course)
    old = digest_of(course / "assets" / IMAGE)
    with database.connection_context():
        before = {p.slug: p.content_hash for p in Page.select()}
        versions = question_versions()
    (course / "assets" / IMAGE).write_bytes(png(3, 3))
    new = digest_of(course / "assets" / IMAGE)
    report = publish(course)
    assert report.changed == [("page", "m01-p02")]
    assert report.added == [("asset", IMAGE)]
    assert report.unchanged == {"module": 1, "page": 1, "question": 4}
    with database.connection_context():
        pages = {p.slug: p for p in Page.select()}
        assert sorted(a.digest for a in Asset.select()) == sorted([old, new])
        assert question_versions() == versions
    assert pages["m01-p01"].content_hash == before["m01-p01"]
    assert pages["m01-p02"].content_hash != before["m01-p02"]
    assert f"/content/assets/{new}.png" in pages["m01-p02"].body_html
    assert old not in pages["m01-p02"].body_html


def question_versions() -> int:
    return QuestionVersion.select().count()


def test_a_changed_image_in_a_question_or_summary_makes_new_versions(app, tmp_path):
    course = copy_sample(tmp_path)
    folder = module_dir(course)
    (course / "assets" / "clock.png").write_bytes(png(2, 2))
    image_in_drawn_stem(course, "clock.png")
    edit(
        folder / "module.yaml",
        "  How to give a trainee feedback",
        "  ![A clock](assets/clock.png)\n  How to give a trainee feedback",
    )
    publish(course)
    (course / "assets" / "clock.png").write_bytes(png(4, 4))
    report = publish(course)
    assert sorted(report.changed) == [
        ("module", "m01-giving-feedback"), ("question", "m01-q002")
    ]  # fmt: skip
    new = digest_of(course / "assets" / "clock.png")
    with database.connection_context():
        question = Question.get(Question.slug == "m01-q002")
        summary = ModuleVersion.select().order_by(ModuleVersion.number.desc()).get()
        stem = question.current().data["stem_html"]
    assert question.version == 2 and f"/content/assets/{new}.png" in stem
    assert summary.number == 2 and f"/content/assets/{new}.png" in summary.summary_html


def test_an_image_changed_while_publishing_stops_the_publish(
    app, tmp_path, monkeypatch
):
    course = copy_sample(tmp_path)
    parse = publish_module.parse_course

    def parse_then_change_the_image(*args):
        parsed = parse(*args)
        (course / "assets" / IMAGE).write_bytes(png(7, 7))
        return parsed

    monkeypatch.setattr(publish_module, "parse_course", parse_then_change_the_image)
    report = publish_course(course)
    assert not report.ok and report.added == []
    (error,) = report.problems
    assert error.message == f"assets/{IMAGE} changed while publishing; publish again"
    assert all(not rows for rows in snapshot().values())


def test_republishing_a_course_with_images_writes_nothing(app, tmp_path):
    # The general rule is tests/test_content_publish.py's: the sample shows an image.
    course = copy_sample(tmp_path)
    publish(course)
    (course / "assets" / "unused.png").write_bytes(png(5, 5))  # no text shows it
    report = publish(course)
    assert report.added == report.changed == []
    with database.connection_context():
        assert Asset.select().count() == 1


# --- the reviewers' preview --------------------------------------------------------


def test_preview_copies_images_and_links_them_relatively(tmp_path):
    course = copy_sample(tmp_path)
    out = tmp_path / "preview"
    problems, index = write_preview(course, out, 1_000_000)
    assert problems == [] and index == out / "index.html"
    html = (out / "sample-course--m01-giving-feedback.html").read_text()
    (src,) = re.findall(r'<img src="([^"]+)"', html)
    digest = digest_of(course / "assets" / IMAGE)
    assert src == f"assets/{digest}.png"
    copied = out / src  # resolved as a browser does from the page's own folder
    assert copied.read_bytes() == (course / "assets" / IMAGE).read_bytes()


def test_preview_refuses_a_course_whose_image_is_missing(tmp_path):
    course = copy_sample(tmp_path)
    (course / "assets" / IMAGE).unlink()
    problems, index = write_preview(course, tmp_path / "out", 1_000_000)
    assert index is None and any("is missing" in p.message for p in problems)
