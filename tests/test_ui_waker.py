"""The UI queue's "waker" path (the one Windows uses) when the Tk main loop starts late: tkinter's
cross-thread call waits 1 s for `mainloop` and then raises, and a cold start can take longer than
that. Calls made meanwhile must run once the loop runs, and later calls too. The same tkinter code
runs here as on Windows (a threaded Tcl); tests/windows/test_win_ui.py runs it under Wine."""

from __future__ import annotations

import threading
import time
import tkinter

import pytest

from phitray.ui.uiqueue import UiQueue

from helpers.desktop import DesktopSession


def test_calls_queued_before_a_late_main_loop_run_once_it_starts_and_later_ones_too(tk_display: DesktopSession) -> None:
    root = tkinter.Tk(screenName=tk_display.env["DISPLAY"])
    root.withdraw()
    ui = UiQueue(root, wake="waker")
    tk_thread = threading.get_ident()
    ran: list[tuple[str, int]] = []

    def early() -> None:
        for index in range(5):
            ui.call_soon(lambda i=index: ran.append(("early", threading.get_ident() == tk_thread and i)))
            time.sleep(0.1)

    caller = threading.Thread(target=early)
    caller.start()
    time.sleep(2.5)  # a cold start: more than the 1 s tkinter waits for the main loop before it raises
    caller.join()
    assert ran == [], "nothing may run on the Tk thread before its loop does"
    started = time.monotonic()
    late: list[float] = []

    def check() -> None:
        """Tk thread: once the early calls ran, queue one from another thread; end when it ran."""
        if len(ran) == 5 and not late:
            late.append(time.monotonic())
            threading.Thread(target=lambda: ui.call_soon(lambda: ran.append(("late", 0)))).start()
        if len(ran) == 6 or time.monotonic() - started > 10:
            root.quit()
        else:
            root.after(20, check)

    root.after(20, check)
    root.mainloop()
    ui.close()
    root.destroy()
    assert ran[:5] == [("early", i) for i in range(5)], "the early calls ran, in order, on the Tk thread"
    assert late and late[0] - started < 1.5, f"the early calls waited {late[0] - started:.1f} s after the loop began"
    assert ran[5:] == [("late", 0)], "the waker died while the loop had not started"
