"""Sanitize stage (and Markdown rendering through it): nothing unsafe survives."""

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from lms_plugin.content.render import markdown_html
from lms_plugin.content.sanitize import clean_html

#: A published image's URL, and the preview's: the only image srcs kept.
PUBLISHED = "/content/assets/" + "0123456789abcdef" * 4 + ".png"
PREVIEW = PUBLISHED.removeprefix("/content/")

PAIRS = [
    ("<script>alert(1)</script>", "alert(1)"),
    ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="vbscript:x">x</a>', "<a>x</a>"),
    (
        f'<img src="{PUBLISHED}" onerror="alert(1)" alt="a">',
        f'<img src="{PUBLISHED}" alt="a">',
    ),
    # the static preview's form: relative, named by digest
    (f'<img src="{PREVIEW}" alt="a">', f'<img src="{PREVIEW}" alt="a">'),
    (f'<img src="{PUBLISHED[1:]}" alt="a">', '<img alt="a">'),  # not root-relative
    (f'<img src="/content{PUBLISHED}" alt="a">', '<img alt="a">'),
    (f'<img src="{PUBLISHED[:-4]}.svg" alt="a">', '<img alt="a">'),
    ('<img src="assets/x.png" alt="a">', '<img alt="a">'),  # an author's file name
    ('<img src="x.png" alt="a">', '<img alt="a">'),
    ('<img src="data:image/png;base64,AAAA" alt="a">', '<img alt="a">'),
    ('<img src="https://tracker.example/p.gif" alt="a">', '<img alt="a">'),
    ('<img src="/etc/passwd" alt="a">', '<img alt="a">'),
    ('<img src="assets/../../x.png" alt="a">', '<img alt="a">'),
    ('<p style="position:fixed">x</p>', "<p>x</p>"),
    ("<style>body{display:none}</style>", "body{display:none}"),
    ("<iframe src=https://evil.example></iframe>", ""),
    ('<svg onload="alert(1)"><circle/></svg>', ""),
    ('<p class="evil">x</p>', "<p>x</p>"),
    ('<p id="main">x</p>', "<p>x</p>"),
    ("<!-- note -->x", "x"),
    (
        '<a href="https://example.org">x</a>',
        '<a href="https://example.org" rel="noopener noreferrer" target="_blank">x</a>',
    ),
    ('<a href="mailto:a@example.org">m</a>', '<a href="mailto:a@example.org">m</a>'),
    ('<a href="https://x.org" rel="opener">x</a>', None),
    ('<a href="#ref-m01-p01-1">1</a>', '<a href="#ref-m01-p01-1">1</a>'),
    ('<a href="#elsewhere">1</a>', "<a>1</a>"),
    (
        '<aside class="callout callout-pearl" aria-label="Clinical pearl">x</aside>',
        '<aside class="callout callout-pearl" aria-label="Clinical pearl">x</aside>',
    ),
    (
        '<table><tbody><tr><td class="align-right" style="x">1</td></tr></tbody></table>',  # noqa: E501
        '<table><tbody><tr><td class="align-right">1</td></tr></tbody></table>',
    ),
]


@pytest.mark.parametrize(("dirty", "clean"), PAIRS)
def test_allow_list(dirty, clean):
    result = clean_html(dirty)
    if clean is None:  # only the rule matters: our rel replaces theirs
        assert 'rel="noopener noreferrer"' in result and "opener" not in result.replace(
            "noopener", ""
        )
    else:
        assert result == clean


class _Audit(HTMLParser):
    """Collects what a browser would treat as executable in an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "iframe", "object", "embed", "svg", "math"):
            self.findings.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.findings.append(f"{tag}[{name}]")
            compact = "".join((value or "").split()).lower()
            if name in ("href", "src") and compact.startswith(
                ("javascript:", "vbscript:", "data:")
            ):
                self.findings.append(f"{tag}[{name}={value}]")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.findings


HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:",
        "[x](javascript:alert(1))", "<javascript:alert(1)>", "![a](data:text/html,x)",
        '<a href="java\tscript:alert(1)">', "<style>", 'style="x"', "<svg/onload=1>",
        "<<script>script>", "&lt;script&gt;", "::: pearl\n", ":::\n", "[@key]",
        "| a | b |\n|---|---|\n", "`code`", "```\n<script>\n```\n", "> ", "- ", "\n\n",
        "<!--", "-->", "<![CDATA[", "]]>", '"', "'", "<a href='", "' onclick='x'>",
        "[x](JAVASCRIPT:alert(1))", "[x](<javascript:alert(1)>)", "](", "![", "](https://a.b)",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(HOSTILE, st.text(max_size=20)), max_size=25), st.booleans())
def test_rendered_markdown_is_never_executable(parts, inline):
    html = markdown_html("".join(parts), inline=inline)
    assert "<script" not in html.lower()
    assert audit(html) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_sanitizer_output_is_never_executable(raw):
    html = clean_html(raw)
    assert "<script" not in html.lower()
    assert audit(html) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_plain_text_fast_path_matches_the_full_renderer(text):
    from lms_plugin.content.render import _plain_inline
    from lms_plugin.content.render import _raw

    fast = _plain_inline(text)
    if fast is not None:
        assert fast == clean_html(_raw(text, None, inline=True))


@given(st.lists(st.text(max_size=40), min_size=2, max_size=8))
def test_cleaning_many_fragments_equals_cleaning_each(texts):
    from lms_plugin.content.render import _raw
    from lms_plugin.content.sanitize import clean_many

    fragments = [_raw(t, None, inline=bool(i % 2)) for i, t in enumerate(texts)]
    assert clean_many(fragments) == [clean_html(f) for f in fragments]


def test_an_authored_separator_character_is_kept_and_splits_nothing():
    from lms_plugin.content.sanitize import clean_many

    # U+E000 joins fragments for one sanitizer pass; an author may type it too.
    assert clean_many(["", "\ue000", "a\ue000b"]) == ["", "\ue000", "a\ue000b"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(HOSTILE, st.text(max_size=20)), max_size=20))
def test_lint_and_page_rendering_never_crash(parts):
    from lms_plugin.content import lint
    from lms_plugin.content.checker import Checker
    from lms_plugin.content.render import render_page

    text = "".join(parts)
    checker = Checker("page.md")
    lint.check_markdown(checker, text, 7, "page")
    lint.check_phi(checker, text, 7, "page")
    assert all(p.line >= 7 for p in checker.problems)
    assert audit(render_page("p1", text, [], {})) == []
