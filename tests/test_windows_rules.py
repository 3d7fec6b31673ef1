"""The Windows adapters' decisions, pinned where Wine cannot show the Windows behaviour behind them
(WINDOWS.md): AltGr characters, UIPI, clipboard monitors, capped snapshots."""

from __future__ import annotations

from phitray.desktop.windows_rules import (altgr_problem, elevation_problem, render_for, snapshot_order, uia_asks,
                                           uia_selection, uia_worth_asking)
from phitray.hotkeys import parse_combo


def test_a_ctrl_alt_combo_that_types_a_character_is_warned_about() -> None:
    # Polish (Programmers): AltGr+X is ź. The warning names the combo, the character and a way out.
    problem = altgr_problem(parse_combo("ctrl+alt+x"), "ź")
    assert "ctrl+alt+x" in problem and "'ź'" in problem and "Windows key" in problem
    assert altgr_problem(parse_combo("ctrl+alt+space"), "") == ""  # no character: nothing to say
    assert altgr_problem(parse_combo("ctrl+alt+space"), " ") == ""
    assert "'\\xa0'" in altgr_problem(parse_combo("ctrl+alt+space"), "\xa0")  # a no-break space is typed text
    assert altgr_problem(parse_combo("ctrl+alt+p"), "\x10") == ""  # a control code is not typed text


def test_only_an_elevated_target_seen_from_an_unelevated_agent_is_out_of_reach() -> None:
    problem = elevation_problem("regedit.exe", True, False)
    assert problem.startswith("regedit.exe runs as administrator") and "Run on clipboard text" in problem
    assert elevation_problem("", True, None).startswith("The window in front runs as administrator")
    assert elevation_problem("regedit.exe", True, True) == ""  # the agent has the same rights
    assert elevation_problem("notepad.exe", False, False) == ""
    assert elevation_problem("notepad.exe", None, False) == ""  # unknown: try it


def test_only_the_targets_read_after_ctrl_v_is_the_paste() -> None:
    target, monitor = frozenset({1200}), 4400
    assert not render_for(False, monitor, target)  # a clipboard manager reading the new offer
    assert not render_for(False, 1200, target)  # the target itself, before the paste was sent
    assert not render_for(True, monitor, target)  # a monitor that reads again after Ctrl+V
    assert render_for(True, 1200, target)
    assert render_for(True, None, target)  # opened without a window: cannot be told apart, so it counts
    assert render_for(True, monitor, frozenset())  # no target known (a paste with no captured window)


def test_a_capped_snapshot_reads_what_a_person_would_miss_first() -> None:
    clipboard = [(49161, "DataObject"), (49300, "Biff12"), (1, ""), (49350, "HTML Format"), (13, ""), (8, ""),
                 (49400, "Rich Text Format"), (15, "")]
    order = [name or fmt for fmt, name in snapshot_order(clipboard)]
    assert order == [13, "HTML Format", "Rich Text Format", 8, 15, 1, "DataObject", "Biff12"]


def test_ui_automation_gives_the_selection_only_for_one_span_that_holds_something() -> None:
    assert uia_selection(["their is a mistake\r\nhere"]) == "their is a mistake\r\nhere"  # as Ctrl+C copies it


def test_browsers_and_electron_apps_are_copied_from_never_asked_through_ui_automation() -> None:
    assert not uia_worth_asking("Chrome_WidgetWin_1")  # Chrome, Edge, Slack, Teams, VS Code
    assert not uia_worth_asking("MozillaWindowClass")
    assert uia_worth_asking("Notepad") and uia_worth_asking("OpusApp") and uia_worth_asking("RICHEDIT50W")
    assert uia_selection([]) is None  # TextPattern without a selection: Ctrl+C finds out
    assert uia_selection([""]) is None and uia_selection([" \n"]) is None  # a caret, or only blanks
    assert uia_selection(["one", "two"]) is None  # a multiple selection: the program joins it its own way


def test_ui_automation_is_asked_only_when_the_focus_is_in_the_persons_window() -> None:
    assert uia_asks(4120, frozenset({4120}))
    assert uia_asks(5300, frozenset({880, 5300}))  # a Store app: its frame is ApplicationFrameHost's (880)
    assert not uia_asks(3012, frozenset({4120}))  # the taskbar or the tray menu has the focus
