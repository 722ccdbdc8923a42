"""Bank measures for ``content validate --strict``: cues and untraceable sources.

Cues a test-wise learner can use across a bank (the key's length rank among its
options, ages that decide nothing, absolute words in distractors), pools too
shallow for a second attempt, and references a reviewer cannot trace (no DOI or
URL, no year or access date). Pure functions, each returning its warnings
through a ``Checker``; the per-item writing rules live in ``lint.py``.
"""

from __future__ import annotations

import re

from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Node
from lms_plugin.questions import TYPES

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
        for item in (q, *TYPES.children(q)):
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
