"""The quiz item macros render every question type accessibly, with and
without results, and never reveal answers in the form itself."""

import random

import pytest
from flask import render_template_string
from selenium.webdriver.common.by import By

from lms_plugin.questions import type_of
from lms_plugin.questions.quiz import present
from lms_plugin.questions.quiz import scored_items
from tests.browser import axe_violations
from tests.browser import describe


def sample_questions():
    def opts(correct, n=4):
        return [
            {
                "id": c,
                "text": f"Option {c}",
                "text_html": f"<p>Option {c}</p>",
                "correct": c in correct,
                "feedback": f"Because {c}.",
                "feedback_html": f"<p>Because {c}.</p>",
            }
            for c in "abcde"[:n]
        ]

    common = {
        "rationale": "Why.",
        "rationale_html": "<p>Why.</p>",
        "points": 1,
        "objective": "o1",
    }
    return [
        {
            "id": "s1",
            "type": "single",
            "stem_html": "<p>Pick one.</p>",
            "options": opts("b"),
            **common,
        },
        {
            "id": "m1",
            "type": "multiple",
            "stem_html": "<p>Pick some.</p>",
            "options": opts("ac", 5),
            **common,
        },
        {
            "id": "t1",
            "type": "true_false",
            "stem_html": "<p>True?</p>",
            "answer": False,
            "feedback": {"true": "No.", "false": "Yes."},
            **common,
        },
        {
            "id": "x1",
            "type": "matching",
            "stem_html": "<p>Match.</p>",
            "pairs": [
                {
                    "id": f"p{n}",
                    "prompt": f"Prompt {n}",
                    "answer": f"Answer {n}",
                    "feedback": f"Pair {n}.",
                }
                for n in range(1, 4)
            ],
            "distractors": ["Decoy"],
            **common,
        },
        {
            "id": "o1",
            "type": "ordering",
            "stem_html": "<p>Order.</p>",
            "items": [{"id": f"i{n}", "text": f"Step {n}"} for n in range(1, 5)],
            **common,
        },
        {
            "id": "w1",
            "type": "short_text",
            "stem_html": "<p>Type.</p>",
            "answers": ["teach-back"],
            "feedback": {"correct": "Yes.", "incorrect": "No."},
            **common,
        },
        {
            "id": "c1",
            "type": "case_set",
            "stimulus_html": "<p>A case.</p>",
            "objective": "o1",
            "questions": [
                {
                    "id": "c1a",
                    "type": "single",
                    "stem_html": "<p>Case Q1</p>",
                    "options": opts("a"),
                    **common,
                },
                {
                    "id": "c1b",
                    "type": "true_false",
                    "stem_html": "<p>Case Q2</p>",
                    "answer": True,
                    "feedback": {"true": "Yes.", "false": "No."},
                    **common,
                },
            ],
        },
    ]


PAGE = """{% extends "base.html" %}{% from "quiz/_questions.html" import entry %}
{% block title %}Quiz{% endblock %}{% block content %}<h1>Quiz</h1>
<form method="post">{% for q in questions %}
{{ entry(q, layouts, numbers, total, results, reveal) }}{% endfor %}
<button type="submit">Submit</button></form>{% endblock %}"""


def render(questions, results=None, reveal=False):
    layouts = present(questions, random.Random(7))
    items = [i for q in questions for i in scored_items(q)]
    numbers = {item["id"]: n for n, item in enumerate(items, 1)}
    return render_template_string(
        PAGE,
        questions=questions,
        layouts=layouts,
        numbers=numbers,
        total=len(items),
        results=results or {},
        reveal=reveal,
    )


def wrong_results(questions):
    """Score a deliberately wrong response for every item."""
    wrong = {
        "single": "a",
        "multiple": ["d"],
        "true_false": True,
        "matching": {"p1": "p2"},
        "ordering": ["i2", "i1", "i3", "i4"],
        "short_text": "nope",
    }
    results = {}
    for q in questions:
        for item in scored_items(q):
            score = type_of(item["type"]).score(item, wrong[item["type"]])
            results[item["id"]] = score
    return results


def test_form_has_a_labelled_control_for_every_part(app):
    with app.test_request_context():
        html = render(sample_questions())
    for name in (
        "q.s1",
        "q.m1",
        "q.t1",
        "q.x1.p1",
        "q.x1.p3",
        "q.o1.i4",
        "q.w1",
        "q.c1a",
        "q.c1b",
    ):
        assert f'name="{name}"' in html
    assert "Correct answer" not in html and "Why." not in html  # nothing revealed
    assert "Question 8 of 8" in html


def test_multiple_response_says_how_it_is_scored(app):
    questions = [q for q in sample_questions() if q["id"] == "m1"]
    with app.test_request_context():
        partial = render(questions)
        strict = render([dict(questions[0], scoring="all_or_nothing")])
    assert (
        "<legend>Select all that apply. Each wrong choice takes credit away.</legend>"
        in partial
    )
    assert (
        "<legend>Select all that apply. Credit only for exactly the right "
        "options.</legend>" in strict
    )


def test_review_shows_feedback_and_reveals_only_when_allowed(app):
    questions = sample_questions()
    results = wrong_results(questions)
    with app.test_request_context():
        hidden = render(questions, results, reveal=False)
        shown = render(questions, results, reveal=True)
    assert "Because a." in hidden  # feedback on what the learner chose
    assert "Because b." not in hidden and "Correct answer" not in hidden
    assert "Because b." in shown and "Correct answer" in shown and "Why." in shown
    assert "Incorrect" in hidden


def _serve(app, questions, results=None, reveal=False):
    @app.route("/_quiz")
    def quiz_page():
        return render(questions, results, reveal)


@pytest.mark.browser
@pytest.mark.parametrize("reviewed", [False, True], ids=["form", "review"])
def test_quiz_markup_passes_axe(app, browser, reviewed):
    from tests.browser import LiveServer

    questions = sample_questions()
    _serve(app, questions, wrong_results(questions) if reviewed else None, reviewed)
    with LiveServer(app) as server:
        browser.get(f"{server.url}/_quiz")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Quiz"
        violations = axe_violations(browser)
    assert not violations, describe(violations)
