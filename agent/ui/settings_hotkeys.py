"""The Hotkeys tab: the picker, cancel and each action's direct hotkey, each recorded by pressing it.

A recorded combo is refused with the reason before anything is written when it
cannot be a hotkey (no modifier, reserved by every application) or clashes with
another slot; after it is written, the running agent binds it, and a combo the
desktop refuses (taken by another program; on Windows, one that types a
character on the keyboard layout) is named and the old one put back.
Every method runs on the Tk thread.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk
from typing import TYPE_CHECKING

from phitray.errors import ConfigError, HotkeyError
from phitray.hotkeys import parse_combo
from phitray.logs import milestone
from phitray.settings_file import read_document
from phitray.ui.hotkey_recorder import HotkeyRecorder
from phitray.ui.settings_window import PROBLEM_COLOUR, set_state

if TYPE_CHECKING:
    from phitray.ui.settings_window import SettingsWindow

ROWS_HEIGHT = 330  # pixels at 96 DPI: eleven rows show, the rest scroll


@dataclass(frozen=True)
class Slot:
    """One hotkey the window can set: where it is written and what it does."""

    setting: str  # "hotkeys.picker", "hotkeys.cancel" or "hotkeys.actions"
    action_id: str  # for "hotkeys.actions"
    label: str


def current_combo(window: SettingsWindow, slot: Slot) -> str:
    """The combo the slot has now: the settings file's, else (for an action) its file's own."""
    settings = window.settings
    if slot.setting == "hotkeys.picker":
        return settings.picker_hotkey
    if slot.setting == "hotkeys.cancel":
        return settings.cancel_hotkey
    if slot.action_id in settings.action_hotkeys:
        return settings.action_hotkeys[slot.action_id]
    action = window.actions.actions.get(slot.action_id)
    return action.hotkey or "" if action else ""


def clash(window: SettingsWindow, slots: list[Slot], slot: Slot, combo: str) -> str:
    """Which other slot already has `combo`, as a sentence; "" when none does."""
    for other in slots:
        if other != slot and current_combo(window, other) == combo:
            return f"{combo} is already the hotkey of {other.label}; choose another or change that one first."
    return ""


class HotkeysSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.page, self.window = page, window
        ttk.Label(page, text="Focus a hotkey and press Enter, then the new combo. Esc keeps the old one; "
                             "Backspace removes an action's hotkey.", wraplength=640).pack(side="bottom", fill="x",
                                                                                          pady=(6, 0))
        # The rows scroll: a person's own actions add rows, and the window must fit a small screen.
        scale = max(1.0, page.winfo_fpixels("1i") / 96)
        self.canvas = tkinter.Canvas(page, height=round(ROWS_HEIGHT * scale), highlightthickness=0, takefocus=0)
        scrollbar = ttk.Scrollbar(page, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.canvas.pack(side="left", fill="both", expand=True)
        self.rows = ttk.Frame(self.canvas)
        self.canvas.create_window(0, 0, window=self.rows, anchor="nw")
        self.rows.bind("<Configure>", lambda event: self._fit_rows())
        self.recorders: dict[Slot, HotkeyRecorder] = {}
        self.messages: dict[Slot, ttk.Label] = {}
        self.refresh()

    def slots(self) -> list[Slot]:
        fixed = [Slot("hotkeys.picker", "", "the picker"), Slot("hotkeys.cancel", "", "cancel")]
        return fixed + [Slot("hotkeys.actions", a.id, a.title) for a in self.window.actions.ordered()]

    def refresh(self) -> None:
        """Rebuild the rows (the actions may have changed)."""
        for child in self.rows.winfo_children():
            child.destroy()
        self.recorders, self.messages = {}, {}
        for row, slot in enumerate(self.slots()):
            text = {"hotkeys.picker": "Picker (list of actions)", "hotkeys.cancel": "Cancel the running action"}.get(
                slot.setting, f"Action: {slot.label}")
            ttk.Label(self.rows, text=text).grid(row=row, column=0, sticky="w", padx=(0, 8), pady=1)
            recorder = HotkeyRecorder(self.rows, current_combo(self.window, slot), self._recorded_for(slot),
                                      self.window.host.hold_hotkeys, may_clear=slot.setting == "hotkeys.actions")
            recorder.button.grid(row=row, column=1, sticky="w", pady=1)
            recorder.button.bind("<FocusIn>", self._scroll_to, add="+")
            message = ttk.Label(self.rows, text="", wraplength=330)
            message.grid(row=row, column=2, sticky="w", padx=(8, 0))
            self.recorders[slot], self.messages[slot] = recorder, message

    def _fit_rows(self) -> None:
        """The rows' frame changed size: the canvas scrolls over all of it and is as wide. Tk thread."""
        self.canvas.configure(scrollregion=self.canvas.bbox("all"), width=self.rows.winfo_reqwidth())

    def _scroll_to(self, event: tkinter.Event) -> None:  # type: ignore[type-arg]
        """Tab reached a hotkey out of sight: scroll it into view. Tk thread."""
        top, bottom = event.widget.winfo_y(), event.widget.winfo_y() + event.widget.winfo_height()
        height = max(1, self.rows.winfo_height())
        shown_top, shown_bottom = (fraction * height for fraction in self.canvas.yview())
        if top < shown_top:
            self.canvas.yview_moveto(top / height)
        elif bottom > shown_bottom:
            self.canvas.yview_moveto((bottom - self.canvas.winfo_height()) / height)

    def _recorded_for(self, slot: Slot) -> Callable[[str], None]:
        def recorded(combo: str) -> None:
            """The recorder's combo for this slot. Tk thread."""
            self.recorded(slot, combo)
        return recorded

    def set_enabled(self, enabled: bool) -> None:
        set_state([recorder.button for recorder in self.recorders.values()], enabled)

    def recorded(self, slot: Slot, spelling: str) -> None:
        """The recorder's combo for `slot` ("" to clear): judged, written when it may be, and said. Tk thread."""
        shown, ok = self._judge(slot, spelling)
        self.tell(slot, shown, problem=not ok)
        self.recorders[slot].show(current_combo(self.window, slot))
        key = f"{slot.setting}.{slot.action_id}" if slot.action_id else slot.setting
        milestone("hotkey-checked", slot=key, combo=spelling, ok=ok, shown=shown)

    def _judge(self, slot: Slot, spelling: str) -> tuple[str, bool]:
        """What the window says of `spelling` for `slot`, and whether the slot has it now (or has none, when
        cleared); the file and the agent are changed only when it does."""
        old = current_combo(self.window, slot)
        old_entry = self.entry(slot)
        if not spelling:
            action = self.window.actions.actions.get(slot.action_id)
            # An action file's own hotkey is switched off by an empty entry; otherwise the entry goes.
            value: str | None = "" if action is not None and action.hotkey else None
            problem = self.window.change(slot.setting, value, slot.action_id)
            return (problem, False) if problem else ("No hotkey.", True)
        try:
            combo = str(parse_combo(spelling))
        except HotkeyError as error:
            return f"Refused: {error}", False
        if combo == old:
            return f"{combo} is already this hotkey.", True
        if reason := clash(self.window, self.slots(), slot, combo):
            return f"Refused: {reason}", False
        if problem := self.window.change(slot.setting, combo, slot.action_id):
            return problem, False
        refused = [reason for reason in self.window.refused if reason.startswith(combo)]
        if refused:
            # The desktop would not bind it: put the old combo back, in the file and in the agent.
            self.window.change(slot.setting, old_entry, slot.action_id)
            return f"Refused: {refused[0]}. Kept {old or 'no hotkey'}.", False
        return ("Works now." if self.window.host.live else "Saved; works when Phi Tray starts."), True

    def entry(self, slot: Slot) -> str | None:
        """What settings.toml itself says for the slot; None when it says nothing (the default applies)."""
        try:
            document = read_document(self.window.paths.settings_file).unwrap()
        except ConfigError:
            return None  # the change that follows says what is wrong with the file
        section, key = slot.setting.split(".")
        value = document.get(section, {}).get(key)
        if slot.action_id:
            value = value.get(slot.action_id) if isinstance(value, dict) else None
        return value if isinstance(value, str) else None

    def tell(self, slot: Slot, text: str, problem: bool = False) -> None:
        self.messages[slot].configure(text=text, foreground=PROBLEM_COLOUR if problem else "")
        self.window.say(f"{slot.label}: {text}", problem)

