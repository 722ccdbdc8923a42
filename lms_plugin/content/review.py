"""The review record beside each module.yaml (``review.yaml``): its shape and freshness.

Pure checks over the parsed record. The shape (known checks, ``by`` and
``checked_on`` on each, sources that are reference keys, dates that parse) is checked
whenever the file exists; ``--strict`` also asks that the record exists, covers all
five checks and names the digest of the module's content as it is now
(:func:`lms_plugin.content.parse.content_digest`).
"""

from __future__ import annotations

import datetime
import re

from lms_plugin.content.checker import Checker
from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList

#: The checks a complete review record holds, in the order FORMAT.md lists them.
CHECKS = (
    "clinical_accuracy",
    "legal_currency",
    "item_writing",
    "references_resolved",
    "inclusive_language",
)
RECORD_KEYS = ("content_digest", "reviewed_on", "reviewers", "checks")
CHECK_KEYS = ("checked_on", "by", "notes", "sources")
LEGAL_KEYS = (*CHECK_KEYS, "law_as_of")  # legal currency also says as of when
REVIEWER_KEYS = ("name", "role")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
DIGEST_HINT = "run `lms-plugin content digest` on the module folder"


def parse_date(value) -> datetime.date | None:
    """A YYYY-MM-DD date (YAML dates arrive as the text written), or None."""
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def check_date(c: Checker, node: Node, key: str, label: str) -> None:
    """Report ``key`` of ``node`` when present and not a date."""
    if key in node and parse_date(node[key]) is None:
        c.error(
            node.line_of(key),
            f"{label}: {key} {node[key]!r} is not a date; write YYYY-MM-DD",
        )


def check_review(
    c: Checker, record: Node, reference_keys, digest: str, strict: bool
) -> None:
    """Check a parsed review.yaml; ``strict``: also that it is whole and current."""
    _unknown_keys(c, record, RECORD_KEYS, "review record")
    check_date(c, record, "reviewed_on", "review record")
    digest_written = record.get("content_digest")
    if "content_digest" in record and (
        not isinstance(digest_written, str) or not HEX64.match(digest_written)
    ):
        c.error(
            record.line_of("content_digest"),
            "review record: content_digest must be 64 lower-case hex digits; "
            + DIGEST_HINT,
        )
        digest_written = None
    names = _check_reviewers(c, record)
    checks = record.get("checks")
    if "checks" in record and not isinstance(checks, Node):
        c.error(record.line_of("checks"), "review record: checks must be a mapping")
    if not isinstance(checks, Node):
        checks = Node(line=record.line_of("checks"))
    for name, entry in checks.items():
        _check_entry(c, checks, name, entry, reference_keys)
    if strict:
        _check_whole(c, record, checks, names)
        _check_current(c, record, digest_written, digest)


def missing_review(c: Checker, line: int) -> None:
    """The ``--strict`` warning for a module without review.yaml."""
    c.warn(
        line,
        "module has no review record: add review.yaml beside module.yaml with the "
        f"five checks ({', '.join(CHECKS)}); see courses/FORMAT.md",
    )


def _unknown_keys(c: Checker, node: Node, allowed, label: str) -> None:
    for key in node:
        if key not in allowed:
            c.error(
                node.line_of(key),
                f"{label}: unknown field '{key}'; use {', '.join(allowed)}",
            )


def _check_reviewers(c: Checker, record: Node) -> set[str]:
    """Check the reviewers list; return their names."""
    reviewers = record.get("reviewers", [])
    if not isinstance(reviewers, list):
        c.error(
            record.line_of("reviewers"),
            "review record: reviewers must be a list of {name, role}",
        )
        return set()
    names = set()
    for index, reviewer in enumerate(reviewers):
        if not isinstance(reviewer, Node):
            line = reviewers.line_of(index) if isinstance(reviewers, NodeList) else 1
            c.error(line, "review record: each reviewer is {name: ..., role: ...}")
            continue
        _unknown_keys(c, reviewer, REVIEWER_KEYS, "reviewer")
        name = c.text(reviewer, "name", "reviewer")
        if name:
            names.add(name.strip())
    return names


def _check_entry(c: Checker, checks: Node, name, entry, reference_keys) -> None:
    line = checks.line_of(name)
    if name not in CHECKS:
        c.error(
            line,
            f"review record: unknown check '{name}'; use one of {', '.join(CHECKS)}",
        )
        return
    label = f"review check '{name}'"
    if not isinstance(entry, Node):
        c.error(line, f"{label} must be a mapping with by, checked_on, notes, sources")
        return
    allowed = LEGAL_KEYS if name == "legal_currency" else CHECK_KEYS
    _unknown_keys(c, entry, allowed, label)
    c.text(entry, "by", label)
    if "checked_on" not in entry:
        c.error(entry.line_of("checked_on"), f"{label} needs 'checked_on' (YYYY-MM-DD)")
    check_date(c, entry, "checked_on", label)
    check_date(c, entry, "law_as_of", label)
    if "notes" in entry and not isinstance(entry["notes"], str):
        c.error(entry.line_of("notes"), f"{label}: notes must be text")
    _check_sources(c, entry, label, reference_keys)


def _check_sources(c: Checker, entry: Node, label: str, reference_keys) -> None:
    sources = entry.get("sources", [])
    if not isinstance(sources, list):
        c.error(entry.line_of("sources"), f"{label}: sources must be a list of keys")
        return
    for key in sources:
        if not isinstance(key, str) or key not in reference_keys:
            c.error(
                entry.line_of("sources"),
                f"{label}: source {key!r} is not a key in the module's or the "
                "course's references.yaml",
            )


def _check_whole(c: Checker, record: Node, checks: Node, names: set[str]) -> None:
    missing = [name for name in CHECKS if name not in checks]
    if missing:
        c.warn(
            record.line_of("checks"),
            f"review record lacks the check(s) {', '.join(missing)}",
        )
    if not record.get("reviewed_on"):
        c.warn(record.line, "review record needs 'reviewed_on' (YYYY-MM-DD)")
    if not record.get("reviewers"):
        c.warn(
            record.line_of("reviewers"),
            "review record needs 'reviewers': who actually checked (name, role)",
        )
    legal = checks.get("legal_currency")
    if isinstance(legal, Node) and "law_as_of" not in legal:
        c.warn(
            legal.line,
            "review check 'legal_currency' needs 'law_as_of': the date the law was "
            "checked as of",
        )
    for name, entry in checks.items():
        by = entry.get("by") if isinstance(entry, Node) else None
        if names and isinstance(by, str) and by.strip() not in names:
            c.warn(
                entry.line_of("by"),
                f"review check '{name}': by {by!r} is not one of the reviewers",
            )


def _check_current(c: Checker, record: Node, written: str | None, digest: str) -> None:
    line = record.line_of("content_digest")
    if "content_digest" not in record:
        c.warn(line, f"review record needs 'content_digest'; {DIGEST_HINT}")
    elif written is not None and digest and written != digest:
        c.warn(
            line,
            "review record is older than the module: content_digest does not match "
            f"its content now ({digest}); review what changed, then update the "
            "record",
        )
