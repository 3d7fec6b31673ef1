"""The UI queue's "waker" path (the one Windows uses) when the Tk main loop starts late: tkinter's
cross-thread call waits 1 s for `mainloop` and then raises, and a cold start can take longer than
that. Calls made meanwhile must run once the loop runs, and later calls too. The same tkinter code
runs here as on Windows (a threaded Tcl); tests/windows/test_win_ui.py runs it under Wine."""

from __future__ import annotations

import tkinter

from phitray.ui.uiqueue import UiQueue

from helpers.desktop import DesktopSession
from helpers.late_loop import run_late_main_loop


def test_calls_queued_before_a_late_main_loop_run_once_it_starts_and_later_ones_too(tk_display: DesktopSession) -> None:
    root = tkinter.Tk(screenName=tk_display.env["DISPLAY"])
    root.withdraw()
    seen = run_late_main_loop(root, UiQueue(root, wake="waker"))
    root.destroy()
    assert seen.before_loop == [], "nothing may run on the Tk thread before its loop does"
    assert seen.ran[:5] == [("early", i) for i in range(5)], "the early calls ran, in order, on the Tk thread"
    assert seen.waited is not None and seen.waited < 1.5, f"the early calls waited {seen.waited} s after the loop began"
    assert seen.ran[5:] == [("late", 0)], "the waker died while the loop had not started"
