"""A selection's formatting through the conversions: HTML → Markdown → HTML and plain text, and what a
hostile or huge HTML fragment gets (actions/markup.py, agent/jobs/formatting.py)."""

from __future__ import annotations

import re
from dataclasses import replace

from phitray.actions import markup
from phitray.actions.library import load_actions
from phitray.actions.runner import ActionResult
from phitray.jobs import formatting
from phitray.jobs.capture import CaptureOptions, capture_selection
from phitray.jobs.timeline import Timeline

from helpers.scripted_x11 import PrimaryEditor

RICH = ('<meta charset="utf-8"><!--StartFragment--><h2>Plan</h2><p>We <b>must</b> ship <i>soon</i>, see '
        '<a href="https://example.com/plan_b?x=1">the plan</a>.</p><ul><li>one</li><li>two</li></ul>'
        '<ol><li>first</li><li>second</li></ol><!--EndFragment-->')
RICH_TEXT = "Plan\n\nWe must ship soon, see the plan.\n\none\ntwo\n\nfirst\nsecond"


def test_bold_italics_links_lists_and_headings_go_round_trip() -> None:
    markdown = markup.html_to_markdown(RICH)
    assert markdown is not None
    assert "## Plan" in markdown and "**must**" in markdown and "*soon*" in markdown
    assert "[the plan](https://example.com/plan_b?x=1)" in markdown
    assert "- one\n- two" in markdown and "1. first\n2. second" in markdown
    html = markup.markdown_to_html(markdown)
    for part in ("<h2>Plan</h2>", "<strong>must</strong>", "<em>soon</em>",
                 '<a href="https://example.com/plan_b?x=1">the plan</a>', "<li>one</li>", "<ol>"):
        assert part in html
    assert markup.html_to_markdown(html) == markdown


def test_the_plain_form_has_no_markdown_symbols() -> None:
    plain = markup.markdown_to_plain(markup.html_to_markdown(RICH) or "")
    assert plain == "Plan\n\nWe must ship soon, see the plan.\n\n- one\n- two\n\n1. first\n2. second"
    assert not re.search(r"[*_#\[\]`]|\]\(", plain)
    assert markup.markdown_to_plain("5 \\* 3 = 15\\_000 and a_b") == "5 * 3 = 15_000 and a_b"


def test_scripts_styles_hidden_content_and_unsafe_links_are_dropped() -> None:
    hostile = ('<style>p{color:red}</style><script>steal()</script><p onclick="x()">Hi <b>there</b> '
               '<a href="javascript:alert(1)">click</a> <a href=" JavaScript:alert(2)">me</a> '
               '<a href="data:text/html,evil">data</a> <a href="/relative">rel</a> '
               '<img src="https://tracker.example/p.gif" alt="logo"><iframe src="https://x"></iframe>'
               '<noscript>enable js</noscript></p>')
    markdown = markup.html_to_markdown(hostile) or ""
    assert "steal" not in markdown and "color" not in markdown and "enable js" not in markdown
    assert "javascript" not in markdown.lower() and "data:" not in markdown and "tracker" not in markdown
    assert markdown == "Hi **there** click me data rel logo"
    html = markup.markdown_to_html("[x](javascript:alert(1)) <script>alert(2)</script> ![i](https://t.example/p.gif)")
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html


def test_huge_or_deeply_nested_html_falls_back_to_the_plain_text() -> None:
    assert markup.html_to_markdown("<b>x</b>" * (markup.MAX_HTML_CHARS // 8 + 1)) is None
    assert markup.selection_markdown("<div>" * 100_000 + "<b>deep</b>", "deep") is None


def test_html_without_formatting_or_about_another_text_is_not_used() -> None:
    assert markup.selection_markdown("<p>just words</p><p>more</p>", "just words\n\nmore") is None
    assert markup.selection_markdown("<p>a <b>stale</b> clipboard</p>", "the real selection") is None
    assert markup.selection_markdown(RICH, RICH_TEXT) is not None


def test_edits_keep_formatting_and_the_rest_is_plain() -> None:
    actions = load_actions(None).actions
    assert {i for i, action in actions.items() if action.format == "keep"} == {
        "proofread", "rewrite", "concise", "friendly", "professional"}
    proofread = actions["proofread"]
    assert formatting.selection_markdown(proofread, "replace", RICH_TEXT, RICH, 200_000)
    assert not formatting.selection_markdown(proofread, "popup", RICH_TEXT, RICH, 200_000)
    assert not formatting.selection_markdown(actions["summarize"], "replace", RICH_TEXT, RICH, 200_000)
    assert not formatting.selection_markdown(proofread, "replace", RICH_TEXT, RICH, 20)  # over the engine's limit
    assert formatting.KEEP_MARKS in formatting.marked_up(proofread).render("x")[0]


def test_a_markdown_answer_becomes_plain_text_with_the_selections_edges_and_html() -> None:
    result = ActionResult("proofread", "We **must** see [it](https://example.com).", 1, 1, 0.1, 0.1, 5, 50.0)
    answer = formatting.answer_of(result, "  We must se it.\n")
    assert answer.text == "  We must see it.\n"
    assert answer.html == 'We <strong>must</strong> see <a href="https://example.com">it</a>.'  # no paragraph break
    assert formatting.answer_of(replace(result, text="One **a**.\n\nTwo."), "x").html == \
        "<p>One <strong>a</strong>.</p>\n<p>Two.</p>\n"


class TextOnlySelection(PrimaryEditor):
    """A selection read without the clipboard that carries no HTML (Windows' UI Automation)."""

    def selection_has_html(self) -> bool:
        return False


def test_an_edit_that_keeps_formatting_copies_where_the_selection_has_no_html() -> None:
    for want_html, expected in ((False, "primary"), (True, "copy")):
        editor = TextOnlySelection(text="keep the selected words", selection=(5, 23))
        captured = capture_selection(editor.desktop(), CaptureOptions(), Timeline(), want_html=want_html)
        assert (captured.text, captured.path) == ("the selected words", expected)
    x11 = PrimaryEditor(text="keep the selected words", selection=(5, 23))  # X11's PRIMARY carries HTML
    assert capture_selection(x11.desktop(), CaptureOptions(), Timeline(), want_html=True).path == "primary"
