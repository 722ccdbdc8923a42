"""The quiz engine on plain data: parsing, scoring, drawing, presenting."""

import random

import pytest

from lms_plugin.questions import type_of
from lms_plugin.questions.base import AnswerError
from lms_plugin.questions.quiz import draw
from lms_plugin.questions.quiz import kept_percent
from lms_plugin.questions.quiz import may_show_answers
from lms_plugin.questions.quiz import parse_response
from lms_plugin.questions.quiz import present
from lms_plugin.questions.quiz import score as score_quiz
from lms_plugin.questions.quiz import scored_items
from lms_plugin.questions.short_text import normalize_text


def single(qid="q1", objective="o1", correct="b", points=1):
    return {
        "id": qid,
        "type": "single",
        "objective": objective,
        "points": points,
        "options": [{"id": oid, "correct": oid == correct} for oid in "abcd"],
    }


def multiple(qid="q2", scoring=None):
    question = {
        "id": qid,
        "type": "multiple",
        "objective": "o1",
        "options": [
            {"id": "a", "correct": True},
            {"id": "b", "correct": True},
            {"id": "c", "correct": False},
            {"id": "d", "correct": False},
        ],
    }
    if scoring:
        question["scoring"] = scoring
    return question


MATCHING = {
    "id": "q3",
    "type": "matching",
    "objective": "o2",
    "pairs": [{"id": "p1"}, {"id": "p2"}, {"id": "p3"}, {"id": "p4"}],
    "distractors": ["not a match"],
}
ORDERING = {
    "id": "q4",
    "type": "ordering",
    "objective": "o2",
    "items": [{"id": i} for i in ("s", "p", "i", "k", "e", "s2")],
}
SHORT = {
    "id": "q5",
    "type": "short_text",
    "objective": "o2",
    "answers": ["Teach-back", "teach back method"],
}
TRUE_FALSE = {"id": "q6", "type": "true_false", "objective": "o1", "answer": False}


def score(question, response):
    return type_of(question["type"]).score(question, response)


@pytest.mark.parametrize(("response", "earned"), [("b", 2.0), ("a", 0.0), (None, 0.0)])
def test_single_best_answer(response, earned):
    result = score(single(points=2), response)
    assert (result.earned, result.possible) == (earned, 2.0)


@pytest.mark.parametrize(
    ("chosen", "fraction"),
    [
        (["a", "b"], 1.0),  # both right
        (["a"], 0.5),  # one of two right
        (["a", "c"], 0.0),  # one right, one wrong
        (["a", "b", "c"], 0.5),  # share right minus share wrong
        (["a", "b", "c", "d"], 0.0),  # ticking every box earns nothing
        (["c", "d"], 0.0),  # floored at zero, never negative
    ],
)
def test_multiple_response_partial_credit(chosen, fraction):
    assert score(multiple(), chosen).fraction == fraction


def with_keys(*correct: bool) -> dict:
    """A multiple-response question whose options a, b, … have these keys."""
    question = multiple()
    question["options"] = [
        {"id": chr(97 + n), "correct": key} for n, key in enumerate(correct)
    ]
    return question


@pytest.mark.parametrize(
    ("keys", "chosen", "fraction"),
    [
        # three right, one wrong: ticking everything used to earn 2/3
        ((True, True, True, False), ["a", "b", "c", "d"], 0.0),
        ((True, True, True, False), ["a", "b", "c"], 1.0),
        ((True, True, True, False), ["a", "b", "d"], 0.0),
        ((True, True, True, False), ["a", "b"], pytest.approx(2 / 3)),
        # one right, three wrong: one wrong tick costs a third, not everything
        ((True, False, False, False), ["a", "b"], pytest.approx(2 / 3)),
        ((True, False, False, False), ["a", "b", "c", "d"], 0.0),
        # every option right: only the share of right options chosen counts
        ((True, True, True, True), ["a", "b", "c"], 0.75),
        ((True, True, True, True), ["a", "b", "c", "d"], 1.0),
    ],
)
def test_multiple_response_credit_is_right_share_minus_wrong_share(
    keys, chosen, fraction
):
    assert score(with_keys(*keys), chosen).fraction == fraction


def test_multiple_response_all_or_nothing():
    assert score(multiple(scoring="all_or_nothing"), ["a"]).fraction == 0.0
    assert score(multiple(scoring="all_or_nothing"), ["a", "b"]).fraction == 1.0


def test_true_false():
    assert score(TRUE_FALSE, False).is_correct
    assert not score(TRUE_FALSE, True).is_correct


def test_matching_share_of_pairs():
    response = {"p1": "p1", "p2": "p2", "p3": "x0", "p4": "p3"}
    assert score(MATCHING, response).fraction == 0.5


def test_ordering_share_in_place():
    correct = ["s", "p", "i", "k", "e", "s2"]
    assert score(ORDERING, correct).fraction == 1.0
    swapped = ["p", "s", "i", "k", "e", "s2"]
    assert score(ORDERING, swapped).fraction == pytest.approx(4 / 6)
    strict = dict(ORDERING, scoring="all_or_nothing")
    assert score(strict, swapped).fraction == 0.0


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("teach-back", True),
        ("  TEACH   BACK ", True),
        ("Teach back method.", True),
        ("teachback", False),
        ("show me", False),
    ],
)
def test_short_text_normalized(typed, ok):
    assert score(SHORT, typed).is_correct is ok


def test_normalize_text():
    assert normalize_text("  Ａsk–Tell–Ask!! ") == "ask tell ask"


def test_parse_response_rejects_unknown_values():
    form = {"q.q1": ["z"]}
    assert parse_response(single(), form) is None
    assert parse_response(single(), {"q.q1": ["c"]}) == "c"
    assert parse_response(multiple(), {"q.q2": ["a", "zz", "b", "a"]}) == ["a", "b"]
    assert parse_response(TRUE_FALSE, {"q.q6": ["false"]}) is False


def test_parse_ordering_needs_each_rank_once():
    ids = ["s", "p", "i", "k", "e", "s2"]
    good = {f"q.q4.{item}": [str(n)] for n, item in enumerate(reversed(ids), 1)}
    assert parse_response(ORDERING, good) == list(reversed(ids))
    clash = dict(good, **{"q.q4.s": ["1"], "q.q4.p": ["1"]})
    assert parse_response(ORDERING, clash) is None


def test_parse_matching_ignores_unknown_choices():
    form = {"q.q3.p1": ["p2"], "q.q3.p2": ["bogus"], "q.q3.p3": ["x0"]}
    assert parse_response(MATCHING, form) == {"p1": "p2", "p3": "x0"}


def case_set(qid, objective, children=2):
    return {
        "id": qid,
        "type": "case_set",
        "objective": objective,
        "questions": [single(f"{qid}-{n}", objective) for n in range(children)],
    }


def test_draw_counts_scored_items_per_objective():
    bank = [single(f"a{n}", "o1") for n in range(6)] + [
        case_set("cs1", "o2", 2),
        single("b1", "o2"),
        single("b2", "o2"),
        single("b3", "o2"),
    ]
    rule = [{"objective": "o1", "count": 3}, {"objective": "o2", "count": 4}]
    for seed in range(50):
        drawn = draw(bank, rule, random.Random(seed))
        items = [i for q in drawn for i in scored_items(q)]
        assert sum(i["objective"] == "o1" for i in items) == 3
        assert sum(i["objective"] == "o2" for i in items) == 4
        assert len({q["id"] for q in drawn}) == len(drawn)


def test_draw_is_random_but_reproducible():
    bank = [single(f"a{n}", "o1") for n in range(10)]
    rule = [{"objective": "o1", "count": 4}]
    first = draw(bank, rule, random.Random(1))
    assert first == draw(bank, rule, random.Random(1))
    draws = {
        tuple(q["id"] for q in draw(bank, rule, random.Random(s))) for s in range(20)
    }
    assert len(draws) > 10


def test_draw_never_falls_short_with_case_sets():
    bank = [case_set("c1", "o1", 2), case_set("c2", "o1", 2)]
    drawn = draw(bank, [{"objective": "o1", "count": 3}], random.Random(0))
    assert sum(len(scored_items(q)) for q in drawn) == 4


def test_present_shuffles_but_keeps_every_part():
    questions = [single(), MATCHING, ORDERING]
    layout = present(questions, random.Random(3))
    assert sorted(layout["q1"]["options"]) == list("abcd")
    assert sorted(layout["q3"]["choices"]) == ["p1", "p2", "p3", "p4", "x0"]
    assert layout["q4"]["items"] != [i["id"] for i in ORDERING["items"]]
    fixed = present([single()], random.Random(3), shuffle_options=False)
    assert fixed["q1"]["options"] == list("abcd")


def test_score_quiz_totals_and_pass_mark():
    questions = [single("q1"), case_set("cs", "o1", 2), multiple()]
    responses = {"q1": "b", "cs-0": "b", "cs-1": "a", "q2": ["a"]}
    result = score_quiz(questions, responses, passing_percent=80)
    assert (result.earned, result.possible) == (2.5, 4.0)
    assert result.percent == 62.5 and not result.passed
    perfect = {"q1": "b", "cs-0": "b", "cs-1": "b", "q2": ["a", "b"]}
    assert score_quiz(questions, perfect, 80).passed


def test_kept_percent_policies():
    assert kept_percent([], "highest") is None
    assert kept_percent([60, 90, 70], "highest") == 90
    assert kept_percent([60, 90, 70], "latest") == 70


@pytest.mark.parametrize(
    ("policy", "passed", "used", "limit", "shown"),
    [
        ("after_submit", False, 1, 3, True),
        ("after_pass_or_last_attempt", False, 1, 3, False),
        ("after_pass_or_last_attempt", True, 1, 3, True),
        ("after_pass_or_last_attempt", False, 3, 3, True),
        ("after_pass_or_last_attempt", False, 9, 0, False),  # unlimited attempts
        ("never", True, 3, 3, False),
    ],
)
def test_may_show_answers(policy, passed, used, limit, shown):
    assert may_show_answers(policy, passed, used, limit) is shown


@pytest.mark.parametrize("value", ["²", "\u0663", "9" * 5000, "-1", "0", "7", "1.0"])
def test_parse_ordering_refuses_positions_the_form_cannot_send(value):
    form = {
        f"q.q4.{item['id']}": [str(n)] for n, item in enumerate(ORDERING["items"], 1)
    }
    form["q.q4.s"] = [value]
    with pytest.raises(AnswerError, match="not one of 1 to 6"):
        parse_response(ORDERING, form)


@pytest.mark.parametrize(
    ("question", "name"),
    [(single(), "q.q1"), (TRUE_FALSE, "q.q6"), (MATCHING, "q.q3.p1"), (SHORT, "q.q5")],
)
def test_parse_refuses_two_values_for_a_one_answer_field(question, name):
    with pytest.raises(AnswerError, match="sent several"):
        parse_response(question, {name: ["a", "b"]})


def test_parse_short_text_refuses_what_the_input_cannot_hold():
    assert parse_response(SHORT, {"q.q5": ["x" * 500]}) == "x" * 500
    assert parse_response(SHORT, {"q.q5": ["  teach back  "]}) == "teach back"
    with pytest.raises(AnswerError, match="longer than 500"):
        parse_response(SHORT, {"q.q5": ["x" * 501]})
