"""pystray's win32 icon with the project's Tray, in Wine's tray: it shows in the right colours,
its menu carries the actions and runs one, and Quit ends it cleanly."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.backends.chain import ChainOptions
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.paths import Paths
from phitray.host.client import ModelHost
from phitray.ui.icons import STATE_COLOURS
from phitray.ui.tray import Tray, TrayView

from helpers.wine import Notepad, find_colour, focus_menu, screen, wait_until, xdo


class Commands:
    """The menu's commands as the daemon wires them: an action on the clipboard's text goes to the job
    engine (output to the clipboard here: the popup is Tk, which the embeddable Python lacks)."""

    def __init__(self, engine: JobThread, clipboard: object) -> None:
        self.engine, self.clipboard = engine, clipboard
        self.ran: list[str] = []
        self.quit_asked = threading.Event()

    def run_on_clipboard(self, action_id: str) -> None:
        """Called on the tray thread."""
        self.ran.append(action_id)
        text = self.clipboard.read_text()  # type: ignore[attr-defined]
        self.engine.submit(ActionJob("tray", action_id, text=text, output="clipboard"))

    def open_picker(self) -> None:
        """Called on the tray thread: the picker's first half, the capture."""
        self.engine.submit(CaptureJob("tray"))

    def quit(self) -> None:
        self.quit_asked.set()

    def __getattr__(self, name: str) -> object:
        return lambda *args: None


def test_the_tray_icon_shows_runs_an_action_from_its_menu_and_quits_cleanly(
    desktop: object, notepad: Notepad, test_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    library = load_actions(None)
    actions = tuple((a.id, a.title) for a in library.ordered())
    paths = Paths(tmp_path / "config", test_data, tmp_path / "cache", tmp_path / "log")
    host = ModelHost(ChainOptions(("openvino-cpu",), "starter", paths.compile_cache_dir, allow_pull=False), paths)
    host.start(timeout=300)
    events: list[JobEvent] = []
    engine = JobThread(desktop, lambda: host, JobSettings(actions=library, capture=CaptureOptions()), events.append)  # type: ignore[arg-type]
    engine.start()
    clipboard_text = "their is a error in this sentense."
    desktop.clipboard.keep_text(clipboard_text)  # type: ignore[attr-defined]
    commands = Commands(engine, desktop.clipboard)  # type: ignore[attr-defined]
    tray = Tray(commands, TrayView(state="ready", status="openvino-cpu · CPU · starter", actions=actions))  # type: ignore[arg-type]
    tray.start()
    try:
        assert tray.visible.wait(10)
        # Windows' balloon holds 255 characters and a 63-character title; pystray raises beyond that.
        with caplog.at_level(logging.INFO, logger="phitray.ui.tray"):
            tray.notify("A notice longer than a balloon holds. " * 12, "A title longer than Windows shows " * 3)
        assert "could not show a notification" not in caplog.text
        found: list[tuple[int, int]] = []
        # Green, not red-blue swapped: the BMP-format ICO draws right under Wine.
        wait_until(lambda: bool(found.append(find_colour(screen(), STATE_COLOURS["ready"])) or found[-1]), 10,
                   "the green tray icon")
        x, y = found[-1]
        before = screen()
        xdo("xdotool", "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        after = screen()
        changed = sum(1 for p, q in zip(before.tobytes(), after.tobytes()) if p != q)
        assert changed > 15000, "no menu opened on right-click"
        focus_menu()
        # Win32 menus step through grey items too: status line, Pick an action…, Run on clipboard text ▸ Proofread.
        for key in ("Down", "Down", "Down", "Right"):
            xdo("xdotool", "key", key)
            time.sleep(0.2)
        xdo("xdotool", "key", "Return")
        wait_until(lambda: any(e.kind == "delivered" for e in events), 60, "the menu item's action to finish")
        assert commands.ran == [actions[0][0]]
        answer = run_action(host, library.get(actions[0][0]), clipboard_text).text
        assert desktop.clipboard.read_text() == answer  # type: ignore[attr-defined]

        # "Pick an action…" with Notepad's text selected: the click put the taskbar, then pystray's own
        # window in front, and the capture must still copy from Notepad (WINDOWS.md, failure mode 2).
        notepad.write_and_select("the words in Notepad")
        done = len(events)
        xdo("xdotool", "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        focus_menu()
        for key in ("Down", "Down", "Return"):
            xdo("xdotool", "key", key)
            time.sleep(0.2)
        ended = ("captured", "notice", "failed")
        wait_until(lambda: any(e.kind in ended for e in events[done:]), 30, "the capture")
        desktop.keys.release_keyboard()  # type: ignore[attr-defined]  # the picker would, once it had the keyboard
        captured = [e for e in events[done:] if e.kind in ended][0]
        assert (captured.kind, captured.capture.text) == ("captured", "the words in Notepad"), captured
        xdo("xdotool", "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        focus_menu()
        xdo("xdotool", "key", "Up")  # from the top, Up wraps to the last item: Quit
        xdo("xdotool", "key", "Return")
        assert commands.quit_asked.wait(10)
    finally:
        tray.stop()
        engine.stop()
        host.close()
    assert tray._thread is not None and not tray._thread.is_alive(), "pystray's loop did not end"


def probe_icon(window: int, number: int) -> bool:
    """Whether Windows holds a tray icon (window, number): a change of nothing to it succeeds only then."""
    import ctypes

    from pystray._util import win32

    data = win32.NOTIFYICONDATAW(cbSize=ctypes.sizeof(win32.NOTIFYICONDATAW), hWnd=window, uID=number, uFlags=0)
    return bool(win32.Shell_NotifyIcon(win32.NIM_MODIFY, data))


def test_the_icon_has_a_fixed_number_the_installs_guid_and_the_process_is_named_phi_tray(
    caplog: pytest.LogCaptureFixture
) -> None:
    import json
    import sys

    from phitray.desktop.windows_tray import APP_ID, app_id
    from phitray.ui.tray_win32 import ICON_ID, icon_guid

    identities = []
    for _ in range(2):  # two starts of the same program
        caplog.clear()
        with caplog.at_level(logging.INFO):
            tray = Tray(None, TrayView(state="ready", status="Starting…"))
            tray.start()
            try:
                assert tray.visible.wait(10)
                wait_until(lambda: "tray-identity" in caplog.text, 10, "the icon's identity")
                identity = next(json.loads(r.getMessage()) for r in caplog.records if "tray-identity" in r.getMessage())
                assert identity["added"] is True
                # Windows (Wine here) holds the icon under the fixed number, not pystray's 0.
                assert probe_icon(identity["window"], ICON_ID)
                assert not probe_icon(identity["window"], 0)
                identities.append((identity["uid"], identity["guid"]))
            finally:
                tray.stop()
    assert identities[0] == identities[1] == (ICON_ID, str(icon_guid(sys.executable)))
    # Windows took the AppUserModelID; Wine 8 takes it without keeping it (its getter is a stub), so only real
    # Windows shows it read back.
    assert "refused the AppUserModelID" not in caplog.text
    assert app_id() in (APP_ID, "")
