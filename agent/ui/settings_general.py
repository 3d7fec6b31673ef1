"""The General tab: translate language, start on login, review before replacing, recent results kept on disk,
logging of text.

Every method runs on the Tk thread.
"""

from __future__ import annotations

from tkinter import ttk
from typing import TYPE_CHECKING

from phitray.desktop import autostart
from phitray.errors import PhiTrayError
from phitray.ui.settings_window import set_state

if TYPE_CHECKING:
    from phitray.ui.settings_window import SettingsWindow

LOG_TEXT_MEANING = (
    "Off by default. When on, the text you select and every answer are written to Phi Tray's log file on "
    "this computer, to find out why an action went wrong. Nothing leaves the computer either way; "
    "turn it off again when you are done."
)


def checked(button: ttk.Checkbutton) -> bool:
    return bool(button.instate(["selected"]))


def check(button: ttk.Checkbutton, on: bool) -> None:
    button.state(["!alternate", "selected" if on else "!selected"])


class GeneralSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self.entry_for_start = autostart.for_this_platform()
        ttk.Label(page, text="Translate into (language)").grid(row=0, column=0, sticky="w", pady=2)
        self.language = ttk.Entry(page, width=24)
        self.language.grid(row=0, column=1, sticky="w", pady=2)
        self.language.bind("<Return>", lambda event: self.save_language())
        self.language.bind("<FocusOut>", lambda event: self.save_language())
        self.language_note = ttk.Label(page, text="Enter saves it.")
        self.language_note.grid(row=0, column=2, sticky="w", padx=8)

        # The check boxes keep their state in Tk alone: a tkinter Variable deletes its Tcl variable from
        # whichever thread collects it, and a collection on another thread while the Tk thread waits for
        # that thread (it starts one) never ends.
        self.start_button = ttk.Checkbutton(page, text="Start Phi Tray when I log in", command=self._start_on_login)
        self.start_button.grid(row=1, column=0, columnspan=3, sticky="w", pady=2)
        self.review_button = ttk.Checkbutton(
            page, text="Review edits before they replace the selection (the changes are marked; Enter replaces)",
            command=lambda: self.window.change("review.before_replace", checked(self.review_button)))
        self.review_button.grid(row=2, column=0, columnspan=3, sticky="w", pady=2)
        self.history_button = ttk.Checkbutton(
            page, text="Keep recent results after Phi Tray quits (the last 50, in a file only you can read)",
            command=lambda: self.window.change("history.keep_on_disk", checked(self.history_button)))
        self.history_button.grid(row=3, column=0, columnspan=3, sticky="w", pady=2)
        self.log_button = ttk.Checkbutton(page, text="Write selected text and answers to the log",
                                          command=lambda: self.window.change("log.include_text", checked(self.log_button)))
        self.log_button.grid(row=4, column=0, columnspan=3, sticky="w", pady=(2, 0))
        ttk.Label(page, text=LOG_TEXT_MEANING, wraplength=600, foreground="#555").grid(
            row=5, column=0, columnspan=3, sticky="w", padx=(22, 0))
        self.refresh()

    def refresh(self) -> None:
        settings = self.window.settings
        self.language.delete(0, "end")
        self.language.insert(0, settings.translate_language)
        check(self.review_button, settings.review_before_replace)
        check(self.history_button, settings.history_on_disk)
        check(self.log_button, settings.log_text)
        try:
            check(self.start_button, self.entry_for_start.status().enabled)
        except PhiTrayError as error:
            self.start_button.configure(text=f"Start Phi Tray when I log in ({error})")

    def set_enabled(self, enabled: bool) -> None:
        # Start on login is no line of settings.toml, but a window that cannot save edits nothing at all.
        set_state([self.language, self.start_button, self.review_button, self.history_button, self.log_button],
                  enabled)

    def save_language(self) -> None:
        """Enter in the field, or the focus leaving it. Tk thread."""
        text = self.language.get().strip()
        if text == self.window.settings.translate_language:
            return
        if problem := self.window.change("translate.language", text):
            self.language_note.configure(text=problem)
        else:
            self.language_note.configure(text="Saved.")

    def _start_on_login(self) -> None:
        """The checkbox: the login entry itself, not settings.toml. Tk thread."""
        try:
            status = self.entry_for_start.enable() if checked(self.start_button) else self.entry_for_start.disable()
            self.window.say(f"Start on login: {status.describe()}")
        except PhiTrayError as error:
            self.window.say(str(error), problem=True)
        self.refresh()
        self.window.host.apply_settings(self.window.settings)  # the tray's check mark follows
