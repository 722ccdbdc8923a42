"""Markdown to sanitized HTML: the CommonMark subset of courses/FORMAT.md.

markdown-it-py with raw HTML off (it is escaped, never rendered), tables,
strikethrough, ``:::`` callouts rendered as labelled ``<aside>`` landmarks,
``[@key]`` citations numbered per page (or per question) with the reference list
appended, and images whose ``assets/<name>`` source is replaced by the URL of the
published file (an ``images`` mapping, src -> URL, given by the caller). Every
output passes through ``sanitize.clean_html``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.container import container_plugin

from lms_plugin.content.data import Reference
from lms_plugin.content.images import asset_name
from lms_plugin.content.sanitize import clean_html
from lms_plugin.content.sanitize import clean_many
from lms_plugin.questions import ENTRY_MARKDOWN

#: Callout name -> the label screen readers announce and sighted readers see.
CALLOUTS = {
    "pearl": "Clinical pearl",
    "reflection": "Reflection",
    "mentor": "The mentor's perspective",
    "mentee": "The mentee's perspective",
    "example": "Worked example",
    "caution": "Caution",
    "note": "Note",
}

#: Bump when rendered output changes, so the next publish re-renders everything.
RENDER_VERSION = "1"

KEY = r"[a-z0-9][a-z0-9-]*"
CITATION = re.compile(rf"\[@({KEY}(?:\s*;\s*@{KEY})*)\]")
CITED_KEY = re.compile(rf"@({KEY})")
_ALIGN = re.compile(r"text-align:(left|center|right)")


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("[@", state.pos):
        return False
    match = CITATION.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": CITED_KEY.findall("@" + match.group(1))}
        token.content = match.group(0)
    state.pos = match.end()
    return True


def _render_citation(self, tokens, idx, options, env) -> str:
    citations: Citations | None = env.get("citations")
    token = tokens[idx]
    if citations is None or not all(k in citations.refs for k in token.meta["keys"]):
        return html.escape(token.content)
    links = [citations.link(key) for key in token.meta["keys"]]
    return f'<sup class="cite">[{", ".join(links)}]</sup>'


def _callout_renderer(name: str):
    label = CALLOUTS[name]

    def render(self, tokens, idx, options, env) -> str:
        if tokens[idx].nesting == 1:
            return (
                f'<aside class="callout callout-{name}" aria-label="{label}">\n'
                f'<p class="callout-title">{label}</p>\n'
            )
        return "</aside>\n"

    return render


def _alignment_to_class(state) -> None:
    # markdown-it aligns table cells with style=""; the allow-list has no style.
    for token in state.tokens:
        style = token.attrGet("style") if token.attrs else None
        if style and (match := _ALIGN.search(str(style))):
            token.attrs.pop("style")
            token.attrSet("class", f"align-{match.group(1)}")


def _image_urls(state) -> None:
    # Images point at the published file (env["images"]: assets/<name> -> URL).
    urls = state.env.get("images")
    if urls is None:
        return
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "image":
                url = urls.get(asset_name(str(child.attrGet("src") or "")))
                if url is None:
                    child.attrs.pop("src", None)  # never a path the tool cannot serve
                else:
                    child.attrSet("src", url)


def _build(*, lint: bool = False) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": lint, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)
    md.core.ruler.push("align_to_class", _alignment_to_class)
    md.core.ruler.push("image_urls", _image_urls)
    for name in CALLOUTS:
        container_plugin(md, name, render=_callout_renderer(name))
    if lint:
        # The lint parser keeps every link and raw HTML so validate can report them.
        md.validateLink = lambda url: True
    return md


_md = _build()
_lint_md = _build(lint=True)


class Citations:
    """Numbers ``[@key]`` citations in order of first use within one scope."""

    def __init__(self, refs: Mapping[str, Reference], scope: str):
        self.refs = refs
        self.scope = scope
        self.order: list[str] = []

    def number(self, key: str) -> int:
        """The number of ``key`` in this scope, assigned on first use."""
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def link(self, key: str) -> str:
        """The in-text link to ``key``'s entry in the reference list."""
        n = self.number(key)
        return (
            f'<a href="#ref-{self.scope}-{n}">'
            f'<span class="visually-hidden">Reference </span>{n}</a>'
        )

    def list_html(self, listed=(), heading: int = 2) -> str:
        """The numbered reference list (cited keys first, then ``listed`` ones)."""
        return clean_html(self.list_raw(listed, heading))

    def list_raw(self, listed=(), heading: int = 2) -> str:
        """:meth:`list_html` before sanitizing."""
        for key in listed:
            if key in self.refs:
                self.number(key)
        if not self.order:
            return ""
        items = "".join(
            f'<li id="ref-{self.scope}-{n}">{_reference_html(self.refs[key])}</li>'
            for n, key in enumerate(self.order, start=1)
        )
        head = f"h{heading}"
        return (
            f'<section class="references" aria-labelledby="refs-{self.scope}">'
            f'<{head} id="refs-{self.scope}">References</{head}><ol>{items}</ol>'
            "</section>"
        )


def _reference_html(ref: Reference) -> str:
    text = html.escape(ref.citation)
    if ref.url and str(ref.url).startswith(("http://", "https://")):
        url = html.escape(str(ref.url), quote=True)
        text += f' <a href="{url}">{url}</a>'
    accessed = ref.data.get("accessed") if ref.data is not None else None
    if isinstance(accessed, str) and accessed.strip():
        text += f" (accessed {html.escape(accessed)})"
    return text


#: Image file name -> the URL it is published at.
Images = Mapping[str, str]


def markdown_html(
    text, citations: Citations | None = None, inline=False, images: Images | None = None
) -> str:
    """Render Markdown ``text`` to sanitized HTML (``inline``: no paragraph)."""
    plain = _plain_inline(text) if inline else None
    if plain is not None:
        return plain
    return clean_html(_raw(text, citations, inline, images))


#: Control characters have no place in course text; browsers would show junk.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _raw(text, citations: Citations | None, inline: bool, images=None) -> str:
    env = {"citations": citations, "images": images}
    source = _CONTROL.sub("", str(text or ""))
    return _md.renderInline(source, env) if inline else _md.render(source, env)


#: Characters that can start inline Markdown or HTML; text without them is plain.
_MARKUP = re.compile(r"[*_`\[\]<>&\\~!\n]|  $")


def _plain_inline(text) -> str | None:
    """HTML for inline text with no markup at all (what the full path would give)."""
    source = str(text or "")
    if _MARKUP.search(source) or source != source.strip() or not source.isprintable():
        return None
    return source.replace('"', "&quot;")


def lint_tokens(text: str):
    """Block tokens of ``text`` parsed permissively (raw HTML and any link kept)."""
    return _lint_md.parse(str(text or ""), {})


def image_names(text) -> set[str]:
    """The file names of the ``assets/<name>`` images in Markdown ``text``."""
    text = str(text or "")
    if "![" not in text:  # every CommonMark image starts so
        return set()
    names = set()
    for token in _md.parse(text, {}):
        for child in token.children or ():
            if child.type == "image":
                names.add(asset_name(str(child.attrGet("src") or "")))
    names.discard(None)
    return names


def cited_keys(text) -> list[str]:
    """Every citation key used in ``text``, in order."""
    groups = CITATION.findall(str(text or ""))
    return [key for group in groups for key in CITED_KEY.findall("@" + group)]


class _Batch:
    """Markdown fields of one question, sanitized together in one pass."""

    def __init__(self, citations: Citations, images: Images | None):
        self.citations = citations
        self.images = images
        self.targets: list[tuple[dict, str | int]] = []
        self.raw: list[str] = []

    def add(self, target, key, text, inline: bool) -> None:
        plain = _plain_inline(text) if inline else None
        if plain is not None:
            target[key] = plain
        else:
            self.targets.append((target, key))
            self.raw.append(_raw(text, self.citations, inline, self.images))

    def finish(self) -> None:
        for (target, key), cleaned in zip(
            self.targets, clean_many(self.raw), strict=True
        ):
            target[key] = cleaned


def render_question(
    q: dict, refs: Mapping[str, Reference], images: Images | None = None
) -> dict:
    """Add ``X_html`` beside every Markdown field ``X`` of a normalized question."""
    batch = _Batch(Citations(refs, scope=str(q.get("id", "q"))), images)
    out = dict(q)
    for key in ("stimulus", "stem"):
        if isinstance(q.get(key), str):
            batch.add(out, f"{key}_html", q[key], inline=False)
    for list_key, keys in ENTRY_MARKDOWN.items():
        if isinstance(q.get(list_key), list):
            out[list_key] = [_entry(e, keys, batch) for e in q[list_key]]
    if isinstance(q.get("distractors"), list):
        out["distractors_html"] = list(q["distractors"])
        for index, text in enumerate(q["distractors"]):
            batch.add(out["distractors_html"], index, text, inline=True)
    if isinstance(q.get("feedback"), dict):
        out["feedback_html"] = {}
        for key, text in q["feedback"].items():
            batch.add(out["feedback_html"], key, text, inline=True)
    if isinstance(q.get("questions"), list):
        out["questions"] = [
            render_question(child, refs, images) for child in q["questions"]
        ]
    _add_rationale(q, out, batch)
    batch.finish()
    return out


def _add_rationale(q: dict, out: dict, batch: _Batch) -> None:
    # The reference list closes the rationale (a case set without one: the stimulus).
    tail = "rationale" if isinstance(q.get("rationale"), str) else "stimulus"
    body = (
        _raw(q.get(tail), batch.citations, False, batch.images)
        if tail == "rationale"
        else ""
    )
    listed = q.get("references") if isinstance(q.get("references"), list) else ()
    references = batch.citations.list_raw(listed=listed, heading=3)
    if tail == "rationale":
        batch.targets.append((out, "rationale_html"))
        batch.raw.append(body + references)
    elif references and isinstance(q.get("stimulus"), str):
        index = batch.targets.index((out, "stimulus_html"))
        batch.raw[index] += references


def _entry(entry, keys, batch: _Batch):
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    for key in keys:
        if isinstance(entry.get(key), str):
            batch.add(out, f"{key}_html", entry[key], inline=True)
    return out


def render_page(
    page_id: str,
    body: str,
    listed,
    refs: Mapping[str, Reference],
    images: Images | None = None,
) -> str:
    """A page body as sanitized HTML with its numbered reference list appended."""
    citations = Citations(refs, scope=page_id)
    html_body = markdown_html(body, citations, images=images)
    return html_body + citations.list_html(listed=listed or ())
