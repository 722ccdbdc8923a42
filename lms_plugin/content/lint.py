"""Lint rules on authored text: item-writing flaws, PHI smells, unsafe Markdown.

Pure functions over parsed nodes, each returning problems through a ``Checker``.
Item-writing rules follow the NBME item-writing guide; they are warnings, as a
reviewer may have reasons, except where the Markdown would be unsafe or broken.
"""

from __future__ import annotations

import re

from lms_plugin.content import images
from lms_plugin.content.data import Assets
from lms_plugin.content.data import Node
from lms_plugin.content.questions import Checker
from lms_plugin.content.questions import children
from lms_plugin.content.questions import normalize_answer
from lms_plugin.content.render import CALLOUTS
from lms_plugin.content.render import CITATION
from lms_plugin.content.render import lint_tokens

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


# Bank measures (``--strict``): cues a test-wise learner can use across a bank, and
# sources a reviewer cannot trace. Each returns its warnings through a Checker.

#: A rank's share of keys above this multiple of chance flags the bank.
OVER_CHANCE = 1.5
#: ...and only when at least this many keys share that rank (tiny banks are noise).
MIN_FLAGGED = 3
#: A pool smaller than this multiple of the quiz's draw repeats on a second attempt.
POOL_DEPTH = 2
AGE = re.compile(
    r"\b\d{1,3}[- ](?:year|month|week|day)s?[- ]old\b"
    r"|\b\d{1,3} ?(?:y/o|y\.o\.|yo)(?![\w/])"
    r"|\baged? \d{1,3}\b(?!\s*(?:to|and|or|-|–)\s*\d)"
    r"|\bin (?:his|her|their) (?:early |mid-?|late )?(?:\d0s|twenties|thirties"
    r"|forties|fifties|sixties|seventies|eighties|nineties)\b",
    re.I,
)
#: Absolute words (NBME's "specific determiners"): a distractor made false by one is
#: a straw man. Words that also name a real option ("only", "must", "say nothing")
#: are left out: they cue too little to count.
EXTREME = re.compile(
    r"\b(always|never|all|none|every(?:one|thing|body)?|no one|nobody|completely"
    r"|entirely|totally|guarantee[sd]?|impossible|under no circumstances"
    r"|without exception)\b",
    re.I,
)
DOI = re.compile(r"\b(?:doi:\s*)?10\.\d{4,9}/\S+", re.I)
YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
UNDATED = re.compile(
    r"\b(current (?:edition|version)|n\.\s?d\.|undated|continuously updated"
    r"|updated (?:regularly|continuously))",
    re.I,
)


def bank_items(questions, types) -> list[Node]:
    """The bank's items of ``types``, case-set children included."""
    found = []
    for q in questions:
        for item in (q, *children(q)):
            if isinstance(item, Node) and item.get("type") in types:
                found.append(item)
    return found


def key_length_rank(q: Node) -> tuple[int, int] | None:
    """(rank of the key's length among the options, option count); 1 = longest.

    Options as long as the key share its rank. None unless exactly one key.
    """
    options = [o for o in q.get("options") or () if isinstance(o, Node)]
    keys = [o for o in options if o.get("correct") is True]
    if len(keys) != 1 or len(options) < 2:
        return None
    length = len(str(keys[0].get("text", "")).strip())
    longer = sum(len(str(o.get("text", "")).strip()) > length for o in options)
    return 1 + longer, len(options)


def _ordinal(rank: int) -> str:
    return "longest" if rank == 1 else f"{rank}{ {2: 'nd', 3: 'rd'}.get(rank, 'th') }"


def check_key_length_ranks(c: Checker, questions, line: int = 1) -> None:
    """Warn when one rank of the key's length is over 1.5x chance in a bank."""
    ranks = [r for r in map(key_length_rank, bank_items(questions, ("single",))) if r]
    if not ranks:
        return
    most = max(count for _, count in ranks)
    seen = [sum(rank == r for rank, _ in ranks) for r in range(1, most + 1)]
    chance = [sum(1 / n for _, n in ranks if n >= r) for r in range(1, most + 1)]
    flagged = [
        r
        for r in range(most)
        if seen[r] >= MIN_FLAGGED and seen[r] > OVER_CHANCE * chance[r]
    ]
    if not flagged:
        return
    total = len(ranks)
    shown = ", ".join(f"{_ordinal(r + 1)} {seen[r]}" for r in range(most))
    expected = ", ".join(f"{value:.1f}" for value in chance)
    worst = max(flagged, key=lambda r: seen[r] / chance[r])
    c.warn(
        line,
        f"the key is the {_ordinal(worst + 1)}{'' if worst == 0 else '-longest'} "
        f"option in {seen[worst]} of {total} single-best-answer items "
        f"({100 * seen[worst] / total:.0f}%, chance {100 * chance[worst] / total:.0f}%"
        f"); key-length ranks: {shown} (chance {expected}). Vary option lengths so "
        "no length rank cues the answer",
    )


def check_ages(c: Checker, q: Node, label: str, relevant: bool = False) -> None:
    """Warn when a stem or stimulus states an age the item did not mark relevant."""
    relevant = relevant or q.get("age_relevant") is True
    for key in ("stem", "stimulus"):
        text = q.get(key)
        match = AGE.search(text) if isinstance(text, str) and not relevant else None
        if match:
            first = q.line_of(key) + (1 if "\n" in text else 0)
            c.warn(
                first + text.count("\n", 0, match.start()),
                f"{label}: the {key} states an age ('{match.group(0)}'); keep an age "
                "only where it changes the answer, or add 'age_relevant: true'",
            )


def check_extreme_words(c: Checker, questions, line: int = 1) -> None:
    """Warn when absolute words mark distractors far more often than keys."""
    counts = {True: [0, 0], False: [0, 0]}  # correct? -> [with a word, options]
    for item in bank_items(questions, ("single", "multiple")):
        for option in item.get("options") or ():
            if isinstance(option, Node):
                tally = counts[option.get("correct") is True]
                tally[0] += bool(EXTREME.search(str(option.get("text", ""))))
                tally[1] += 1
    (keys, key_total), (wrong, wrong_total) = counts[True], counts[False]
    if not wrong_total or wrong < MIN_FLAGGED:
        return
    key_rate = keys / key_total if key_total else 0.0
    if wrong / wrong_total > OVER_CHANCE * key_rate:
        c.warn(
            line,
            f"absolute words (always, never, every, …) are in {wrong} of "
            f"{wrong_total} distractors ({100 * wrong / wrong_total:.0f}%) against "
            f"{keys} of {key_total} keys ({100 * key_rate:.0f}%): a learner can rule "
            "those options out unread; make distractors plausible near-misses",
        )


def check_pool_depth(c: Checker, line: int, objective: str, pool: int, count: int):
    """Warn when an objective's pool is under twice what the quiz draws of it."""
    if pool < POOL_DEPTH * count:
        c.warn(
            line,
            f"the bank has {pool} items on '{objective}' for a draw of {count} "
            f"({pool / count:.1f}x); give it at least {POOL_DEPTH * count} "
            f"({POOL_DEPTH}x) so a second attempt sees mostly new items",
        )


def check_reference_source(c: Checker, ref) -> None:
    """Warn about a reference a reader cannot trace (no DOI or URL) or date."""
    label = f"reference '{ref.key}'"
    citation = str(ref.citation or "")
    if not ref.url and not DOI.search(citation):
        c.warn(
            ref.line,
            f"{label} has no DOI or URL: add url: (https://doi.org/<DOI> for an "
            "article, otherwise the publisher's page)",
        )
    accessed = ref.data.get("accessed")
    undated = UNDATED.search(citation)
    if accessed is None and (undated or not YEAR.search(citation)):
        why = f"says '{undated.group(0)}'" if undated else "has no year"
        c.warn(
            ref.line,
            f"{label} {why}: give the year of publication, or for a web page or a "
            "current edition 'accessed: YYYY-MM-DD'",
        )
