"""Parse stage: files to plain data with lines, and clear problems for bad files."""

from lms_plugin.content.data import Node
from lms_plugin.content.parse import find_courses
from lms_plugin.content.parse import iter_modules
from lms_plugin.content.parse import parse_course
from lms_plugin.content.parse import parse_page
from lms_plugin.content.parse import split_front_matter
from lms_plugin.content.reading import load_yaml
from lms_plugin.content.reading import read_text
from tests.content_helpers import MODULE
from tests.content_helpers import SAMPLE
from tests.content_helpers import copy_sample
from tests.content_helpers import module_dir


def test_yaml_keeps_the_line_of_every_key_and_item():
    value, problems = load_yaml("a: 1\nlist:\n  - {id: x}\n  - {id: y}\n", "f.yaml")
    assert problems == []
    assert isinstance(value, Node)
    assert value.line_of("a") == 1 and value.line_of("list") == 2
    assert value["list"].line_of(1) == 4
    assert value["list"][1].line == 4


def test_yaml_boolean_keys_and_dates_stay_words():
    value, _ = load_yaml(
        "feedback: {true: a, false: b}\nreviewed_on: 2026-01-15\n", "f"
    )
    assert list(value["feedback"]) == ["true", "false"]
    assert value["reviewed_on"] == "2026-01-15"


def test_duplicate_yaml_keys_are_reported_with_their_line():
    _, problems = load_yaml("id: a\ntitle: x\nid: b\n", "f.yaml")
    assert [(p.line, p.message) for p in problems] == [(3, "key 'id' appears twice")]


def test_malformed_yaml_points_at_the_line():
    value, problems = load_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert value is None
    assert problems[0].path == "f.yaml" and problems[0].line in (2, 3)
    assert problems[0].message.startswith("YAML syntax error")


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_bytes(b"---\nid: x\n---\nok\ncaf\xe9\n")
    text, problems = read_text(path, 1000)
    assert text is None
    assert problems[0].line == 5 and "not valid UTF-8" in problems[0].message


def test_oversized_and_missing_files_are_problems(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200)
    assert "limit is 100" in read_text(path, 100)[1][0].message
    assert read_text(tmp_path / "nope.yaml", 100)[1][0].message == "file is missing"


def test_front_matter_split_reports_body_line():
    front, body, body_line = split_front_matter("---\nid: a\n---\n\n## Hi\n")
    assert front == "id: a\n" and body == "\n## Hi\n" and body_line == 4
    assert split_front_matter("## no front matter\n") is None


def test_page_without_front_matter_is_a_problem(tmp_path):
    path = tmp_path / "01-x.md"
    path.write_text("## Just text\n")
    page, problems = parse_page(path, 10_000)
    assert page is None and "front matter" in problems[0].message


def test_page_front_matter_lines_are_file_lines():
    page, problems = parse_page(
        module_dir(SAMPLE) / "01-what-good-feedback-looks-like.md", 10_000
    )
    assert problems == []
    assert page.id == "m01-p01" and page.line == 2
    assert page.meta.line_of("est_minutes") == 5 and page.body_line == 9


def test_sample_course_parses_into_modules():
    course = parse_course(SAMPLE)
    assert course.id == "sample-course" and course.module_ids == (MODULE,)
    (module,) = list(iter_modules(course))
    assert [p.id for p in module.pages] == ["m01-p01", "m01-p02"]
    assert [q.type for q in module.questions] == [
        "single", "true_false", "ordering", "case_set",
    ]  # fmt: skip
    assert module.quiz["id"] == "m01-quiz" and module.problems == ()


def test_find_courses_accepts_a_course_or_a_folder_of_courses(tmp_path):
    course = copy_sample(tmp_path)
    assert find_courses(course) == [course]
    assert find_courses(course.parent) == [course]
    assert find_courses(tmp_path / "nothing") == []
