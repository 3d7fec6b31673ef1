"""The picker as the person comes to use it: each action's own hotkey beside its title, and the actions they
run most at the top. The real daemon on the session's bare X display (helpers/daemon.py), its jobs thread on
a scripted model host; the picker takes the keyboard itself and the keys come from xdotool."""

from __future__ import annotations

import time
import tkinter
from pathlib import Path

import pytest

from phitray.app.usage import ActionUses
from phitray.host.controller import HostController
from phitray.host.scripted import ScriptedHost
from phitray.jobs.types import ActionJob, CaptureJob, Started
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.ui.picker import Picker, show_combo

from helpers.daemon import private_paths, running_daemon
from helpers.desktop import DesktopSession, missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")


def pump_until(root: tkinter.Tk, done: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:  # type: ignore[operator]
        root.update()
        time.sleep(0.02)
    assert done(), "not reached in time"  # type: ignore[operator]


def test_a_combo_is_shown_as_people_write_it() -> None:
    assert show_combo("ctrl+alt+p") == "Ctrl+Alt+P"
    assert show_combo("ctrl+shift+f5") == "Ctrl+Shift+F5"


def test_a_try_from_the_settings_window_is_no_use_of_the_action() -> None:
    uses = ActionUses()
    uses.count(Started(1, "Concise", "replace", ActionJob("hotkey", "concise")))
    uses.count(Started(2, "Concise", "popup", ActionJob("settings", "concise", text="x")))
    assert uses.uses("concise") == 1


def test_the_samples_one_job_tries_after_a_flagged_answer_are_one_use() -> None:
    uses = ActionUses()
    for _ in range(3):
        uses.count(Started(4, "Proofread", "popup", ActionJob("hotkey", "proofread")))
    uses.count(Started(5, "Proofread", "popup", ActionJob("hotkey", "proofread")))
    assert uses.uses("proofread") == 2


def test_the_picker_puts_the_most_used_first_and_shows_each_hotkey(
    tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = private_paths(shared_paths, tmp_path, monkeypatch, tk_display)
    settings = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False,
                        action_hotkeys={"concise": "ctrl+alt+c", "proofread": "ctrl+alt+p"})
    host = ScriptedHost(lambda request: "A short answer.")
    monkeypatch.setattr(HostController, "current", lambda self: host)  # the jobs thread asks it for the host
    with running_daemon(paths, settings) as running:
        daemon, desktop = running.daemon, running.desktop
        root = daemon.root
        titles = {action.id: action.title for action in daemon.actions.ordered() if action.id != "custom"}
        first_in_menu = daemon.actions.ordered()[0].id
        assert first_in_menu != "concise"
        for number in range(2):  # the person runs Concise twice, from the tray on the clipboard's text
            daemon.submit(ActionJob("tray", "concise", text="Some words to make shorter.", output="clipboard"))
            pump_until(root, lambda: daemon.uses.uses("concise") == number + 1 and not daemon.state.busy)
        desktop.text, desktop.selection = "Fix thsi sentence.", (0, 18)
        daemon.submit(CaptureJob("hotkey"))
        pump_until(root, lambda: daemon.windows.picker is not None and daemon.windows.picker.window.winfo_viewable())
        picker = daemon.windows.picker
        assert picker is not None
        rows = list(picker.listbox.get(0, "end"))
        assert rows[0].startswith(titles["concise"]) and rows[0].endswith("Ctrl+Alt+C"), rows
        assert rows[1].startswith(titles[first_in_menu]), rows  # the others keep the menu's order
        proofread = next(row for row in rows if row.startswith(titles["proofread"]))
        assert proofread.endswith("Ctrl+Alt+P") and proofread != titles["proofread"]
        assert sum(row in titles.values() for row in rows) == len(titles) - 2  # no hotkey: the title alone
        # The hotkeys line up in one column: their left edges are within a space of each other.
        font = picker._font
        starts = [font.measure(row[: row.rindex("Ctrl")]) for row in rows if "Ctrl+" in row]
        assert len(starts) == 2 and abs(starts[0] - starts[1]) <= font.measure("  ")
        # Enter runs the first row, the most used, on the selection.
        pump_until(root, lambda: root.focus_get() is not None)
        tk_display.xdotool("key", "Return")
        pump_until(root, lambda: daemon.uses.uses("concise") == 3)


def test_a_picker_without_hotkeys_lists_the_titles_alone(tk_display: DesktopSession) -> None:
    root = tkinter.Tk(screenName=tk_display.display)
    root.withdraw()
    try:
        picker = Picker(root, [("proofread", "Proofread"), ("concise", "Concise")], lambda a, v: None)
        assert list(picker.listbox.get(0, "end")) == ["Proofread", "Concise"]
        picker.close()
    finally:
        root.destroy()
