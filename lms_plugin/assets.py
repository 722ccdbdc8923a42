"""Published course images: ``GET /content/assets/<digest>.<ext>``, and their URLs
under the app's mount point.

The content pipeline stores each image of a course's ``assets/`` folder once, as
an :class:`~lms_plugin.models.content.Asset` named by the SHA-256 of its bytes,
and the stored HTML refers to it as ``/content/assets/<digest>.<ext>``.

No session is needed to fetch one, on purpose:

- the URL is content-addressed: it cannot be guessed without having the file,
  and it names only what it is (no learner, course or context in it);
- the modules are the same for every course and every learner, so an image is
  no secret to anyone who may open a page that shows it;
- an ``<img>`` inside the LMS's iframe is a third-party request to the browser,
  which may withhold the tool's cookies; an image that needed the session would
  break exactly where learners see it.

Since the bytes behind a URL never change, responses are cacheable by anyone for
a year (``immutable``), with the digest as ``ETag`` for the odd revalidation. The
media type is the one validated at publish time, and ``nosniff`` keeps browsers
to it. The app's security headers apply as on every response (its CSP, with
``img-src 'self'`` and the platforms' ``frame-ancestors``; never
``X-Frame-Options``), so images load inside the LMS iframe.

Stored HTML cannot know where the app is mounted (``SCRIPT_NAME``): templates
show ``_html`` columns through the :func:`stored_html` filter, which puts the
mount point before those URLs when there is one, and does nothing otherwise.
"""

import re

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import request
from markupsafe import Markup
from markupsafe import escape

from lms_plugin.content.images import IMAGE_TYPES
from lms_plugin.content.images import SERVED_PREFIX
from lms_plugin.errors import LmsError
from lms_plugin.models.content import Asset

bp = Blueprint("assets", __name__, url_prefix=SERVED_PREFIX.rstrip("/"))

CACHE_CONTROL = "public, max-age=31536000, immutable"
DIGEST = re.compile(r"^[0-9a-f]{64}$")
#: Media type -> the extension its URLs end with.
EXTENSIONS = {t.media_type: t.extension for t in IMAGE_TYPES.values()}
#: How stored HTML refers to an image (the sanitizer allows no other image src).
_STORED_SRC = f'src="{SERVED_PREFIX}'


class AssetNotFound(LmsError):
    status_code = 404
    title = "Not found"


@bp.get("/<digest>.<ext>")
def image(digest: str, ext: str):
    """The image's bytes, or 304 when the browser has them already."""
    if not DIGEST.match(digest):
        raise AssetNotFound("There is no such image.")
    if request.if_none_match.contains_weak(digest):
        media_type, stored = Asset.media_type_of(digest), None
    else:
        stored = Asset.image(digest)
        media_type = stored.media_type if stored else None
    if media_type is None or EXTENSIONS.get(media_type) != ext:
        raise AssetNotFound("There is no such image.")
    if stored is None:
        response = Response(status=304)
    else:
        response = Response(stored.data, mimetype=media_type)
    response.set_etag(digest)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def stored_html(html: str | None) -> Markup:
    """Sanitized HTML from an ``_html`` column, marked safe, for this mount point.

    Under a mount point its image URLs get the prefix, as ``url_for`` puts it
    before links; at the root (or with no image) the text is returned as it is,
    at the cost of one comparison. Only an image's ``src`` can hold the stored
    form: the sanitizer keeps no other, and text has its quotes escaped.
    """
    html = html or ""
    root = request.root_path if request else ""
    if root and _STORED_SRC in html:
        html = html.replace(_STORED_SRC, f'src="{escape(root)}{SERVED_PREFIX}')
    return Markup(html)


def init_app(app: Flask) -> None:
    """Serve published images; give templates the ``stored_html`` filter."""
    app.register_blueprint(bp)
    app.add_template_filter(stored_html)
