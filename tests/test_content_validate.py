"""Validate stage: every problem, with file, line and a message an author follows."""

import pytest

from lms_plugin.content.data import Problem
from lms_plugin.content.validate import validate_path
from tests.content_helpers import SAMPLE
from tests.content_helpers import copy_sample
from tests.content_helpers import edit
from tests.content_helpers import line_of
from tests.content_helpers import module_dir

BANK = "bank.yaml"
PAGE1 = "01-what-good-feedback-looks-like.md"
PAGE2 = "02-a-model-you-can-use.md"

# (file in the module, old text, new text, severity, message part, text on the line)
CASES = {
    "two correct in a single": (
        BANK, '"Good job today.", correct: false', '"Good job today.", correct: true',
        "error", "must have exactly one correct option; it has 2", "options:",
    ),
    "all of the above": (
        BANK, "Patients usually like you.", "All of the above.",
        "warning", "avoid 'All of the above'", "All of the above.",
    ),
    "absolute word": (
        BANK, "You seem like", "You always seem like",
        "warning", "absolute word 'always'", "You always seem",
    ),
    "negative lead-in in lower case": (
        BANK, "Which comment is the most specific?", "Which comment is not specific?",
        "warning", "capitals (NOT)", "stem: |",
    ),
    "duplicated option": (
        BANK, "Patients usually like you.", "Good job today.",
        "warning", "repeats option 'a'", "id: d",
    ),
    "three options in a single": (
        BANK, '      - {id: d, text: "Patients usually like you.", correct: false, '
        'feedback: "Vague and not about this session."}\n', "",
        "warning", "has 3 options; use 4–5", "options:",
    ),
    "unknown question type": (
        BANK, "type: ordering", "type: ranking",
        "error", "unknown question type 'ranking'", "type: ranking",
    ),
    "malformed id": (
        BANK, "id: m01-q002", "id: M01_Q002",
        "error", "must be lower-case letters", "M01_Q002",
    ),
    "duplicate id across files": (
        PAGE2, "id: m01-p02", "id: m01-p01",
        "error", "page id 'm01-p01' is already used at", "id: m01-p01",
    ),
    "citation that does not resolve": (
        PAGE1, "[@ende-1983]", "[@ende-1984]",
        "error", "cites [@ende-1984], which is not in any references.yaml", "ende-1984",
    ),
    "missing page time": (
        PAGE2, "est_minutes: 6\n", "",
        "error", "needs 'est_minutes'", "id: m01-p02",
    ),
    "module time off by more than a quarter": (
        "module.yaml", "est_minutes: 20", "est_minutes: 40",
        "warning", "pages and quiz add up to 20", "est_minutes: 40",
    ),
    "objective with one question": (
        BANK, "objective: m01-o1\n    bloom: remember", "objective: m01-o2\n    bloom: remember",  # noqa: E501
        "error", "objective 'm01-o1' is assessed by 1 question(s)", "id: m01-o1",
    ),
    "draw larger than the pool": (
        "quiz.yaml", "{objective: m01-o2, count: 2}", "{objective: m01-o2, count: 5}",
        "error", "asks for 5 items on 'm01-o2' but the bank has 3", "count: 5",
    ),
    "legal page without jurisdiction": (
        PAGE1, "## Feedback is information", "Under HIPAA you may share it.\n\n## Feedback is information",  # noqa: E501
        "warning", "add 'jurisdiction:'", "id: m01-p01",
    ),
    "record number in a vignette": (
        BANK, "A charge nurse watches", "MRN 00123456. A charge nurse watches",
        "warning", "looks like a record number", "MRN 00123456",
    ),
    "date of birth in a page": (
        PAGE2, "## Ask, tell, ask", "Born 03/14/1962.\n\n## Ask, tell, ask",
        "warning", "looks like a full date", "03/14/1962",
    ),
    "raw script": (
        PAGE1, "## Feedback is information", "<script>alert(1)</script>\n\n## Feedback is information",  # noqa: E501
        "error", "raw HTML is not allowed", "<script>",
    ),
    "style tag": (
        PAGE1, "## Feedback is information", "<style>p {color: red}</style>\n\n## Feedback is information",  # noqa: E501
        "error", "raw HTML is not allowed", "<style>",
    ),
    "event handler": (
        PAGE1, "close\nthe gap", 'close <img src="x" onerror="alert(1)"> the gap',
        "error", "raw HTML is not allowed", "onerror",
    ),
    "javascript link": (
        PAGE1, "close\nthe gap", "close [the gap](javascript:alert(1))",
        "error", "link 'javascript:alert(1)' is not allowed", "javascript:",
    ),
    "javascript autolink": (
        PAGE1, "close\nthe gap", "close <javascript:alert(1)> gap",
        "error", "link 'javascript:alert(1)' is not allowed", "javascript:",
    ),
    "data URI image": (
        PAGE1, "close\nthe gap", "close ![dot](data:image/png;base64,AAAA) gap",
        "error", "must be a local assets/ path", "data:image",
    ),
    "image without alt text": (
        PAGE1, "close\nthe gap", "close ![](assets/x.png) gap",
        "error", "needs alt text", "assets/x.png",
    ),
    "unknown callout": (
        PAGE1, "::: pearl", "::: tip", "error", "unknown callout '::: tip'", "::: tip",
    ),
    "duplicate YAML key": (
        "module.yaml", "version: 1.0.0", "version: 1.0.0\ntitle: Again",
        "error", "key 'title' appears twice", "title: Again",
    ),
    "case set child with another objective": (
        BANK, "type: short_text", "type: short_text\n        objective: m01-o1",
        "error", "must share the set's objective 'm01-o2'", "        objective: m01-o1",
    ),
    "option text YAML reads as a boolean": (
        BANK, '"Good job today."', "No",
        "error", "'text' reads as true/false; put the text in quotes", "text: No",
    ),
    "true_false without a boolean answer": (
        BANK, "answer: true", 'answer: "maybe"',
        "error", "needs 'answer: true' or false", "maybe",
    ),
    "external link is fine, relative link is not": (
        PAGE1, "close\nthe gap", "close [gap](../secrets.md)",
        "error", "link '../secrets.md' is not allowed", "secrets",
    ),
}  # fmt: skip


#: Cases whose problem is reported in another file than the one edited.
REPORTED_IN = {"objective with one question": "module.yaml"}


def test_sample_course_has_no_problems():
    assert validate_path(SAMPLE) == []


@pytest.mark.parametrize("name", list(CASES))
def test_each_problem_is_reported_where_it_is(tmp_path, name):
    filename, old, new, severity, message, on_line = CASES[name]
    course = copy_sample(tmp_path)
    path = module_dir(course) / filename
    edit(path, old, new)
    problems = validate_path(course)
    matching = [p for p in problems if message in p.message]
    assert matching, "\n".join(map(str, problems))
    problem = matching[0]
    reported_in = REPORTED_IN.get(name, filename)
    assert problem.severity == severity
    assert problem.path.endswith(reported_in)
    assert problem.line == line_of(module_dir(course) / reported_in, on_line)


def test_one_mistake_gives_exactly_one_problem(tmp_path):
    course = copy_sample(tmp_path)
    bank = module_dir(course) / BANK
    edit(bank, "type: ordering", "type: ranking")
    (problem,) = validate_path(course)
    assert problem == Problem(
        problem.path,
        line_of(bank, "ranking"),
        "question 'm01-q003': unknown question type 'ranking'; use single, multiple, "
        "true_false, matching, ordering, short_text, case_set",
    )


def test_course_listing_a_missing_module(tmp_path):
    course = copy_sample(tmp_path)
    edit(
        course / "course.yaml",
        "  - m01-giving-feedback",
        "  - m01-giving-feedback\n  - m99-gone",
    )
    (problem,) = validate_path(course)
    assert (
        problem.message
        == "module 'm99-gone' is listed but modules/m99-gone/ is missing"
    )
    assert problem.line == line_of(course / "course.yaml", "m99-gone")


def test_bad_files_are_reported_and_checking_goes_on(tmp_path):
    course = copy_sample(tmp_path)
    folder = module_dir(course)
    (folder / "quiz.yaml").write_text("title: [unclosed\n")
    (folder / PAGE2).write_bytes(b"---\nid: m01-p02\n---\n\xff\n")
    edit(folder / BANK, "type: ordering", "type: ranking")
    messages = [(p.path.rsplit("/", 1)[-1], p.message) for p in validate_path(course)]
    assert any(f == "quiz.yaml" and m.startswith("YAML syntax") for f, m in messages)
    assert any(f == PAGE2 and "not valid UTF-8" in m for f, m in messages)
    assert any("unknown question type" in m for _, m in messages)


def test_oversized_file_is_refused(tmp_path):
    course = copy_sample(tmp_path)
    page = module_dir(course) / PAGE1
    page.write_text(page.read_text() + "x" * 5000)
    problems = validate_path(course, max_bytes=4000)
    assert any(
        p.path.endswith(PAGE1) and "the limit is 4,000" in p.message for p in problems
    )


def test_correct_option_always_longest_is_flagged(tmp_path):
    course = copy_sample(tmp_path)
    bank = module_dir(course) / BANK
    text = bank.read_text()
    start = text.index("  - id: m01-q001")
    end = text.index("  - id: m01-q002")
    single = text[start:end]
    copies = "".join(single.replace("m01-q001", f"m01-q01{n}") for n in range(4))
    bank.write_text(text[:end] + copies + text[end:])
    problems = validate_path(course)
    assert any(
        p.severity == "warning"
        and "the correct option is the longest in 5 of 5" in p.message
        for p in problems
    ), problems


def test_validate_module_works_on_plain_data_without_files():
    from lms_plugin.content.data import Module
    from lms_plugin.content.data import Question
    from lms_plugin.content.reading import load_yaml
    from lms_plugin.content.validate import validate_module
    from lms_plugin.content.validate_state import CourseIndex

    meta, _ = load_yaml(
        "id: m9\ntitle: T\nsummary: S\nest_minutes: 5\n"
        "objectives:\n  - {id: m9-o1, text: Do it., bloom: apply}\n",
        "module.yaml",
    )
    quiz, _ = load_yaml(
        "id: m9-quiz\ntitle: Q\nest_minutes: 5\ndraw: [{objective: m9-o1, count: 1}]\n",
        "quiz.yaml",
    )
    item, _ = load_yaml(
        "id: m9-q1\ntype: true_false\nobjective: m9-o1\nstem: S\nrationale: R\n"
        "answer: true\nfeedback: {true: a, false: b}\n",
        "bank.yaml",
    )
    module = Module(
        id="m9", folder="m9", meta=meta, quiz=quiz,
        questions=(Question("m9-q1", "true_false", item, "bank.yaml", 1),),
        paths={n: n for n in ("module.yaml", "quiz.yaml", "bank.yaml", "references.yaml")},  # noqa: E501
    )  # fmt: skip
    problems = validate_module(module, CourseIndex())
    assert [(p.path, p.line, p.severity) for p in problems] == [
        ("module.yaml", 6, "error")
    ]
    assert problems[0].message.startswith("objective 'm9-o1' is assessed by 1 question")


def test_a_multiple_response_item_needs_an_incorrect_option(tmp_path):
    course = copy_sample(tmp_path)
    bank = module_dir(course) / BANK
    edit(
        bank, '"A list of every small slip", correct: false', '"A list", correct: true'
    )
    edit(
        bank,
        '"A comparison with other residents", correct: false',
        '"B", correct: true',
    )
    (problem,) = validate_path(course)
    lines = bank.read_text().splitlines()
    start = lines.index("      - id: m01-q004b")
    options = next(n for n in range(start, len(lines)) if "options:" in lines[n])
    assert problem.severity == "warning" and problem.line == options + 1
    assert problem.message == (
        "question 'm01-q004b' in case set 'm01-q004' (multiple): every option is "
        "correct, so ticking every box earns full credit; add incorrect options"
    )


#: Authored values used as names (types, ids, objectives, reference keys): given a
#: list or a mapping instead, each is a problem to report, never a crash.
NAME_FIELDS = [
    ("bank.yaml", ("questions", 0, "type")),
    ("bank.yaml", ("questions", 0, "id")),
    ("bank.yaml", ("questions", 0, "objective")),
    ("bank.yaml", ("questions", 0, "references")),
    ("quiz.yaml", ("draw", 0, "objective")),
    ("01-what-good-feedback-looks-like.md", ("objectives",)),
]


@pytest.mark.parametrize("value", [["a", "b"], {"x": 1}], ids=["list", "mapping"])
@pytest.mark.parametrize(("filename", "where"), NAME_FIELDS)
def test_a_name_given_as_a_list_or_mapping_is_a_problem_not_a_crash(
    tmp_path, filename, where, value
):
    import yaml

    from lms_plugin.content.parse import split_front_matter

    course = copy_sample(tmp_path)
    path = module_dir(course) / filename
    text = path.read_text(encoding="utf-8")
    page = split_front_matter(text) if filename.endswith(".md") else None
    data = yaml.safe_load(page[0] if page else text)
    node = data
    for key in where[:-1]:
        node = node[key]
    if where[-1] == "references" or where == ("objectives",):
        node[where[-1]] = [value]  # one entry of the list
    else:
        node[where[-1]] = value
    dumped = yaml.safe_dump(data, allow_unicode=True)
    path.write_text(f"---\n{dumped}---\n{page[1]}" if page else dumped)
    problems = validate_path(course)
    assert any(p.severity == "error" and p.path.endswith(filename) for p in problems)
