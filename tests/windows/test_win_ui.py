"""The Tk side on Windows: the UI queue's Windows wake path (the "ui-waker" thread), the agent's icon on its
windows and its notice window, under a real Tk."""

from __future__ import annotations

import threading
import time
import tkinter

from phitray.ui.uiqueue import UiQueue

from helpers.late_loop import run_late_main_loop
from helpers.wine import Notepad, wait_until


def test_other_threads_never_wait_for_a_busy_tk_thread_and_every_call_runs_there_in_order(tk_root: tkinter.Tk) -> None:
    root = tk_root
    ui = UiQueue(root)
    assert ui.wake == "waker"  # Tk's file handlers do not exist on Windows
    tk_thread = threading.get_ident()
    ran: list[tuple[int, int, int]] = []
    slowest: list[float] = []

    def busy() -> None:
        """Tk thread, inside the main loop: stuck in a long callback while the threads queue their calls."""
        for thread in threads:
            thread.start()
        time.sleep(1.0)

    def caller(number: int) -> None:
        for index in range(200):
            started = time.perf_counter()
            ui.call_soon(lambda n=number, i=index: ran.append((n, i, threading.get_ident())))
            slowest.append(time.perf_counter() - started)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    deadline = time.monotonic() + 20

    def check() -> None:
        """Tk thread: end the main loop once every call has run (or at the deadline)."""
        if len(ran) >= 800 or time.monotonic() > deadline:
            root.quit()
        else:
            root.after(20, check)

    root.after(0, busy)  # tkinter's cross-thread calls need the main loop running: start from inside it
    root.after(50, check)
    root.mainloop()
    for thread in threads:
        thread.join(5)
    ui.close()
    assert len(ran) == 800
    assert {ident for _, _, ident in ran} == {tk_thread}
    for number in range(4):
        assert [i for n, i, _ in ran if n == number] == list(range(200))
    assert max(slowest) < 0.2, f"call_soon waited {max(slowest):.3f} s for the busy Tk thread"


def test_calls_made_before_a_late_main_loop_run_once_it_starts(tk_root: tkinter.Tk) -> None:
    """A cold start: the tray, a second launch or a hotkey queue calls while the agent is still loading, for
    longer than the 1 s tkinter waits for the main loop before it raises; the waker must not die."""
    seen = run_late_main_loop(tk_root, UiQueue(tk_root), early_calls=3)
    assert seen.before_loop == []
    assert seen.ran == [("early", 0), ("early", 1), ("early", 2), ("late", 0)]


def test_the_agents_windows_carry_its_icon_not_tks_feather(tk_root: tkinter.Tk) -> None:
    import ctypes
    from ctypes import wintypes

    from phitray.cli.agent import use_agent_icon

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    user32.GetParent.argtypes, user32.GetParent.restype = [wintypes.HWND], wintypes.HWND
    user32.GetClassLongPtrW.argtypes, user32.GetClassLongPtrW.restype = [wintypes.HWND, ctypes.c_int], ctypes.c_size_t
    gclp_hicon = -14

    def icon_of(window: tkinter.Toplevel) -> int:
        """The icon of the window's frame class (title bar, taskbar, Alt+Tab): Tk sets a default icon there."""
        return int(user32.GetClassLongPtrW(user32.GetParent(window.winfo_id()), gclp_hicon))

    window = tkinter.Toplevel(tk_root)
    tk_root.update()
    feather = icon_of(window)
    use_agent_icon(tk_root)
    later = tkinter.Toplevel(tk_root)
    tk_root.update()
    try:
        assert feather != 0 and icon_of(later) not in (0, feather)
        assert icon_of(window) == icon_of(later)  # a window already open changes too
    finally:
        window.destroy()
        later.destroy()


def test_the_notice_window_shows_near_the_pointer_without_taking_notepads_place_in_front(
    tk_root: tkinter.Tk, notepad: Notepad
) -> None:
    """Job feedback that does not depend on balloons (hidden under Do Not Disturb): the agent's own window,
    which a person reads while they stay in their document."""
    import ctypes
    from ctypes import wintypes

    from phitray.ui.notice_window import NoticeWindow, title_for

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    user32.GetForegroundWindow.restype = wintypes.HWND
    user32.FindWindowW.restype = wintypes.HWND
    user32.IsWindowVisible.argtypes = [wintypes.HWND]
    notepad.focus()
    wait_until(lambda: user32.GetForegroundWindow() == notepad.hwnd, 5, "Notepad in front")
    notice = NoticeWindow(tk_root)
    message = "No text is selected: select some text first, then press the hotkey."
    notice.show(message, kind="notice")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        tk_root.update()
        time.sleep(0.02)
    window = user32.FindWindowW(None, title_for(message))
    assert window and user32.IsWindowVisible(window)
    assert user32.GetForegroundWindow() == notepad.hwnd
    notice.close()
    tk_root.update()
    assert not user32.IsWindowVisible(window)


def test_the_hold_keeps_the_keyboard_until_the_agents_window_is_in_front_then_types_on_into_it(
    tk_root: tkinter.Tk, notepad: Notepad, desktop: object, caplog: object
) -> None:
    """The picker asked for what was typed while Notepad was still in front (Windows took back the hotkey's
    right to the front): the hold stays, the agent asks for the front, and keys typed meanwhile reach the
    picker's field, never Notepad."""
    import json
    import logging

    from helpers.wine import xdo

    notepad.write_and_select("the selection")
    notepad.focus()
    keys = desktop.keys  # type: ignore[attr-defined]
    keys.hold_keyboard()
    window = tkinter.Toplevel(tk_root)
    window.title("Phi Tray — pick an action (test)")
    field = tkinter.Entry(window)
    field.pack()
    field.focus_set()
    try:
        tk_root.update()
        notepad.focus()  # the person's next input went to Notepad: the picker is not in front
        xdo("xdotool", "type", "--delay", "30", "ab")
        time.sleep(0.3)
        with caplog.at_level(logging.INFO, logger="phitray.milestone"):  # type: ignore[attr-defined]
            assert keys.release_keyboard() == "ab"  # what was typed before: the picker filters with it
            xdo("xdotool", "type", "--delay", "30", "cd")
            deadline = time.monotonic() + 10
            while field.get() != "cd" and time.monotonic() < deadline:
                tk_root.update()
                time.sleep(0.02)
            records = [json.loads(r.getMessage()) for r in caplog.records  # type: ignore[attr-defined]
                       if "picker-foreground" in r.getMessage()]
        assert field.get() == "cd"
        assert records and records[-1]["got"] is True and records[-1]["waited_ms"] > 0, records  # it had to ask
        assert notepad.text() == "the selection"
    finally:
        window.destroy()
        tk_root.update()
