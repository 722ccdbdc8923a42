"""The identifier and jurisdiction heuristics flag what they should, and not
the rule dates and passing mentions that lessons legitimately contain."""

import pytest

from lms_plugin.content import lint
from lms_plugin.content.checker import Checker


def phi_warnings(text, vignette):
    checker = Checker("page.md")
    lint.check_phi(checker, text, 1, "page", vignette=vignette)
    return [p.message for p in checker.problems]


@pytest.mark.parametrize(
    ("text", "vignette", "flagged"),
    [
        ("The rule applies from January 1, 2026, for most payers.", False, False),
        ("The patient was seen on March 3, 2024 in clinic.", True, True),
        ("Mr. K, born March 3, 1961, arrives by ambulance.", False, True),
        ("Record number 12345678 was found on the chart.", False, True),
        ("A 58-year-old arrives on a Tuesday.", True, False),
    ],
)
def test_phi_smell(text, vignette, flagged):
    assert bool(phi_warnings(text, vignette)) is flagged


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        ("Supervision rules are set by law and local policy.", False),
        ("Laws and regulations shape the work environment.", False),
        (
            "Under HIPAA, the minimum necessary standard does not apply to treatment; "
            "the Privacy Rule allows disclosures for treatment.",
            True,
        ),
        (
            "A prior authorization denial can be appealed; Medicare Advantage plans "
            "must decide within 72 hours for urgent requests.",
            True,
        ),
    ],
)
def test_jurisdiction_heuristic(text, needed):
    assert lint.needs_jurisdiction(text) is needed
