"""A scripted editor, clipboard and keyboard at the project's desktop seam (phitray.desktop).

It acts as an editor does: Ctrl+C copies the selection, Ctrl+V replaces it with
the clipboard. It records every step, so the order of the capture/delivery
sequence can be checked, and faults (nothing selected, a paste the window
ignores) are one flag away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from phitray.desktop import Desktop, WindowTraits
from phitray.hotkeys import Combo


@dataclass
class ScriptedDesktop:
    """An editor window, the clipboard and the keyboard, as plain data."""

    text: str = ""
    selection: tuple[int, int] | None = None
    clipboard: tuple[str, ...] = ("the person's clipboard",)  # a snapshot is the whole tuple
    held_polls: int = 2  # the hotkey's keys stay down for this many polls
    paste_works: bool = True
    front: int | None = 7  # the window in front; the editor is window 7
    activation_works: bool = True
    traits_of_editor: WindowTraits = WindowTraits()
    terminals: tuple[str, ...] = ()  # what the daemon told the focus of the person's own terminals
    copy_delay: float = 0.0  # seconds the editor takes to put its selection on the clipboard (Word can take 1)
    picker_front_refused: bool = False  # Windows keeps another window in front of the picker for good
    mark: int = 0
    steps: list[str] = field(default_factory=list)
    hotkey_starts: list[list[str]] = field(default_factory=list)  # the combos of each binding, in order

    # Keys
    def any_key_held(self) -> bool:
        self.held_polls -= 1
        return self.held_polls >= 0

    def modifiers_held(self) -> tuple[str, ...]:
        return ("ctrl", "alt") if self.held_polls > 0 else ()

    def release_modifiers(self) -> None:
        self.steps.append("release")

    def send_copy(self, terminal: bool = False) -> None:
        self.steps.append("copy" + (" (terminal)" if terminal else ""))
        if self.front != 7:
            return  # Ctrl+C went to another window
        if self.any_key_held_now():
            return  # a held Alt turns Ctrl+C into something else
        if self.selection:
            selected = (self.text[self.selection[0]:self.selection[1]],)
            landing = threading.Timer(self.copy_delay, self._copied, (selected,))
            landing.daemon = True
            landing.start()

    def _copied(self, selected: tuple[str, ...]) -> None:
        """The editor's copy lands, on a timer thread after copy_delay."""
        self.clipboard = selected
        self.mark += 1

    def any_key_held_now(self) -> bool:
        return self.held_polls > 0

    def send_paste(self, terminal: bool = False) -> None:
        self.steps.append("paste" + (" (terminal)" if terminal else ""))
        if self.front == 7 and self.paste_works and self.selection:
            start, end = self.selection
            self.text = self.text[:start] + self.clipboard[0] + self.text[end:]
            self.selection = None
            self.taken.set()

    def send_undo(self) -> None:
        self.steps.append("undo")

    def hold_keyboard(self) -> None:
        self.steps.append("hold")

    def release_keyboard(self, not_in_front: Callable[[], None] | None = None) -> str:
        self.steps.append("release keyboard")
        if self.picker_front_refused and not_in_front is not None:
            threading.Thread(target=not_in_front, name="scripted-claim-front").start()
        return ""

    # Clipboard
    def snapshot(self) -> tuple[str, ...]:
        self.steps.append("snapshot")
        return self.clipboard

    def restore(self, snapshot: object) -> None:
        self.steps.append("restore")
        assert isinstance(snapshot, tuple)
        self.clipboard = snapshot

    def change_mark(self) -> int:
        return self.mark

    def wait_for_change(self, mark: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.mark == mark and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.mark != mark

    def read_text(self, max_chars: int | None = None) -> str | None:
        return self.clipboard[0] if self.clipboard else None

    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None:
        return None

    def read_html(self, primary: bool = False, max_bytes: int = 8_000_000) -> str | None:
        return None

    def selection_has_html(self) -> bool:
        return True

    def offer_text(self, text: str, html: str | None = None) -> "ScriptedDesktop":
        self.steps.append("offer")
        self.clipboard = (text,)
        self.taken = threading.Event()
        return self

    def keep_text(self, text: str) -> None:
        self.steps.append("keep")
        self.clipboard = (text,)

    def expect_paste(self, window: int | None) -> None:
        self.steps.append(f"expect paste in {window}")

    def wait_taken(self, timeout: float) -> bool:
        return self.taken.wait(timeout)

    def close(self) -> None:
        pass

    # Focus and hotkeys
    def current(self) -> int | None:
        return 7  # the person's editor, even while another window is in front (Windows' foreground watch)

    def in_front(self, window: int) -> bool:
        return self.front == window

    def activate(self, window: int) -> bool:
        self.steps.append(f"activate {window}")
        if self.activation_works:
            self.front = window
        return self.activation_works

    def traits(self, window: int | None) -> WindowTraits:
        return self.traits_of_editor if window == 7 else WindowTraits()

    def set_terminals(self, names: tuple[str, ...]) -> None:
        self.terminals = names

    def start(self, bindings: dict[Combo, object]) -> list[str]:
        self.hotkey_starts.append(sorted(str(combo) for combo in bindings))
        return []

    def stop(self) -> None:
        pass

    def desktop(self) -> Desktop:
        return Desktop(clipboard=self, keys=self, focus=self, hotkeys=self)  # type: ignore[arg-type]
