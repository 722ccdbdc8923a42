"""A static HTML preview of courses for clinical reviewers who have no LMS.

Renders straight from the files (no database): an index of courses and modules,
then one page per module with its pages, quiz settings and the whole question bank
with keys, feedback and rationales. Styled by the app's own stylesheet. Images are
copied into ``assets/`` beside the pages, named by digest like the published ones
(two courses' ``diagram.png`` cannot collide), and linked relatively, so the
preview works opened straight from disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import select_autoescape

from lms_plugin.content import images
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.render import markdown_html
from lms_plugin.content.render import render_page
from lms_plugin.content.render import render_question
from lms_plugin.content.validate import validate_path
from lms_plugin.questions import TYPES

PACKAGE = Path(__file__).resolve().parent.parent

_env = Environment(
    loader=FileSystemLoader(PACKAGE / "templates" / "content" / "preview"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def write_preview(
    path: Path, out: Path, max_bytes: int, max_asset_bytes=images.MAX_ASSET_BYTES
):
    """Write the preview into ``out``; return (problems, index path or None)."""
    problems = validate_path(Path(path), max_bytes, max_asset_bytes)
    if any(p.is_error for p in problems):
        return problems, None
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE / "static" / "app.css", out / "app.css")
    courses = [
        _write_course(root, out, max_bytes, max_asset_bytes)
        for root in find_courses(path)
    ]
    index = out / "index.html"
    warnings = sorted(problems, key=lambda p: (p.path, p.line))
    _write(index, "index.html", courses=courses, warnings=warnings)
    return problems, index


def _write_course(root: Path, out: Path, max_bytes: int, max_asset_bytes) -> dict:
    course = parse_course(root, max_bytes, max_asset_bytes)
    urls = _copy_images(course, out)
    modules = []
    for module in iter_modules(course, max_bytes):
        refs = {r.key: r for r in (*course.references, *module.references)}
        filename = f"{course.id}--{module.id}.html"
        view = _module_view(module, refs, urls)
        _write(out / filename, "module.html", course=course, **view)
        meta = module.meta
        modules.append(
            {"title": meta.get("title"), "href": filename,
             "minutes": meta.get("est_minutes")}
        )  # fmt: skip
    return {
        "id": course.id,
        "title": course.meta.get("title"),
        "summary_html": markdown_html(course.meta.get("summary"), images=urls),
        "modules": modules,
    }


def _copy_images(course, out: Path) -> dict[str, str]:
    """Copy the course's images into ``out/assets/``; name -> relative URL."""
    urls = images.urls(course.assets, images.preview_url)
    if urls:
        (out / "assets").mkdir(exist_ok=True)
    for name, url in urls.items():
        shutil.copyfile(course.assets.files[name].path, out / url)
    return urls


def _module_view(module, refs, urls) -> dict:
    pages = [
        {
            "meta": page.meta,
            "body_html": render_page(
                page.id, page.body, page.meta.get("references"), refs, urls
            ),
        }
        for page in module.pages
    ]
    questions = [
        render_question(TYPES.normalize(q.data), refs, urls) for q in module.questions
    ]
    return {
        "module": module.meta,
        "summary_html": markdown_html(module.meta.get("summary"), images=urls),
        "pages": pages,
        "quiz": module.quiz,
        "questions": questions,
    }


def _write(path: Path, template: str, **context) -> None:
    path.write_text(_env.get_template(template).render(**context), encoding="utf-8")
