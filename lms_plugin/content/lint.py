"""Lint rules on authored text: item-writing flaws, PHI smells, unsafe Markdown.

Pure functions over parsed nodes, each returning problems through a ``Checker``.
Item-writing rules follow the NBME item-writing guide; they are warnings, as a
reviewer may have reasons, except where the Markdown would be unsafe or broken.
"""

from __future__ import annotations

import re

from lms_plugin.content import images
from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Assets
from lms_plugin.content.data import Node
from lms_plugin.content.render import CALLOUTS
from lms_plugin.content.render import CITATION
from lms_plugin.content.render import lint_tokens
from lms_plugin.questions.short_text import normalize_answer

OF_THE_ABOVE = re.compile(r"\b(all|none|both|neither) of the (above|following)\b", re.I)
ABSOLUTE = re.compile(r"\b(always|never|all|none)\b", re.I)
NEGATIVE = re.compile(r"\b(not|except|least)\b", re.I)
MRN = re.compile(
    r"(?<![\w.-])(?:MRN|medical record (?:number|no\.?))?[:# ]*\d{7,}\b", re.I
)
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
FULL_DATE = re.compile(
    r"\b(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|[12]\d|3[01])[/-](?:19|20)\d\d\b"
    r"|\b(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"
    rf"|\b{MONTH} (?:0?[1-9]|[12]\d|3[01]),? (?:19|20)\d\d\b",
)
#: Names of one jurisdiction's laws, programs and agencies: one mention is enough.
JURISDICTION_NAMES = re.compile(
    r"\b(HIPAA|privacy rule|Medicare|Medicaid|CMS|EMTALA|Cures Act|Section 1557"
    r"|CFR|PHIPA|PIPEDA)\b",
    re.I,
)
#: Legal and payer terms whose rules vary by place: a page that teaches them (two
#: mentions or more) needs a jurisdiction; a passing "laws differ" does not.
LEGAL = re.compile(
    r"\b(prior authori[sz]ations?|informed consent|advance directives?|surrogate"
    r"|power of attorney|malpractice|liability|statutes?|deductibles?"
    r"|co-?pay(?:ment)?s?|coinsurance|state law|federal law)\b",
    re.I,
)
#: A full date is a birth-date smell in a vignette, or anywhere next to these words.
BIRTH_WORDS = re.compile(r"\b(born|DOB|date of birth|birth ?date)\b[^.\n]{0,40}$", re.I)
NEEDS_PARSE = re.compile(r"[<\[]")
CALLOUT_LINE = re.compile(r"^\s*:::+\s*(\S*)")
DANGEROUS_HTML = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed)\b|\son\w+\s*=", re.I
)
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def check_markdown(
    c: Checker, text, first_line: int, label: str, assets: Assets | None = None
) -> None:
    """Report raw HTML, unsafe links, bad images and unknown callouts in Markdown.

    With the course's ``assets``, each image must also be a usable file there.
    """
    if not isinstance(text, str):
        return
    if ":::" in text:
        _check_callouts(c, text, first_line, label)
    if not NEEDS_PARSE.search(CITATION.sub("", text)):
        return  # no link, image or HTML can hide in text without '[' or '<'
    for token in lint_tokens(text):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "html_block":
            _raw_html(c, line, token.content, label)
        for child in token.children or ():
            _check_inline(c, child, line, label, assets)


def _check_callouts(c: Checker, text: str, first_line: int, label: str) -> None:
    for offset, line in enumerate(text.splitlines()):
        match = CALLOUT_LINE.match(line)
        if match and match.group(1) and match.group(1) not in CALLOUTS:
            names = ", ".join(CALLOUTS)
            c.error(
                first_line + offset,
                f"{label}: unknown callout '::: {match.group(1)}'; use one of {names}",
            )


def _raw_html(c: Checker, line: int, content: str, label: str) -> None:
    snippet = content.strip().splitlines()[0][:60] if content.strip() else ""
    if DANGEROUS_HTML.search(content):
        c.error(line, f"{label}: raw HTML is not allowed ({snippet!r}); use Markdown")
    else:
        c.warn(line, f"{label}: raw HTML is shown as text, not rendered ({snippet!r})")


def _check_inline(c: Checker, token, line: int, label: str, assets) -> None:
    if token.type == "html_inline":
        _raw_html(c, line, token.content, label)
    elif token.type == "link_open":
        _check_link(c, str(token.attrGet("href") or ""), line, label)
    elif token.type == "image":
        _check_image(c, token, line, label, assets)


def _check_link(c: Checker, href: str, line: int, label: str) -> None:
    match = SCHEME.match(href.strip())
    scheme = match.group(1).lower() if match else ""
    if scheme not in ("http", "https", "mailto"):
        shown = href if len(href) < 60 else href[:57] + "..."
        c.error(
            line, f"{label}: link '{shown}' is not allowed; use http, https or mailto"
        )


def _check_image(c: Checker, token, line: int, label: str, assets) -> None:
    src = str(token.attrGet("src") or "")
    shown = src if len(src) < 60 else src[:57] + "..."
    if not token.content.strip():
        c.error(line, f"{label}: image '{src}' needs alt text: ![what it shows]({src})")
    name = images.asset_name(src)
    if SCHEME.match(src) or src.startswith(("/", "\\")) or ".." in src:
        c.error(
            line,
            f"{label}: image '{shown}' must be a local assets/ path: a file in the "
            "course's assets/ folder, written assets/<name> (images from other "
            "sites are not allowed)",
        )
    elif name is None:
        c.error(
            line,
            f"{label}: image '{shown}' must be written assets/<name>, a file directly "
            "in the course's assets/ folder; other paths cannot be shown to learners",
        )
    elif assets is not None:
        problem = asset_problem(assets, name)
        if problem:
            c.error(line, f"{label}: image '{src}' {problem}")


def asset_problem(assets: Assets, name: str) -> str | None:
    """Why ``assets/<name>`` cannot be published, or None when it can."""
    where = f"{assets.folder}/{name}"
    found = assets.files.get(name)
    if found is None:
        return f"is missing: there is no file {where}" + _same_but_case(assets, name)
    wanted = images.kind_of_name(name)
    if found.kind == "svg" or name.lower().endswith((".svg", ".svgz")):
        return (
            "is an SVG; SVG is not allowed because it can carry script. "
            "Export it as PNG (or JPEG for photographs)"
        )
    if wanted is None:
        return f"has an unsupported type ({where}): use {_allowed()}"
    if found.kind != wanted:
        label = images.IMAGE_TYPES[wanted].label
        actual = (
            f"a {images.IMAGE_TYPES[found.kind].label} image"
            if found.kind in images.IMAGE_TYPES
            else "not a PNG, JPEG, GIF or WebP image"
        )
        return (
            f"is not a {label} file: {where} is {actual}. Save or export it as "
            f"{label}, or give it the extension of what it is"
        )
    if found.digest is None:
        return (
            f"is too big: {where} is {found.size:,} bytes; the limit is "
            f"{assets.max_bytes:,} (CONTENT_MAX_ASSET_BYTES). Make it smaller"
        )
    return None


def _same_but_case(assets: Assets, name: str) -> str:
    others = [other for other in assets.files if other.lower() == name.lower()]
    if not others:
        return ""
    return f" (there is assets/{others[0]}: names are case-sensitive)"


def _allowed() -> str:
    extensions = [e for t in images.IMAGE_TYPES.values() for e in t.extensions]
    return "PNG, JPEG, GIF or WebP (" + ", ".join(f".{e}" for e in extensions) + ")"


def check_phi(c: Checker, text, line: int, label: str, vignette: bool = True) -> None:
    """Warn about text that looks like real patient identifiers.

    Outside vignettes (lessons quoting a rule's effective date) a full date only
    counts when birth words stand just before it.
    """
    if not isinstance(text, str):
        return
    smells = ((MRN, "a record number"), (FULL_DATE, "a full date, like a birth date"))
    for pattern, what in smells:
        match = next(
            (
                found
                for found in pattern.finditer(text)
                if vignette
                or pattern is MRN
                or BIRTH_WORDS.search(text[max(0, found.start() - 60) : found.start()])
            ),
            None,
        )
        if match:
            where = line + text.count("\n", 0, match.start())
            c.warn(
                where,
                f"{label}: '{match.group(0).strip()}' looks like {what}; "
                "keep cases fictional and free of identifiers",
            )


def needs_jurisdiction(text: str) -> bool:
    """True when text names a jurisdiction's law or teaches law- or payer-rules."""
    text = text or ""
    return bool(JURISDICTION_NAMES.search(text)) or len(LEGAL.findall(text)) >= 2


def lint_options(c: Checker, q: Node, label: str) -> None:
    """NBME flaws visible in the options and the lead-in of one question."""
    _check_negative_stem(c, q, label)
    options = [o for o in q.get("options") or () if isinstance(o, Node)]
    seen = {}
    for option in options:
        text = str(option.get("text", ""))
        line = option.line_of("text")
        if OF_THE_ABOVE.search(text):
            c.warn(line, f"{label}: avoid '{OF_THE_ABOVE.search(text).group(0)}'")
        elif match := ABSOLUTE.search(text):
            c.warn(line, f"{label}: absolute word '{match.group(0)}' in an option cues")
        key = normalize_answer(text)
        if key in seen:
            c.warn(line, f"{label}: option repeats option '{seen[key]}'")
        seen.setdefault(key, option.get("id"))


def _check_negative_stem(c: Checker, q: Node, label: str) -> None:
    stem = q.get("stem")
    if not isinstance(stem, str) or not stem.strip():
        return
    lead_in = stem.strip().split("\n\n")[-1]
    for match in NEGATIVE.finditer(lead_in):
        word = match.group(0)
        if word != word.upper() and lead_in.rstrip().endswith("?"):
            c.warn(
                q.line_of("stem"),
                f"{label}: write the negative lead-in word in capitals "
                f"({word.upper()}) or rephrase positively",
            )
            return


def longest_is_correct(q: Node) -> bool | None:
    """For a single item: is the correct option strictly the longest one?"""
    options = [o for o in q.get("options") or () if isinstance(o, Node)]
    correct = [o for o in options if o.get("correct") is True]
    if q.get("type") != "single" or len(correct) != 1 or len(options) < 2:
        return None
    length = len(str(correct[0].get("text", "")))
    others = [len(str(o.get("text", ""))) for o in options if o is not correct[0]]
    return length > max(others)
