"""A cold start, for the UI queue's "waker" path (the one Windows uses): calls are queued from another thread
for longer than the 1 s tkinter waits for `mainloop` before its cross-thread call raises, then the loop
starts. Run on Linux (tests/test_ui_waker.py) and under Wine (tests/windows/test_win_ui.py)."""

from __future__ import annotations

import threading
import time
import tkinter
from dataclasses import dataclass, field

from phitray.ui.uiqueue import UiQueue

COLD_START_SECONDS = 2.5


@dataclass
class LateLoop:
    """What ran on the Tk thread, in order, as ("early", i) and ("late", 0); `before_loop`: what had run
    before the main loop started; `waited`: seconds from the loop's start until the early calls had run."""

    ran: list[tuple[str, int]] = field(default_factory=list)
    before_loop: list[tuple[str, int]] = field(default_factory=list)
    waited: float | None = None


def run_late_main_loop(root: tkinter.Tk, ui: UiQueue, early_calls: int = 5) -> LateLoop:
    """Queue `early_calls` from another thread during a cold start, then run the main loop; once the early
    calls ran there, one more is queued from another thread, and the loop ends when it ran (or after 10 s)."""
    tk_thread = threading.get_ident()
    seen = LateLoop()

    def on_tk(name: str, index: int) -> None:
        """Tk thread (anything else is recorded as -1)."""
        seen.ran.append((name, index if threading.get_ident() == tk_thread else -1))

    def early() -> None:
        for index in range(early_calls):
            ui.call_soon(lambda i=index: on_tk("early", i))  # type: ignore[misc]
            time.sleep(0.1)

    caller = threading.Thread(target=early)
    caller.start()
    time.sleep(COLD_START_SECONDS)
    caller.join()
    seen.before_loop = list(seen.ran)
    started = time.monotonic()

    def check() -> None:
        """Tk thread: once the early calls ran, queue one from another thread; end when it ran."""
        if len(seen.ran) == early_calls and seen.waited is None:
            seen.waited = time.monotonic() - started
            threading.Thread(target=lambda: ui.call_soon(lambda: on_tk("late", 0))).start()
        if len(seen.ran) > early_calls or time.monotonic() - started > 10:
            root.quit()
        else:
            root.after(20, check)

    root.after(20, check)
    root.mainloop()
    ui.close()
    return seen
