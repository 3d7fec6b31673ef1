"""The popup's word-level changes: what a review marks as deleted and inserted."""

from __future__ import annotations

from phitray.ui.changes import count_changes, word_changes


def test_a_proofread_is_marked_word_by_word_and_the_answer_is_what_remains() -> None:
    before = "their going too the park tomorow."
    after = "They're going to the park tomorrow."
    pieces = word_changes(before, after)
    assert "".join(text for kind, text in pieces if kind != "deleted") == after
    assert "".join(text for kind, text in pieces if kind != "inserted") == before
    assert ("deleted", "tomorow") in pieces and ("inserted", "tomorrow") in pieces
    assert ("same", " going ") in pieces
    assert count_changes(pieces) == 6


def test_no_change_is_one_unmarked_run() -> None:
    assert word_changes("Same text.", "Same text.") == [("same", "Same text.")]
    assert count_changes(word_changes("Same text.", "Same text.")) == 0
