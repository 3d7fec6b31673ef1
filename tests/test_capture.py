"""The capture sequence's window rules and its PRIMARY-first read at the project's seam (helpers/scripted.py),
with no model."""

from __future__ import annotations

import pytest

from phitray.desktop import WindowTraits
from phitray.jobs.capture import SLOW_COPY_SECONDS, CaptureOptions, capture_selection
from phitray.jobs.timeline import Timeline
from phitray.errors import Notice, NothingSelected

from helpers.scripted import ScriptedDesktop
from helpers.scripted_x11 import PrimaryEditor

OPTIONS = CaptureOptions(copy_timeout=0.3)


def test_a_window_known_to_copy_slowly_gets_the_longer_wait() -> None:
    """Word or a remote desktop can take a second to copy: it is waited for, not called empty."""
    slow = ScriptedDesktop(text="a long Word document", selection=(0, 6), copy_delay=1.0,
                           traits_of_editor=WindowTraits(slow_copy=True))
    assert SLOW_COPY_SECONDS > 1.0
    assert capture_selection(slow.desktop(), OPTIONS, Timeline()).text == "a long"


def test_other_windows_keep_the_short_wait() -> None:
    quick = ScriptedDesktop(text="a long Word document", selection=(0, 6), copy_delay=1.0)
    with pytest.raises(NothingSelected):
        capture_selection(quick.desktop(), OPTIONS, Timeline())


def test_the_front_windows_own_selection_is_read_with_no_key_and_no_clipboard_touched() -> None:
    editor = PrimaryEditor(text="keep the selected words", selection=(5, 23))
    captured = capture_selection(editor.desktop(), OPTIONS, Timeline())
    assert (captured.text, captured.path, captured.snapshot) == ("the selected words", "primary", None)
    assert editor.steps == ["read primary for 7"]  # no snapshot, no Ctrl+C, no restore


def test_a_selection_another_program_holds_is_passed_over_for_the_copy() -> None:
    editor = PrimaryEditor(text="keep the selected words", selection=(5, 23), primary_owner=9)
    captured = capture_selection(editor.desktop(), OPTIONS, Timeline())
    assert (captured.text, captured.path) == ("the selected words", "copy")
    assert editor.steps == ["read primary for 7", "snapshot", "copy", "restore"]


def test_a_selection_over_the_limit_is_said_and_the_clipboard_given_back() -> None:
    for desktop in (PrimaryEditor(text="x" * 50, selection=(0, 50)), ScriptedDesktop(text="x" * 50, selection=(0, 50))):
        with pytest.raises(Notice, match="longer than 40 characters"):
            capture_selection(desktop.desktop(), OPTIONS, Timeline(), max_characters=40)
        assert desktop.clipboard == ("the person's clipboard",)
