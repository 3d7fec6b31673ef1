"""What the agent says to the person, and when: a job's end by the pointer, a missing tray once at start and
once more at the next hotkey, a picker Windows kept behind another window. Tk thread only."""

from __future__ import annotations

import tkinter

from phitray.ui.tray import Tray

PICKER_NOT_IN_FRONT = ("Windows kept another window in front of the picker, so it was closed: what you type "
                       "there would have gone to that window. Press {hotkey} again.")
TRAY_MISSING = ("No system tray here, so Phi Tray shows no icon. Its menu is in the picker: select some text, "
                "press {hotkey}, and Settings…, Backend, Model and Quit follow the actions.")


class Notices:
    def __init__(self, root: tkinter.Tk, tray: Tray) -> None:
        self._root, self._tray = root, tray
        self.window: object | None = None  # the NoticeWindow, made at the first notice
        self.tray_missing = False  # no tray shows the icon: the picker lists the tray menu's entries
        self._tray_notices = 0  # said when found, and once more at the next hotkey

    def say(self, message: str, kind: str, title: str = "") -> None:
        """By the pointer: Do Not Disturb hides system notifications (notice_window.py). `kind` is the job
        event's, for the milestone."""
        from phitray.ui.notice_window import NoticeWindow

        if not isinstance(self.window, NoticeWindow):
            self.window = NoticeWindow(self._root, self._tray.notify)
        self.window.show(message, kind, title)

    def icon_docked(self, docked: bool, picker_hotkey: str) -> None:
        """Whether a tray shows the icon, as the tray found. Without one, say so now and at the next hotkey."""
        self.tray_missing = not docked
        if self.tray_missing and self._tray_notices == 0:
            self._say_tray_missing(picker_hotkey)

    def job_seen(self, picker_hotkey: str) -> None:
        """A hotkey's job said something: the person is looking now, the moment to repeat a missing tray."""
        if self.tray_missing and self._tray_notices == 1:
            self._say_tray_missing(picker_hotkey)

    def picker_not_in_front(self, picker_hotkey: str) -> None:
        self.say(PICKER_NOT_IN_FRONT.format(hotkey=picker_hotkey or "the picker hotkey"), "notice")

    def _say_tray_missing(self, picker_hotkey: str) -> None:
        self._tray_notices += 1
        self._tray.notify(TRAY_MISSING.format(hotkey=picker_hotkey or "the picker hotkey"))
