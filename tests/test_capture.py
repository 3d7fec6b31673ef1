"""The capture sequence's window rules and its read without the clipboard (X11's PRIMARY, Windows' UI
Automation) at the project's seam (helpers/scripted.py), with no model."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from phitray.desktop import WindowTraits
from phitray.desktop.windows_rules import uia_asks, uia_selection
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


@dataclass
class UiaEditor(ScriptedDesktop):
    """A Windows editor as WinClipboard.read_selection sees it through UI Automation (windows_uia.py, which
    Wine cannot run): the editor's window is program 100's; the focused element is `focus_program`'s and,
    with `text_pattern`, gives its selection as one span."""

    focus_program: int = 100
    text_pattern: bool = True

    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None:
        self.steps.append(f"ui automation for {owner}")
        if owner is None or not uia_asks(self.focus_program, frozenset({100})) or not self.text_pattern:
            return None
        found = uia_selection([self.text[self.selection[0]:self.selection[1]]] if self.selection else [""])
        return found if found is None or max_chars is None else found[:max_chars + 1]


def test_a_selection_ui_automation_gives_leaves_the_clipboards_change_count_untouched() -> None:
    editor = UiaEditor(text="keep the selected words", selection=(5, 23))
    mark = editor.change_mark()
    captured = capture_selection(editor.desktop(), OPTIONS, Timeline())
    assert (captured.text, captured.path, captured.snapshot) == ("the selected words", "primary", None)
    assert editor.change_mark() == mark and editor.steps == ["ui automation for 7"]  # no snapshot, Ctrl+C, restore


@pytest.mark.parametrize("editor", [UiaEditor(focus_program=300), UiaEditor(text_pattern=False),
                                    UiaEditor(selection=(4, 5))], ids=["taskbar-focused", "no-textpattern", "blank"])
def test_where_ui_automation_gives_nothing_the_selection_is_copied(editor: UiaEditor) -> None:
    editor.text, editor.selection = "keep the selected words", editor.selection or (5, 23)
    captured = capture_selection(editor.desktop(), OPTIONS, Timeline())
    assert captured.path == "copy" and captured.text == editor.text[editor.selection[0]:editor.selection[1]]
    assert editor.steps == ["ui automation for 7", "snapshot", "copy", "restore"]
    assert editor.clipboard == ("the person's clipboard",)
