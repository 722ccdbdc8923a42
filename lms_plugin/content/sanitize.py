"""Sanitize stage: the one HTML allow-list. Only this module imports bleach.

Rendered Markdown passes through :func:`clean_html` before it is stored in an
``_html`` column. Markdown is rendered with raw HTML off, so this is defence in
depth: whatever slips through, only these tags, attributes and URL schemes survive.
An image keeps its ``src`` only when it is a published image's URL (by digest).
"""

import re

import bleach
from bleach.html5lib_shim import Filter

from lms_plugin.content.images import PUBLISHED_SRC

TAGS = frozenset(
    {
        "a", "aside", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "s", "section", "span",
        "strong", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip

PROTOCOLS = frozenset({"http", "https", "mailto"})

_CLASS = re.compile(
    r"^(callout|callout-[a-z]+|callout-title|references|cite|visually-hidden"
    r"|align-(left|center|right)|language-[A-Za-z0-9_+-]+)"
    r"( (callout|callout-[a-z]+|cite))*$"
)
_ANCHOR_ID = re.compile(r"^(ref|cite|refs)-[a-z0-9-]+$")
_FRAGMENT = re.compile(r"^#(ref|cite)-[a-z0-9-]+$")


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    if name == "class":
        return bool(_CLASS.match(value))
    if name == "id":
        return bool(_ANCHOR_ID.match(value))
    rule = _ATTRIBUTES.get(tag, {}).get(name)
    return rule(value) if callable(rule) else bool(rule)


def _href_allowed(value: str) -> bool:
    # Scheme allow-listing itself is bleach's job (PROTOCOLS); fragments only for
    # the pipeline's own citation anchors; no relative links to unknown places.
    if value.startswith("#"):
        return bool(_FRAGMENT.match(value))
    return ":" in value


_ATTRIBUTES = {
    "a": {"href": _href_allowed, "title": True, "rel": True, "target": "_blank".__eq__},
    "img": {"src": lambda v: bool(PUBLISHED_SRC.match(v)), "alt": True, "title": True},
    "aside": {"aria-label": True},
    "section": {"aria-labelledby": lambda v: bool(_ANCHOR_ID.match(v))},
    "ol": {"start": str.isdigit},
    "h2": {}, "h3": {}, "h4": {}, "li": {}, "sup": {}, "code": {}, "span": {},
    "p": {}, "th": {}, "td": {},
}  # fmt: skip


class _ExternalLinks(Filter):
    """Give links that leave the tool rel="noopener noreferrer" and a new tab."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = token["data"]
                href = attrs.get((None, "href"), "")
                if href.startswith(("http://", "https://")):
                    attrs[(None, "rel")] = "noopener noreferrer"
                    attrs[(None, "target")] = "_blank"
                else:
                    attrs.pop((None, "target"), None)
            yield token


# bleach's Cleaner is not thread-safe; the pipeline sanitizes at publish time,
# in one thread, so a single module-level instance is enough.
_cleaner = bleach.Cleaner(
    tags=TAGS,
    attributes=_attribute_allowed,
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_ExternalLinks],
)


def clean_html(html: str) -> str:
    """Return ``html`` with everything outside the allow-list removed."""
    return _cleaner.clean(html)


#: Private-use character that joins fragments for one sanitizer pass.
_SEPARATOR = "\ue000"


def clean_many(fragments: list[str]) -> list[str]:
    """:func:`clean_html` for many well-formed fragments in one parser pass.

    The fragments come from the Markdown renderer, so each is balanced and joining
    them cannot change how the others parse. A fragment that holds the separator
    itself (an author may type any character) is cleaned with the others one by
    one, so it can neither split a field nor be lost.
    """
    if len(fragments) < 2 or any(_SEPARATOR in f for f in fragments):
        return [clean_html(f) for f in fragments]
    joined = _SEPARATOR.join(fragments)
    parts = clean_html(joined).split(_SEPARATOR)
    if len(parts) != len(fragments):  # defensive: never mismatch fields
        return [clean_html(f) for f in fragments]
    return parts
