"""Numbers shown to people are rounded one way everywhere."""

import pytest

from lms_plugin import numbers
from lms_plugin.progress import completion


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.933333, "0.93"),
        (8.0, "8"),
        (87.5, "87.5"),
        (2 / 3 * 100, "66.67"),
        (0, "0"),
        (-0.001, "0"),
        (1e-9, "0"),
        (None, "–"),
    ],
)
def test_shown(value, text):
    assert numbers.shown(value) == text


def test_percent():
    assert numbers.percent(93.333333) == "93.33%"
    assert numbers.percent(None) == "–"


def test_the_ags_comment_rounds_as_the_pages_do():
    post = completion.score_to_post([93.333333], {"max_attempts": 0}, passed=True)
    assert post.comment.endswith("(kept 93.33%)")


def test_templates_round_with_the_filters(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ x|number }} of {{ y|percent }}")
        assert template.render(x=0.933333, y=87.5) == "0.93 of 87.5%"
