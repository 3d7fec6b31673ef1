"""The agent's own notice: a small window near the pointer that says how a job ended (nothing is selected,
an action already runs, the answer was not pasted) and goes away by itself.

The person pressed a hotkey and looks at their document, so that is where the word goes. System
notifications are hidden while Do Not Disturb is on, which Windows turns on by itself for full-screen
programs and presentations, and come attributed to whatever the desktop makes of the process; they stay for
what happens in the background. The window never takes the keyboard: it is not managed by the window
manager (override-redirect), and on Windows it is a tool window that Tk shows without activating. One at
a time: a new notice replaces the one showing. Every method runs on the Tk (main) thread.
"""

from __future__ import annotations

import logging
import tkinter
from collections.abc import Callable
from tkinter import ttk

from phitray.desktop.system import work_area
from phitray.logs import milestone
from phitray.ui.popup import position_near_pointer

log = logging.getLogger(__name__)

TITLE = "Phi Tray — "  # then the notice's first line: how window lists, and tests, tell one notice from another
TITLE_CHARACTERS = 120
WRAP_PIXELS = 360  # at 96 DPI; grows with Tk's scaling
BASE_MS, PER_CHARACTER_MS, LONGEST_MS = 3500, 45, 12000  # time to read it, then it goes


def title_for(message: str) -> str:
    first = (message.strip().splitlines() or [""])[0]
    return TITLE + (first if len(first) <= TITLE_CHARACTERS else first[:TITLE_CHARACTERS - 1].rstrip() + "…")


def showing_ms(message: str) -> int:
    """How long a notice stays: a few seconds, longer for a longer message, never more than LONGEST_MS."""
    return min(LONGEST_MS, BASE_MS + PER_CHARACTER_MS * len(message))


class NoticeWindow:
    def __init__(self, root: tkinter.Misc, fallback: Callable[[str, str], None] | None = None) -> None:
        """`fallback(message, title)` says a notice the window could not show (the tray's notification)."""
        self._root = root
        self._fallback = fallback
        self._window: tkinter.Toplevel | None = None
        self._label: ttk.Label | None = None
        self._timer: str | None = None

    @property
    def showing(self) -> bool:
        return self._window is not None and bool(self._window.winfo_exists()) and bool(self._window.winfo_viewable())

    def show(self, message: str, kind: str = "notice", title: str = "") -> None:
        """Show `message` near the pointer for showing_ms(message), in place of any notice showing. `kind`
        (the job event's) goes into the milestone, the message never; `title` (an action's) only into the
        fallback's title."""
        try:
            self._show(message, kind)
        except (tkinter.TclError, RuntimeError) as error:
            log.warning("the notice window could not show (%s)", error)
            if self._fallback is not None:
                self._fallback(message, "Phi Tray" + (f": {title}" if title else ""))

    def _show(self, message: str, kind: str) -> None:
        window, label = self._made()
        label.configure(text=message)
        window.title(title_for(message))
        window.update_idletasks()
        size = (window.winfo_reqwidth(), window.winfo_reqheight())
        x, y = window.winfo_pointerxy()
        area = work_area(x, y) or (0, 0, window.winfo_screenwidth(), window.winfo_screenheight())
        left, top = position_near_pointer((x, y), size, area)
        window.geometry(f"+{left}+{top}")
        window.deiconify()
        window.lift()
        if self._timer is not None:
            window.after_cancel(self._timer)
        self._timer = window.after(showing_ms(message), self.close)
        milestone("notice-window", kind=kind, x=left, y=top)

    def close(self) -> None:
        self._timer = None
        if self.showing:
            assert self._window is not None
            self._window.withdraw()

    def _made(self) -> tuple[tkinter.Toplevel, ttk.Label]:
        if self._window is not None and self._label is not None and self._window.winfo_exists():
            return self._window, self._label
        window = tkinter.Toplevel(self._root)
        window.withdraw()
        window.overrideredirect(True)  # no frame, and no window manager gives it the focus
        window.attributes("-topmost", True)
        try:
            window.attributes("-toolwindow", True)  # Windows: no taskbar button, shown without activating
        except tkinter.TclError:  # an attribute only Windows' Tk has
            pass
        frame = tkinter.Frame(window, background="#303030", padx=1, pady=1)  # a thin border
        frame.pack(fill="both", expand=True)
        scale = max(1.0, window.winfo_fpixels("1i") / 96)
        label = ttk.Label(frame, padding=(12, 8), wraplength=round(WRAP_PIXELS * scale), justify="left",
                          background="#fffbe6", foreground="#202020")
        label.pack(fill="both", expand=True)
        for widget in (window, frame, label):
            widget.bind("<Button-1>", lambda event: self.close())  # a click puts it away at once
        self._window, self._label = window, label
        return window, label
