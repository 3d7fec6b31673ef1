"""The shape rules on answers as the agent gets them: an echoed prompt that the stop string cuts at its own
</text>, a stub left by cleanup, an answer written twice or a line over and over, a truncated edit, and a
summary that is the text itself."""

from __future__ import annotations

import pytest

from phitray.actions.check_shape import longest_repeat, loops
from phitray.actions.checks import check_answer, failed
from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.host.scripted import Answer, ScriptedHost

BUILTIN = load_actions(None)
PARAGRAPH = ("The system may anonymously supply the distribution developers with statistics about the most used "
             "packages on this system. This information influences decisions such as which packages should go on "
             "the first distribution CD. If you choose to participate, the automatic submission script will run "
             "once every week, sending statistics to the distribution developers.")


def through_the_agent(action_id: str, text: str, answer: str, raw: bool = True, **values: str) -> dict[str, str]:
    """The failed checks of an answer streamed through run_action, as the jobs layer checks it."""
    action = BUILTIN.get(action_id)
    said = action.render(text, values)[1] if answer == "$PROMPT" else answer
    result = run_action(ScriptedHost(lambda request: Answer.words(said)), action, text, values)
    given = result.raw if raw else None
    return {c.name: c.reason for c in failed(check_answer(action.checks, text, result.text, action.values(values), raw=given))}


@pytest.mark.parametrize("action_id", ["summarize", "key-points", "translate", "proofread"])
def test_an_echoed_prompt_cut_at_its_own_closing_tag_is_caught(action_id: str) -> None:
    values = {"language": "German"} if action_id == "translate" else {}
    assert "no_prompt_echo" in through_the_agent(action_id, PARAGRAPH, "$PROMPT", **values)
    # Without the raw answer too: cleanup leaves a stub ("and") of a long text, and a stub is never pasted.
    assert "no_prompt_echo" in through_the_agent(action_id, PARAGRAPH, "$PROMPT", raw=False, **values)


def test_a_good_answer_streamed_through_the_agent_passes() -> None:
    summary = "The system may send statistics about the most used packages to the developers once a week."
    assert through_the_agent("summarize", PARAGRAPH, summary) == {}
    assert through_the_agent("proofread", "Teh system may send statistics.", "The system may send statistics.") == {}


@pytest.mark.parametrize("answer", ["Yes, thanks.", "Ja, danke.", "はい、ありがとうございます。", PARAGRAPH])
def test_an_answer_written_twice_is_a_loop_at_any_length(answer: str) -> None:
    assert loops(answer, f"{answer} {answer}")
    assert not loops(answer, answer)


def test_a_line_over_and_over_is_a_loop_but_a_repetition_of_the_text_is_not() -> None:
    points = "- Statistics go to the developers.\n- It runs every week.\n"
    assert loops(PARAGRAPH, points + "- It runs every week.\n" * 3)
    assert longest_repeat("a b c d a b c d e") == 4
    chant = "Ho ho ho, merry Christmas. Ho ho ho, merry Christmas."
    assert not loops(chant, chant), "the text's own repetition, kept by an edit"


def test_a_truncated_edit_is_caught_and_a_full_one_is_not() -> None:
    assert "covers_input" in through_the_agent("rewrite", PARAGRAPH, " ".join(PARAGRAPH.split()[:24]))
    assert "covers_input" not in through_the_agent("rewrite", PARAGRAPH, PARAGRAPH.replace("anonymously ", ""))


def test_a_summary_or_key_points_that_are_the_text_itself_are_caught() -> None:
    assert "shorter" in through_the_agent("summarize", PARAGRAPH, PARAGRAPH)
    listed = "\n".join(f"- {line}" for line in PARAGRAPH.split(". "))
    assert "shorter" in through_the_agent("key-points", PARAGRAPH, PARAGRAPH)
    assert "shorter" in through_the_agent("summarize", "Short text.", "Short text."), "however short"
    assert "shorter" not in through_the_agent("key-points", PARAGRAPH, listed.split("\n")[0])


def test_an_answer_of_markup_without_words_is_never_pasted() -> None:
    table = '<table>\n<tr style="border-bottom:1px;">\n<tr>\n<td>\n</td>\n</tr>\n</table>'
    caught = through_the_agent("table", PARAGRAPH, table)
    assert "no words" in caught["no_prompt_echo"]
    assert through_the_agent("table", PARAGRAPH, "| Statistic | Sent |\n|---|---|\n| most used packages | weekly |") == {}
