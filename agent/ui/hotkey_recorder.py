"""A button that records a hotkey: focus it, press Enter or Space, then press the combo.

While it records, the agent's own global hotkeys are off (`on_recording(True)`),
or pressing the current picker combo would open the picker instead of reaching
this window. Esc alone stops recording without a change; Backspace or Delete
alone clears the hotkey (where the slot may be empty). The combo is spelt the
way settings.toml spells it (`ctrl+alt+p`) and judged by the caller.

Every method runs on the Tk (main) thread.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable
from tkinter import ttk

# Tk keysyms of the modifier keys, by the canonical modifier they stand for.
MODIFIER_KEYSYMS = {
    "Control_L": "ctrl", "Control_R": "ctrl", "Alt_L": "alt", "Alt_R": "alt", "Meta_L": "alt", "Meta_R": "alt",
    "ISO_Level3_Shift": "alt", "Shift_L": "shift", "Shift_R": "shift", "Super_L": "super", "Super_R": "super",
    "Win_L": "super", "Win_R": "super", "Hyper_L": "super", "Hyper_R": "super",
}
# Tk's event.state bits for the modifiers, by windowing system: Alt is Mod1 on X11 and its own bit on
# Windows, where the Windows key sets none (its key press is counted instead).
STATE_BITS = {"x11": {"shift": 0x1, "ctrl": 0x4, "alt": 0x8, "super": 0x40},
              "win32": {"shift": 0x1, "ctrl": 0x4, "alt": 0x20000}}
NAMED = {
    "space": "space", "Return": "enter", "KP_Enter": "enter", "Tab": "tab", "ISO_Left_Tab": "tab",
    "Escape": "esc", "BackSpace": "backspace", "Delete": "delete", "Insert": "insert", "Home": "home",
    "End": "end", "Prior": "page_up", "Next": "page_down", "Up": "up", "Down": "down", "Left": "left",
    "Right": "right", "Pause": "pause",
    "grave": "`", "minus": "-", "equal": "=", "bracketleft": "[", "bracketright": "]", "backslash": "\\",
    "semicolon": ";", "apostrophe": "'", "comma": ",", "period": ".", "slash": "/",
    # What a US layout's Shift makes of its keys: the combo names the key, not the character.
    "asciitilde": "`", "underscore": "-", "plus": "=", "braceleft": "[", "braceright": "]", "bar": "\\",
    "colon": ";", "quotedbl": "'", "less": ",", "greater": ".", "question": "/", "exclam": "1", "at": "2",
    "numbersign": "3", "dollar": "4", "percent": "5", "asciicircum": "6", "ampersand": "7", "asterisk": "8",
    "parenleft": "9", "parenright": "0",
}


def key_name(keysym: str) -> str:
    """The canonical key a Tk keysym stands for ("" for one no hotkey can use)."""
    if keysym in NAMED:
        return NAMED[keysym]
    if len(keysym) == 1 and keysym.isascii() and keysym.isalnum():
        return keysym.lower()
    if keysym.startswith("F") and keysym[1:].isdigit() and 1 <= int(keysym[1:]) <= 24:
        return keysym.lower()
    return ""


def key_from_virtual_key(code: int) -> str:
    """Windows: the key a virtual-key code names, "" for others. Tk's keycode there is the virtual key,
    which names the key even where Ctrl+Alt (AltGr) made its keysym a character (Polish ź for Z)."""
    if 0x41 <= code <= 0x5A or 0x30 <= code <= 0x39:
        return chr(code).lower()
    if 0x70 <= code <= 0x87:
        return f"f{code - 0x6F}"
    return ""


def combo_spelling(modifiers: set[str], keysym: str, virtual_key: int = 0) -> str:
    """`ctrl+alt+p` for the modifiers held and the key pressed; "" while only modifiers are down.
    `virtual_key` (Windows) names the key when its keysym does not."""
    if keysym in MODIFIER_KEYSYMS:
        return ""
    key = key_name(keysym) or key_from_virtual_key(virtual_key) or keysym.lower()
    ordered = [m for m in ("ctrl", "alt", "shift", "super") if m in modifiers]
    return "+".join((*ordered, key))


class HotkeyRecorder:
    """One hotkey slot's button. `on_combo(spelling)` gets the recorded combo ("" to clear)."""

    def __init__(self, parent: tkinter.Misc, combo: str, on_combo: Callable[[str], None],
                 on_recording: Callable[[bool], None], may_clear: bool) -> None:
        """`on_combo` and `on_recording` are called on the Tk thread."""
        self._on_combo, self._on_recording, self._may_clear = on_combo, on_recording, may_clear
        self._held: set[str] = set()
        # Windows' Tk gives the virtual key as the keycode, which names a key whatever it types.
        self._windowing = str(parent.tk.call("tk", "windowingsystem"))
        self.recording = False
        self.combo = combo
        self.button = ttk.Button(parent, text=self._shown(), command=self.start, width=24)
        self.button.bind("<KeyPress>", self._key_down)
        self.button.bind("<KeyRelease>", self._key_up)
        self.button.bind("<FocusOut>", lambda event: self.stop())

    def _shown(self) -> str:
        return self.combo or "(none)"

    def show(self, combo: str) -> None:
        self.combo = combo
        if not self.recording:
            self.button.configure(text=self._shown())

    def start(self) -> None:
        """Enter, Space or a click on the button: the next combo pressed is the new hotkey."""
        if self.recording:
            return
        self.recording = True
        self._held = set()
        self.button.configure(text="Press the new combo… (Esc: keep)")
        self._on_recording(True)

    def stop(self) -> None:
        if self.recording:
            self.recording = False
            self.button.configure(text=self._shown())
            self._on_recording(False)

    def _key_down(self, event: tkinter.Event) -> str | None:  # type: ignore[type-arg]
        """Tk thread: a key pressed while the button has the focus."""
        keysym = event.keysym
        if not self.recording:
            if keysym in ("Return", "KP_Enter"):  # Enter starts, as Space does for every button
                self.start()
                return "break"
            return None
        if keysym in MODIFIER_KEYSYMS:
            self._held.add(MODIFIER_KEYSYMS[keysym])
            return "break"
        bits = STATE_BITS.get(self._windowing, STATE_BITS["x11"])
        modifiers = self._held | {name for name, bit in bits.items() if int(event.state) & bit}
        if not modifiers and keysym == "Escape":
            self.stop()
        elif not modifiers and keysym in ("BackSpace", "Delete") and self._may_clear:
            self.stop()
            self._on_combo("")
        else:
            spelling = combo_spelling(modifiers, keysym, int(event.keycode) if self._windowing == "win32" else 0)
            self.stop()
            self._on_combo(spelling)
        return "break"

    def _key_up(self, event: tkinter.Event) -> str | None:  # type: ignore[type-arg]
        """Tk thread."""
        if event.keysym in MODIFIER_KEYSYMS:
            self._held.discard(MODIFIER_KEYSYMS[event.keysym])
        return "break" if self.recording else None
