"""Render stage: the Markdown subset, callouts, citations and question HTML."""

from lms_plugin.content.data import Reference
from lms_plugin.content.render import markdown_html
from lms_plugin.content.render import render_page
from lms_plugin.content.render import render_question
from lms_plugin.questions import TYPES


def make_reference(key: str, citation: str = "Author A. Title. 2020.", url=None):
    return Reference(key, citation, url, None, "references.yaml", 1, {"key": key})


REFS = {
    "a-2020": make_reference("a-2020", url="https://doi.org/10.1/x"),
    "b-2021": make_reference("b-2021", "B <b>bold</b> & co."),
}


def test_raw_html_is_escaped_not_rendered():
    assert markdown_html("Hi <b>there</b>") == "<p>Hi &lt;b&gt;there&lt;/b&gt;</p>\n"


def test_callout_is_a_labelled_aside():
    html = markdown_html("::: caution\nCheck local law.\n:::\n")
    assert html.startswith(
        '<aside class="callout callout-caution" aria-label="Caution">'
    )
    assert '<p class="callout-title">Caution</p>' in html
    assert "<p>Check local law.</p>" in html and html.rstrip().endswith("</aside>")


def test_table_alignment_becomes_a_class():
    html = markdown_html("| a | b |\n|--:|---|\n| 1 | 2 |\n")
    assert '<th class="align-right">a</th>' in html and "style" not in html


def test_citations_are_numbered_in_order_with_a_reference_list():
    html = render_page("m01-p01", "First [@b-2021]. Then [@a-2020; @b-2021].", [], REFS)
    assert html.count('href="#ref-m01-p01-1"') == 2
    assert html.count('href="#ref-m01-p01-2"') == 1
    assert '<li id="ref-m01-p01-1">B &lt;b&gt;bold&lt;/b&gt; &amp; co.</li>' in html
    assert (
        '<li id="ref-m01-p01-2">Author A. Title. 2020. <a href="https://doi.org/10.1/x"'
        in html
    )
    assert '<h2 id="refs-m01-p01">References</h2>' in html


def test_listed_but_uncited_references_are_listed_after_cited_ones():
    html = render_page("p", "Text [@b-2021].", ["a-2020", "b-2021"], REFS)
    assert html.index('id="ref-p-1">B') < html.index('id="ref-p-2">Author')


def test_a_web_pages_access_date_follows_its_link():
    page = Reference(
        "w", "HHS. Right of access.", "https://www.hhs.gov/x", None,
        "references.yaml", 1, {"key": "w", "accessed": "2026-12-08"},
    )  # fmt: skip
    html = render_page("p", "See [@w].", [], {"w": page})
    assert "https://www.hhs.gov/x</a> (accessed 2026-12-08)</li>" in html


def test_unknown_citation_stays_visible_text():
    assert "[@nobody]" in markdown_html("See [@nobody].")


def test_question_gets_html_beside_every_markdown_field():
    question = TYPES.normalize(
        {
            "id": "q1", "type": "single", "objective": "o1",
            "stem": "Which *one*?", "rationale": "Because [@a-2020].",
            "options": [
                {"id": "a", "text": "**A**", "correct": True, "feedback": "Yes"},
                {"id": "b", "text": "B", "correct": False, "feedback": "No [@b-2021]"},
            ],
        }
    )  # fmt: skip
    data = render_question(question, REFS)
    assert data["points"] == 1
    assert data["stem_html"] == "<p>Which <em>one</em>?</p>\n"
    assert data["options"][0]["text_html"] == "<strong>A</strong>"
    assert data["options"][0]["correct"] is True
    assert 'href="#ref-q1-1"' in data["options"][1]["feedback_html"]
    assert data["rationale_html"].startswith("<p>Because")
    assert '<h3 id="refs-q1">References</h3>' in data["rationale_html"]


def test_each_type_renders_its_own_fields():
    cases = {
        "true_false": {"answer": True, "feedback": {"true": "*y*", "false": "n"}},
        "matching": {
            "pairs": [{"id": "p", "prompt": "*P*", "answer": "A", "feedback": "f"}],
            "distractors": ["*D*"],
        },
        "ordering": {"items": [{"id": "i", "text": "*I*", "feedback": "f"}]},
        "short_text": {
            "answers": ["x"],
            "feedback": {"correct": "*c*", "incorrect": "i"},
        },
    }
    base = {"id": "q", "objective": "o", "stem": "S", "rationale": "R"}
    tf = render_question(
        TYPES.normalize({**base, "type": "true_false", **cases["true_false"]}), {}
    )
    assert tf["feedback_html"] == {"true": "<em>y</em>", "false": "n"}
    match = render_question(
        TYPES.normalize({**base, "type": "matching", **cases["matching"]}), {}
    )
    assert match["pairs"][0]["prompt_html"] == "<em>P</em>"
    assert match["distractors_html"] == ["<em>D</em>"] and match["scoring"] == "partial"
    order = render_question(
        TYPES.normalize({**base, "type": "ordering", **cases["ordering"]}), {}
    )
    assert order["items"][0]["text_html"] == "<em>I</em>"
    short = render_question(
        TYPES.normalize({**base, "type": "short_text", **cases["short_text"]}), {}
    )
    assert short["feedback_html"]["correct"] == "<em>c</em>"


def test_case_set_children_inherit_objective_and_render_alone():
    data = render_question(
        TYPES.normalize(
            {
                "id": "cs", "type": "case_set", "objective": "o2",
                "stimulus": "A case [@a-2020].",
                "questions": [
                    {"id": "c1", "type": "true_false", "stem": "S", "answer": False,
                     "feedback": {"true": "t", "false": "f"}, "rationale": "R [@b-2021]"},  # noqa: E501
                ],
            }
        ),
        REFS,
    )  # fmt: skip
    child = data["questions"][0]
    assert child["objective"] == "o2" and child["points"] == 1
    assert 'id="ref-c1-1">B' in child["rationale_html"]
    assert 'id="ref-cs-1">Author' in data["stimulus_html"]
