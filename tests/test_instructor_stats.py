"""Per-question statistics on a small dataset worked out by hand, the HTML that
shows them, and a constant number of queries however many attempts there are."""

import math

import pytest
from playhouse.test_utils import count_queries

from lms_plugin.db import database
from lms_plugin.reports.item_stats import Response
from lms_plugin.reports.item_stats import analyse
from lms_plugin.reports.item_stats import correlation
from lms_plugin.reports.item_stats import module_statistics
from tests.factories import make_quiz_module
from tests.instructor_helpers import context_of
from tests.instructor_helpers import launch_as
from tests.instructor_helpers import text
from tests.instructor_helpers import user_of
from tests.instructor_helpers import versions_of
from tests.instructor_helpers import write_attempt
from tests.learner_helpers import SLUG
from tests.lti_platform import INSTRUCTOR
from tests.lti_platform import LEARNER

#: Item scores (q1..q4) and chosen options of five learners' attempts. The key
#: of every question is "b"; None is no answer.
DATASET = {
    "s-1": [(1, "b"), (1, "b"), (1, "b"), (1, "b")],
    "s-2": [(1, "b"), (1, "b"), (0, "c"), (1, "b")],
    "s-3": [(1, "b"), (0, "c"), (0, "a"), (1, "b")],
    "s-4": [(0, "a"), (1, "b"), (0, "c"), (1, "b")],
    "s-5": [(1, "b"), (0, None), (1, "b"), (1, "b")],
}
# By hand. Rest-of-test score = the other three items' points / 3; q4 is always
# right, so rest = (r + 1) / 3 with r the points on the two other varying items,
# a linear map that leaves a correlation unchanged. With r / 2 as the rest:
# q1: x = 1 1 1 0 1 (mean .8), rest = 1 .5 0 .5 .5 (mean .5):
#     Sxy = .2·.5 + .2·0 + .2·(−.5) + (−.8)·0 + .2·0 = 0            → r = 0
# q2: x = 1 1 0 1 0 (mean .6), rest = 1 .5 .5 0 1 (mean .6):
#     Sxy = .16 − .04 + .06 − .24 − .24 = −.30, Sxx = 1.2, Syy = .70
#                                           → r = −.30 / √.84 = −0.32733
# q3: x = 1 0 0 0 1 (mean .4), rest = 1 1 .5 .5 .5 (mean .7):
#     Sxy = .18 − .12 + .08 + .08 − .12 = .10, Sxx = 1.2, Syy = .30
#                                           → r = .10 / √.36 = 1/6
# q4: x never varies                        → no discrimination; p = 1 > .95
EXPECTED = [  # (p, discrimination, flagged)
    (0.8, 0.0, False),
    (0.6, -0.30 / math.sqrt(0.84), True),
    (0.4, 1 / 6, False),
    (1.0, None, True),
]


@pytest.fixture
def module(app):
    with database.connection_context():
        return make_quiz_module(pages=1, questions=4, slug=SLUG, title="Feedback")


@pytest.fixture
def teacher(app, platform, module):
    """Five learners' attempts in course-1, plus attempts that must not count."""
    for sub in DATASET:
        launch_as(app, platform, sub, LEARNER)
    client = launch_as(app, platform, "teacher", INSTRUCTOR)
    launch_as(app, platform, "other-1", LEARNER, course="course-2", link="l-2")
    versions = [v.id for v in versions_of(module)]
    course, other = context_of("course-1"), context_of("course-2")
    for sub, items in DATASET.items():
        write_attempt(user_of(sub), course, module, rows(versions, items))
    wrong = [(0, "a")] * 4
    # Another course, the instructor trying the quiz, an attempt not submitted.
    write_attempt(user_of("other-1"), other, module, rows(versions, wrong))
    write_attempt(user_of("teacher"), course, module, rows(versions, wrong))
    write_attempt(
        user_of("s-1"), course, module, rows(versions, wrong), status="in_progress"
    )
    return client


def rows(versions, items):
    return [
        (version, f"{SLUG}-q{n}", score, chosen)
        for n, (version, (score, chosen)) in enumerate(
            zip(versions, items, strict=True), 1
        )
    ]


def test_statistics_match_the_hand_computed_values(app, teacher, module):
    with app.app_context(), database.connection_context():
        items, attempts = module_statistics(context_of("course-1"), module)
    assert attempts == 5
    assert [i.item_id for i in items] == [f"{SLUG}-q{n}" for n in range(1, 5)]
    for item, (p, discrimination, flagged) in zip(items, EXPECTED, strict=True):
        assert item.n == 5
        assert item.p == pytest.approx(p)
        if discrimination is None:
            assert item.discrimination is None
        else:
            assert item.discrimination == pytest.approx(discrimination, abs=1e-9)
        assert bool(item.flags) is flagged
    assert items[1].discrimination == pytest.approx(-0.32733, abs=1e-5)
    counts = [{c.id: c.count for c in item.choices} for item in items]
    assert counts[0] == {"a": 1, "b": 4, "c": 0, "d": 0}
    assert counts[1] == {"a": 0, "b": 3, "c": 1, "d": 0}
    assert items[1].unanswered == 1
    assert counts[2] == {"a": 1, "b": 2, "c": 2, "d": 0}
    assert [c.correct for c in items[0].choices] == [False, True, False, False]


def test_statistics_page_shows_figures_and_flags(teacher):
    html = text(teacher.get(f"/instructor/modules/{SLUG}/statistics"))
    assert "5 submitted attempts" in html
    assert "<td>0.80</td>" in html and "<td>0.00</td>" in html
    assert "<td>-0.33</td>" in html and "<td>0.17</td>" in html
    assert "Negative discrimination" in html and "p &gt; 0.95" in html
    assert "not enough data" in html  # q4's discrimination is a dash
    assert "<td>4 of 5</td>" in html  # q1's key chosen four times
    assert "point-biserial" in html
    assert "Question statistics for Feedback" in text(teacher.get("/instructor/"))


def test_statistics_use_a_constant_number_of_queries(teacher, module):
    url = f"/instructor/modules/{SLUG}/statistics"
    teacher.get(url)
    with count_queries() as before:
        assert teacher.get(url).status_code == 200
    versions = [v.id for v in versions_of(module)]
    course = context_of("course-1")
    for sub, items in DATASET.items():
        write_attempt(user_of(sub), course, module, rows(versions, items))
    with count_queries() as after:
        assert "10 submitted attempts" in text(teacher.get(url))
    assert after.count == before.count


def test_dashboard_uses_a_constant_number_of_queries(app, teacher, platform):
    teacher.get("/instructor/")
    with count_queries() as before:
        teacher.get("/instructor/")
    for n in range(3):
        launch_as(app, platform, f"late-{n}", LEARNER)
    with count_queries() as after:
        assert "Person late-2" in text(teacher.get("/instructor/"))
    assert after.count == before.count


def test_unknown_module_is_404(teacher):
    assert teacher.get("/instructor/modules/nope/statistics").status_code == 404


def r(item_id, earned, total, response=None, possible=1.0, total_possible=3.0):
    return Response(1, 7, item_id, earned, possible, total, total_possible, response)


def test_under_the_minimum_n_there_is_no_discrimination_and_no_flag():
    responses = [r("q", 1.0, 2.0 + n % 2) for n in range(4)]
    [item] = analyse(responses, {7: {"id": "q", "type": "single", "options": []}})
    assert (item.n, item.p, item.discrimination, item.flags) == (4, 1.0, None, [])


def test_partial_credit_and_multiple_choices_are_counted():
    data = {
        "id": "m",
        "type": "multiple",
        "options": [{"id": x, "text": x, "correct": x in "ab"} for x in "abc"],
    }
    responses = [
        r("m", 1.0, 3.0, ["a", "b"]),
        r("m", 0.5, 2.5, ["a"]),
        r("m", 0.0, 1.0, ["a", "c"]),
    ]
    [item] = analyse(responses, {7: data})
    assert item.p == pytest.approx(0.5)
    assert {c.id: c.count for c in item.choices} == {"a": 3, "b": 1, "c": 1}


def test_case_set_children_are_separate_items():
    data = {
        "id": "case",
        "type": "case_set",
        "questions": [
            {"id": "c1", "type": "true_false", "answer": True, "stem": "One?"},
            {"id": "c2", "type": "short_text", "stem": "Two?"},
        ],
    }
    responses = [r("c1", 1.0, 2.0, True), r("c2", 0.0, 2.0, "x"), r("c1", 0, 1, False)]
    first, second = analyse(responses, {7: data})
    assert (first.item_id, first.stem, first.n, second.n) == ("c1", "One?", 2, 1)
    assert {c.id: c.count for c in first.choices} == {"true": 1, "false": 1}
    assert second.choices == []


def test_correlation_is_pearson():
    assert correlation([1, 0, 1, 0], [1, 0, 1, 0]) == pytest.approx(1.0)
    assert correlation([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)
    assert correlation([1, 1, 1], [0, 1, 0]) is None
