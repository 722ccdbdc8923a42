"""Images in course Markdown: the allowed types, how a file is recognised, its URLs.

Authors write ``![alt](assets/<name>)``; the file lives directly in the course's
``assets/`` folder. Only raster formats are allowed (PNG, JPEG, GIF, WebP), and a
file counts as one only when its first bytes say so and its extension agrees. SVG
is refused: it is a document that can carry script. Published images are named by
the SHA-256 of their bytes, so their URLs never change meaning and can be cached
forever. Pure: no files are read here (``parse`` reads them), no database.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

from lms_plugin.content.data import AssetFile
from lms_plugin.content.data import Assets


class ImageType(NamedTuple):
    """One allowed image format."""

    label: str  # what authors call it
    media_type: str
    extension: str  # the one in served URLs
    extensions: tuple[str, ...]  # what authors may name the file


#: Allowed formats, by the kind :func:`sniff` gives.
IMAGE_TYPES = {
    "png": ImageType("PNG", "image/png", "png", ("png",)),
    "jpeg": ImageType("JPEG", "image/jpeg", "jpg", ("jpg", "jpeg")),
    "gif": ImageType("GIF", "image/gif", "gif", ("gif",)),
    "webp": ImageType("WebP", "image/webp", "webp", ("webp",)),
}

#: Default per-image size limit (CONTENT_MAX_ASSET_BYTES overrides it).
MAX_ASSET_BYTES = 2 * 1024 * 1024

#: Bytes of a file's start that :func:`sniff` needs.
HEAD_BYTES = 512

#: Where published images are served, relative to the app's root.
SERVED_PREFIX = "/content/assets/"

#: The src of a published image, as stored (``SERVED_PREFIX``) or in a preview.
PUBLISHED_SRC = re.compile(
    r"^(?:/content/)?assets/[0-9a-f]{64}\.(?:"
    + "|".join(t.extension for t in IMAGE_TYPES.values())
    + r")$"
)

_SRC = re.compile(r"^assets/([^/\\]+)$")
_SVG = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml|svg|!--|!doctype svg)", re.I)


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file are: a key of IMAGE_TYPES, "svg", or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if _SVG.match(head) and b"<svg" in head.lower():
        return "svg"
    return None


def kind_of_name(name: str) -> str | None:
    """The allowed kind a file name's extension says, or None."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for kind, image_type in IMAGE_TYPES.items():
        if extension in image_type.extensions:
            return kind
    return None


def asset_name(src: str) -> str | None:
    """The file name in ``assets/<name>``, or None when ``src`` is not that form.

    The Markdown parser percent-encodes a destination (a space becomes ``%20``),
    so the name is decoded back to the file's own.
    """
    match = _SRC.match(unquote(src or ""))
    name = match.group(1) if match else None
    return None if name in (None, ".", "..") else name


def served_url(digest: str, kind: str) -> str:
    """The root-relative URL a published image is served at."""
    return f"{SERVED_PREFIX}{digest}.{IMAGE_TYPES[kind].extension}"


def preview_url(digest: str, kind: str) -> str:
    """Where the static preview keeps an image, relative to its pages."""
    return f"assets/{digest}.{IMAGE_TYPES[kind].extension}"


def usable(found: AssetFile) -> bool:
    """Can this file be published: an allowed type, named as what it is, in size?"""
    return (
        found.digest is not None
        and found.kind in IMAGE_TYPES
        and kind_of_name(found.name) == found.kind
    )


def urls(assets: Assets | None, url_of=served_url) -> dict[str, str]:
    """File name -> URL (``url_of(digest, kind)``) of every usable image in a folder."""
    if assets is None:
        return {}
    return {
        name: url_of(found.digest, found.kind)
        for name, found in assets.files.items()
        if usable(found)
    }
