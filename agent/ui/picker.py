"""The action picker: type to filter, Enter to run, or write a custom instruction.

Opened by the picker hotkey once the selection has been captured, so it can
take the keyboard without losing the selection. Where no tray shows the agent's
icon, the tray menu's main entries follow the actions. Every method runs on the
Tk (main) thread.
"""

from __future__ import annotations

import tkinter
import tkinter.font
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from tkinter import ttk

from phitray.logs import milestone
from phitray.ui.popup import place_near_pointer, take_keyboard

WIDTH, HEIGHT = 320, 340
CUSTOM_ACTION = "custom"
MENU_MARK = "▸ "  # the menu's entries, set apart from the actions
HOTKEY_GAP = "    "  # at least this much room between the longest title and the hotkeys' column


@dataclass(frozen=True)
class MenuEntry:
    """A tray menu entry in the picker: a command (`run`, on the Tk thread) or a list of `choices`."""

    title: str
    run: Callable[[], None] | None = None
    choices: tuple[MenuEntry, ...] = ()


Entry = tuple[str, str] | MenuEntry  # an action (id, title), or a menu entry


class Picker:
    def __init__(
        self,
        root: tkinter.Tk,
        actions: list[tuple[str, str]],
        on_choose: Callable[[str, dict[str, str]], None],
        preview: str = "",
        typed: Callable[[], str] = lambda: "",
        menu: tuple[MenuEntry, ...] = (),
        hotkeys: Mapping[str, str] | None = None,
    ) -> None:
        """`on_choose(action_id, values)`; a custom instruction comes as ("custom", {"instruction": …}).
        `typed` gives the keyboard back once the picker has it, and says what was typed before it showed.
        `menu`: the tray menu's entries, listed after the actions (no tray shows the icon).
        `hotkeys`: the combo that runs an action directly, by its id, shown beside its title."""
        self._typed = typed
        self._hotkeys = {action_id: show_combo(combo) for action_id, combo in (hotkeys or {}).items()}
        self.actions = [(action_id, title) for action_id, title in actions if action_id != CUSTOM_ACTION]
        self.has_custom = any(action_id == CUSTOM_ACTION for action_id, _ in actions)
        self.on_choose = on_choose
        self.entries: list[Entry] = [*self.actions, *menu]
        self._in_submenu = False  # a menu entry's choices are listed: typed words are no instruction
        self.shown: list[Entry] = []
        self.window = tkinter.Toplevel(root)
        self.window.title("Phi Tray — pick an action")
        self.window.attributes("-topmost", True)
        self._font = tkinter.font.nametofont("TkDefaultFont", root=self.window)
        self._column = self._hotkey_column()
        width = max(WIDTH, self._column + max((self._font.measure(c) for c in self._hotkeys.values()), default=0) + 40)
        self.window.geometry(place_near_pointer(self.window, width, HEIGHT))
        frame = ttk.Frame(self.window, padding=6)
        frame.pack(fill="both", expand=True)
        if preview:
            shown = " ".join(preview.split())
            ttk.Label(frame, text=shown[:60] + ("…" if len(shown) > 60 else ""), foreground="#555").pack(fill="x")
        self.filter = ttk.Entry(frame)
        self.filter.pack(fill="x", pady=(4, 4))
        self.listbox = tkinter.Listbox(frame, height=10, activestyle="dotbox", exportselection=False)
        self.listbox.pack(fill="both", expand=True)
        self.custom = ttk.Entry(frame)
        if self.has_custom:
            ttk.Label(frame, text="Or tell it what to do:").pack(fill="x", pady=(6, 0))
            self.custom.pack(fill="x")
            self.custom.bind("<Return>", lambda event: self._choose_custom())
        self.filter.bind("<KeyRelease>", self._refilter)
        self.filter.bind("<Return>", lambda event: self._choose_listed())
        self.filter.bind("<Down>", lambda event: self._move(1))
        self.filter.bind("<Up>", lambda event: self._move(-1))
        self.listbox.bind("<Return>", lambda event: self._choose_listed())
        self.listbox.bind("<Double-Button-1>", lambda event: self._choose_listed())
        self.window.bind("<Escape>", lambda event: self.close())
        self._refilter()
        take_keyboard(self.window, lambda: self.filter, then=self._take_typed)
        milestone("window-opened", window="picker")

    def _take_typed(self) -> None:
        """What the person typed between the hotkey and the picker showing, as if typed into it."""
        typed = self._typed()
        if "\x1b" in typed:
            self.close()
            return
        text = typed.split("\n")[0]
        if text:
            self.filter.insert("end", text)
            self._refilter()
        if "\n" in typed:
            self._choose_listed()

    def _refilter(self, event: object = None) -> None:
        if event is not None and getattr(event, "keysym", "") in ("Up", "Down", "Return", "Escape"):
            return
        words = self.filter.get().lower().split()
        self.shown = [entry for entry in self.entries if all(w in _words(entry) for w in words)]
        self.listbox.delete(0, "end")
        for entry in self.shown:
            self.listbox.insert("end", MENU_MARK + entry.title if isinstance(entry, MenuEntry) else self._row(entry))
        if self.shown:
            self.listbox.selection_set(0)

    def _hotkey_column(self) -> int:
        """Where the hotkeys' column starts, in pixels: past the longest title of an action that has one."""
        titles = [title for action_id, title in self.actions if action_id in self._hotkeys]
        return max((self._font.measure(title + HOTKEY_GAP) for title in titles), default=0)

    def _row(self, action: tuple[str, str]) -> str:
        """An action's line: its title, and its hotkey lined up in a column with spaces (a listbox has no tabs)."""
        action_id, title = action
        combo = self._hotkeys.get(action_id)
        if not combo:
            return title
        padding = " " * max(2, round((self._column - self._font.measure(title)) / max(1, self._font.measure(" "))))
        return f"{title}{padding}{combo}"

    def _move(self, step: int) -> str:
        if self.shown:
            current = (self.listbox.curselection() or (0,))[0]
            index = max(0, min(len(self.shown) - 1, current + step))
            self.listbox.selection_clear(0, "end")
            self.listbox.selection_set(index)
            self.listbox.see(index)
        return "break"

    def _choose_listed(self) -> None:
        selected = self.listbox.curselection()
        if not self.shown:
            if self.has_custom and self.filter.get().strip() and not self._in_submenu:  # no match: an instruction
                self._finish(CUSTOM_ACTION, {"instruction": self.filter.get().strip()})
            return
        entry = self.shown[selected[0] if selected else 0]
        if not isinstance(entry, MenuEntry):
            self._finish(entry[0], {})
        elif entry.choices:  # a submenu: its choices take the list's place
            self.entries, self._in_submenu = list(entry.choices), True
            self.filter.delete(0, "end")
            self._refilter()
        elif entry.run is not None:
            self.close()
            entry.run()

    def _choose_custom(self) -> None:
        instruction = self.custom.get().strip()
        if instruction:
            self._finish(CUSTOM_ACTION, {"instruction": instruction})

    def _finish(self, action_id: str, values: dict[str, str]) -> None:
        self.close()
        self.on_choose(action_id, values)

    def close(self) -> None:
        if self.window.winfo_exists():
            self.window.destroy()


def _words(entry: Entry) -> str:
    """What typing in the filter matches an entry by."""
    return entry.title.lower() if isinstance(entry, MenuEntry) else f"{entry[1]} {entry[0]}".lower()


def show_combo(combo: str) -> str:
    """A combo as people write it: "ctrl+alt+p" → "Ctrl+Alt+P"."""
    return "+".join(part[:1].upper() + part[1:] for part in combo.split("+"))
