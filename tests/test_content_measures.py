"""The bank measures ``content validate --strict`` adds: key-length rank, ages in
stems, pool depth, untraceable references and absolute words in distractors."""

import json

import pytest

from lms_plugin.content import measures
from lms_plugin.content.checker import Checker
from lms_plugin.content.reading import load_yaml
from lms_plugin.content.validate import validate_path
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import line_of
from tests.content_helpers import module_dir


@pytest.fixture
def course(tmp_path):
    return copy_sample(tmp_path)


def warnings(course, fragment, strict=True):
    return [
        p
        for p in validate_path(course, strict=strict)
        if fragment in p.message and p.severity == "warning"
    ]


def single(qid: str, lengths, key: int, objective="m01-o1", stem="Which one?"):
    """A single-best-answer item whose options have ``lengths``; ``key`` is right."""
    lines = [
        f"  - id: {qid}",
        "    type: single",
        f"    objective: {objective}",
        f"    stem: {stem}",
        "    rationale: Because.",
        "    options:",
    ]
    for n, length in enumerate(lengths):
        text = (chr(ord("a") + n) * length)[:length]
        correct = "true" if n == key else "false"
        lines.append(
            f'      - {{id: {chr(97 + n)}, text: "{text}", correct: {correct}, '
            'feedback: "Why."}'
        )
    return "\n".join(lines) + "\n"


def add_items(course, *items: str) -> None:
    bank = module_dir(course) / "bank.yaml"
    bank.write_text(bank.read_text() + "\n" + "".join(items))


# key-length rank


def test_key_length_rank_counts_longer_options():
    item, _ = load_yaml(single("q", [10, 30, 20, 5], key=2), "bank.yaml")
    (item,) = item
    assert measures.key_length_rank(item) == (2, 4)
    tied, _ = load_yaml(single("q", [20, 20, 20, 5], key=1), "bank.yaml")
    assert measures.key_length_rank(tied[0]) == (1, 4), "ties share the higher rank"


def test_a_bank_keyed_on_the_second_longest_is_flagged(course):
    add_items(
        course,
        *(single(f"m01-q1{n}", [40, 30, 20, 10], key=1) for n in range(6)),
    )
    (problem,) = warnings(course, "single-best-answer items")
    assert problem.path.endswith("bank.yaml") and problem.line == 1
    assert problem.message.startswith(
        "the key is the 2nd-longest option in 6 of 7 single-best-answer items "
        "(86%, chance 25%); key-length ranks: longest 1, 2nd 6, 3rd 0, 4th 0 "
        "(chance 1.8, 1.8, 1.8, 1.8)"
    )
    assert warnings(course, "single-best-answer", strict=False) == []


def test_a_bank_with_varied_key_lengths_passes(course):
    add_items(
        course,
        *(single(f"m01-q1{n}", [40, 30, 20, 10], key=1 + n % 3) for n in range(6)),
    )
    assert warnings(course, "single-best-answer items") == []


def test_the_key_length_rank_uses_each_items_option_count(course):
    # Five five-option items keyed 5th-longest: chance is 1/5 each, not 1/4.
    add_items(
        course,
        *(single(f"m01-q1{n}", [50, 40, 30, 20, 10], key=4) for n in range(5)),
    )
    (problem,) = warnings(course, "single-best-answer items")
    assert "5th-longest option in 5 of 6" in problem.message
    assert "(chance 1.2, 1.2, 1.2, 1.2, 1.0)" in problem.message


# ages in stems


@pytest.mark.parametrize(
    ("stem", "flagged"),
    [
        ("A 58-year-old man has chest pain.", "58-year-old"),
        ("Mr. Ruiz, aged 34, asks for a refill.", "aged 34"),
        ("A 34 y/o woman asks about her notes.", "34 y/o"),
        ("The patient (24 years old) asks.", "24 years old"),
        ("A woman in her 60s asks.", "in her 60s"),
        ("Screening applies to adults aged 40 to 65.", None),
        ("A third-year student asks about the plan.", None),
        ("Her wife of 50 years asks.", None),
    ],
)
def test_ages_in_stems(stem, flagged):
    q, _ = load_yaml(f"id: q1\ntype: single\nstem: {stem}\n", "bank.yaml")
    c = Checker("bank.yaml")
    measures.check_ages(c, q, "question 'q1'")
    found = [p.message for p in c.problems]
    assert found == (
        [
            f"question 'q1': the stem states an age ('{flagged}'); keep an age only "
            "where it changes the answer, or add 'age_relevant: true'"
        ]
        if flagged
        else []
    )


def test_an_age_is_reported_at_its_line_and_can_be_marked_relevant(course):
    bank = module_dir(course) / "bank.yaml"
    edit(bank, "a new graduate nurse", "a 45-year-old new graduate nurse")
    edit(
        bank,
        "      have five minutes before",
        "      have five minutes before a 61-year-old's",
    )
    found = warnings(course, "states an age")
    assert [(p.line, p.message.split(":")[0]) for p in found] == [
        (line_of(bank, "45-year-old"), "question 'm01-q001'"),
        (line_of(bank, "61-year-old"), "question 'm01-q004'"),
    ]
    assert warnings(course, "states an age", strict=False) == []
    edit(bank, "  - id: m01-q001\n", "  - id: m01-q001\n    age_relevant: true\n")
    edit(bank, "  - id: m01-q004\n", "  - id: m01-q004\n    age_relevant: true\n")
    assert warnings(course, "states an age") == []


def test_age_relevant_must_be_true_or_false(course):
    bank = module_dir(course) / "bank.yaml"
    edit(bank, "  - id: m01-q001\n", "  - id: m01-q001\n    age_relevant: maybe\n")
    (problem,) = [p for p in validate_path(course) if "age_relevant" in p.message]
    assert problem.severity == "error" and problem.line == line_of(bank, "maybe")


# pool depth


def test_a_pool_under_twice_the_draw_is_flagged(runner, course):
    quiz = module_dir(course) / "quiz.yaml"
    found = warnings(course, "so a second attempt")
    assert [(p.line, p.message) for p in found] == [
        (
            line_of(quiz, "m01-o1, count"),
            "the bank has 2 items on 'm01-o1' for a draw of 2 (1.0x); give it at "
            "least 4 (2x) so a second attempt sees mostly new items",
        ),
        (
            line_of(quiz, "m01-o2, count"),
            "the bank has 3 items on 'm01-o2' for a draw of 2 (1.5x); give it at "
            "least 4 (2x) so a second attempt sees mostly new items",
        ),
    ]
    assert warnings(course, "second attempt", strict=False) == []
    result = runner.invoke(
        args=["content", "validate", str(course), "--strict", "--json"]
    )
    rows = json.loads(result.output)["problems"]
    assert sum("second attempt" in r["message"] for r in rows) == 2
    assert result.exit_code == 1


def test_a_pool_of_twice_the_draw_passes(course):
    edit(module_dir(course) / "quiz.yaml", "m01-o1, count: 2", "m01-o1, count: 1")
    add_items(course, single("m01-q100", [10, 20, 30, 40], 0, objective="m01-o2"))
    assert warnings(course, "second attempt") == []


# references


def reference_warnings(course, text: str):
    (course / "references.yaml").write_text(text)
    return [
        p.message
        for p in validate_path(course, strict=True)
        if p.path.endswith("sample-course/references.yaml")
    ]


def test_a_reference_without_doi_or_url_is_flagged(course):
    ref = '- key: ende-1983\n  citation: "Ende J. Feedback. JAMA. 1983;250:777."\n'
    assert reference_warnings(course, ref) == [
        "reference 'ende-1983' has no DOI or URL: add url: (https://doi.org/<DOI> "
        "for an article, otherwise the publisher's page)"
    ]
    with_doi = ref.replace("777.", "777. doi:10.1001/jama.1983.03340060055026")
    assert reference_warnings(course, with_doi) == []


def test_a_reference_without_a_year_or_access_date_is_flagged(course):
    ref = (
        '- key: ende-1983\n  citation: "ACGME. Common Program Requirements. '
        '{when}."\n  url: https://www.acgme.org/\n'
    )
    assert reference_warnings(course, ref.format(when="Chicago: ACGME")) == [
        "reference 'ende-1983' has no year: give the year of publication, or for a "
        "web page or a current edition 'accessed: YYYY-MM-DD'"
    ]
    current = ref.format(when="2023; current edition")
    assert reference_warnings(course, current) == [
        "reference 'ende-1983' says 'current edition': give the year of "
        "publication, or for a web page or a current edition 'accessed: YYYY-MM-DD'"
    ]
    accessed = current + "  accessed: 2026-12-08\n"
    assert reference_warnings(course, accessed) == []
    assert reference_warnings(course, ref.format(when="Chicago: ACGME; 2023")) == []


def test_an_access_date_must_be_a_date(course):
    ref = (
        '- key: ende-1983\n  citation: "Ende J. 1983."\n'
        "  url: https://example.org/\n  accessed: last week\n"
    )
    (course / "references.yaml").write_text(ref)
    (problem,) = [p for p in validate_path(course) if "accessed" in p.message]
    assert problem.severity == "error" and problem.line == 4


# absolute words in distractors


def extreme(qid: str, key_text: str, wrong: str) -> str:
    return (
        f"  - id: {qid}\n    type: single\n    objective: m01-o1\n"
        "    stem: Which one?\n    rationale: Because.\n    options:\n"
        f'      - {{id: a, text: "{key_text}", correct: true, feedback: "F."}}\n'
        f'      - {{id: b, text: "{wrong}", correct: false, feedback: "F."}}\n'
        '      - {id: c, text: "Ask the nurse", correct: false, feedback: "F."}\n'
        '      - {id: d, text: "Page the team", correct: false, feedback: "F."}\n'
    )


def test_absolute_words_in_distractors_but_not_keys_are_flagged(course):
    add_items(
        course,
        extreme("m01-q101", "Check the chart", "Always let the attending decide"),
        extreme("m01-q102", "Ask the family", "You must refuse every request"),
        extreme("m01-q103", "Call pharmacy", "It is completely safe"),
    )
    (problem,) = warnings(course, "absolute words (")
    assert problem.line == 1 and problem.path.endswith("bank.yaml")
    assert "are in 4 of 14 distractors (29%) against 0 of 6 keys (0%)" in (
        problem.message
    )
    assert warnings(course, "absolute words (", strict=False) == []


def test_absolute_words_as_often_in_keys_pass(course):
    add_items(
        course,
        extreme(
            "m01-q101", "Always check the chart", "Always let the attending decide"
        ),
        extreme("m01-q102", "Ask everyone", "You must refuse every request"),
        extreme("m01-q103", "Call pharmacy", "It is completely safe"),
    )
    assert warnings(course, "absolute words (") == []
