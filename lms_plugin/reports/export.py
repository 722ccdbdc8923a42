"""The gradebook as CSV: one row per learner and module, safe to open in a
spreadsheet (cells that a spreadsheet would run as a formula are neutralised)."""

import csv
import io

from lms_plugin import numbers
from lms_plugin.reports.gradebook import Gradebook
from lms_plugin.reports.gradebook import display_name

HEADER = (
    "Name",
    "Email",
    "User ID",
    "Membership",
    "Module ID",
    "Module",
    "Status",
    "Best score (%)",
    "Attempts",
    "Last activity (UTC)",
    "Gradebook",
    "Gradebook reason",
)
#: A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """``value`` as text; a leading formula character is quoted with a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rows(book: Gradebook):
    """The table: the header, then every learner × module."""
    yield HEADER
    for member in book.learners:
        user = member.user
        for module in book.modules:
            cell = book.cell(member, module)
            score = cell.score
            yield (
                display_name(user),
                user.email,
                user.sub,
                member.status,
                module.slug,
                module.moduleversion.title,
                cell.state_label,
                "" if cell.kept_percent is None else numbers.shown(cell.kept_percent),
                cell.attempts,
                _when(cell.last_activity),
                cell.passback,
                (score.last_error or "") if score is not None else "",
            )


def to_csv(book: Gradebook) -> str:
    """The whole table as CSV text (RFC 4180 quoting, formula guard on every cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows(book):
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""
