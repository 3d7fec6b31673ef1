"""Windows: keys through ctypes (user32 SendInput), hotkeys through `keyboard`; the clipboard is in
`windows_clipboard`.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
import time
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

from phitray.desktop import Desktop
from phitray.errors import DesktopError
from phitray.hotkeys import MODIFIERS, Combo

assert sys.platform == "win32"  # before the next import: type checkers for Linux stop here, as for that module

from phitray.desktop.windows_clipboard import WinClipboard, declare  # noqa: E402

log = logging.getLogger(__name__)

user32 = ctypes.WinDLL("user32", use_last_error=True)

INPUT_KEYBOARD, KEYEVENTF_KEYUP = 1, 0x0002
# Marks the agent's own SendInput events (PowerToys does the same with dwExtraInfo).
INJECTED_TAG = 0x50485459  # "PHTY"
VK_MODIFIERS = {"ctrl": (0xA2, 0xA3), "alt": (0xA4, 0xA5), "shift": (0xA0, 0xA1), "super": (0x5B, 0x5C)}
VK_C, VK_V, VK_Z, VK_LCONTROL = 0x43, 0x56, 0x5A, 0xA2
GUARD_TAIL_SECONDS = 0.15


class KEYBDINPUT(ctypes.Structure):
    _fields_ = [("wVk", wintypes.WORD), ("wScan", wintypes.WORD), ("dwFlags", wintypes.DWORD),
                ("time", wintypes.DWORD), ("dwExtraInfo", ctypes.c_size_t)]


class _INPUTUNION(ctypes.Union):
    _fields_ = [("ki", KEYBDINPUT), ("padding", ctypes.c_byte * 32)]


class INPUT(ctypes.Structure):
    _fields_ = [("type", wintypes.DWORD), ("union", _INPUTUNION)]


declare(user32, (
    ("SendInput", [wintypes.UINT, ctypes.POINTER(INPUT), ctypes.c_int], wintypes.UINT),
    ("GetAsyncKeyState", [ctypes.c_int], ctypes.c_short),
    ("GetForegroundWindow", [], wintypes.HWND),
    ("SetForegroundWindow", [wintypes.HWND], wintypes.BOOL),
    ("IsWindow", [wintypes.HWND], wintypes.BOOL),
))


class SyntheticGuard:
    """Up while the agent sends keys and a moment after; hotkey callbacks do nothing meanwhile.

    `keyboard` reports no injected flag, so unlike X11 the whole moment is guarded.
    """

    def __init__(self) -> None:
        self._until = 0.0

    def hold(self) -> None:
        self._until = float("inf")

    def release(self) -> None:
        self._until = time.monotonic() + GUARD_TAIL_SECONDS

    def active(self) -> bool:
        return time.monotonic() < self._until


class WinKeys:
    def __init__(self, guard: SyntheticGuard) -> None:
        self._guard = guard
        self._lock = threading.Lock()

    def modifiers_held(self) -> tuple[str, ...]:
        return tuple(name for name in MODIFIERS if any(user32.GetAsyncKeyState(vk) & 0x8000 for vk in VK_MODIFIERS[name]))

    def any_key_held(self) -> bool:
        # 0x07 on: keyboard keys only (0x01-0x06 are mouse buttons); 0x10-0x12 duplicate the left/right ones.
        return any(user32.GetAsyncKeyState(vk) & 0x8000 for vk in range(0x08, 0xFF) if vk not in (0x10, 0x11, 0x12))

    def release_modifiers(self) -> None:
        held = [vk for name in MODIFIERS for vk in VK_MODIFIERS[name] if user32.GetAsyncKeyState(vk) & 0x8000]
        self._send([(vk, True) for vk in held])

    def send_chord(self, modifiers: list[int], key: int) -> None:
        events = [(vk, False) for vk in modifiers] + [(key, False), (key, True)] + [(vk, True) for vk in reversed(modifiers)]
        self._send(events)

    def send_copy(self) -> None:
        self.send_chord([VK_LCONTROL], VK_C)

    def send_paste(self) -> None:
        self.send_chord([VK_LCONTROL], VK_V)

    def send_undo(self) -> None:
        self.send_chord([VK_LCONTROL], VK_Z)

    def hold_keyboard(self) -> None:
        """Not on Windows yet: keys typed before the picker shows still reach the document.

        A blocking low-level hook through `keyboard` (swallow presses until the picker has the
        keyboard) was tried: installed and removed around one picker, it left every hotkey of
        `keyboard` dead under Wine. The Windows desktop layer's RegisterHotKey rework is where this
        belongs: the hotkey then grants the picker the foreground at once.
        """

    def release_keyboard(self) -> str:
        return ""

    def _send(self, events: list[tuple[int, bool]]) -> None:
        if not events:
            return
        inputs = (INPUT * len(events))()
        for slot, (vk, up) in zip(inputs, events):
            slot.type = INPUT_KEYBOARD
            slot.union.ki = KEYBDINPUT(vk, 0, KEYEVENTF_KEYUP if up else 0, 0, INJECTED_TAG)
        with self._lock:
            self._guard.hold()
            try:
                if user32.SendInput(len(events), inputs, ctypes.sizeof(INPUT)) != len(events):
                    raise DesktopError(f"Windows refused the key input (error {ctypes.get_last_error()}).")
            finally:
                self._guard.release()


class WinFocus:
    def current(self) -> int | None:
        window = user32.GetForegroundWindow()
        return int(window) if window else None

    def activate(self, window: int) -> bool:
        return bool(user32.IsWindow(window) and user32.SetForegroundWindow(window))


# Our key names -> the `keyboard` library's.
KEYBOARD_NAMES = {"super": "windows", "page_up": "page up", "page_down": "page down", "esc": "esc"}


class WinHotkeys:
    """Global hotkeys through `keyboard`'s low-level hook. Callbacks only hand work on."""

    def __init__(self, guard: SyntheticGuard) -> None:
        self._guard = guard
        self._handles: list[Any] = []
        self.problems: list[str] = []

    def start(self, bindings: dict[Combo, Callable[[], None]]) -> None:
        import keyboard

        self.stop()
        self.problems = []
        for combo, callback in bindings.items():
            spelling = "+".join(KEYBOARD_NAMES.get(part, part) for part in (*combo.modifiers, combo.key))
            try:
                self._handles.append(keyboard.add_hotkey(spelling, self._guarded(callback), suppress=False))
            except (ValueError, ImportError) as error:
                self.problems.append(f"{combo}: {error}")

    def _guarded(self, callback: Callable[[], None]) -> Callable[[], None]:
        def pressed() -> None:
            """Called on keyboard's hook thread: never blocks (Windows drops slow hooks), never raises."""
            if self._guard.active():
                return
            try:
                callback()
            except Exception:
                log.exception("hotkey callback failed")
        return pressed

    def stop(self) -> None:
        import keyboard

        for handle in self._handles:
            try:
                keyboard.remove_hotkey(handle)
            except (KeyError, ValueError):
                pass
        self._handles = []


def open_desktop() -> Desktop:
    guard = SyntheticGuard()
    return Desktop(clipboard=WinClipboard(), keys=WinKeys(guard), focus=WinFocus(), hotkeys=WinHotkeys(guard))
