"""Windows: keys through SendInput with scan codes, focus with a foreground watch; hotkeys run on the
input thread (`windows_input`), the clipboard on its own (`windows_clipboard`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from ctypes import wintypes

from phitray.desktop import Desktop, WindowTraits
from phitray.errors import DesktopError
from phitray.hotkeys import MODIFIERS

assert sys.platform == "win32"  # before the next import: type checkers for Linux stop here, as for that module

from phitray.desktop.windows_api import (  # noqa: E402
    class_name, declare, image_name, open_process, window_process, window_title)
from phitray.desktop.windows_clipboard import WinClipboard  # noqa: E402
from phitray.desktop.windows_rules import elevation_problem, keys_to_wait_for  # noqa: E402
from phitray.desktop.windows_hold import KeyboardHold  # noqa: E402
from phitray.desktop.windows_input import ForegroundWatch, HotkeyRegistry, InputThread, SyntheticGuard  # noqa: E402

log = logging.getLogger(__name__)

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)

INPUT_KEYBOARD, KEYEVENTF_EXTENDEDKEY, KEYEVENTF_KEYUP = 1, 0x0001, 0x0002
# Marks the agent's own SendInput events (PowerToys does the same with dwExtraInfo).
INJECTED_TAG = 0x50485459  # "PHTY"
VK_MODIFIERS = {"ctrl": (0xA2, 0xA3), "alt": (0xA4, 0xA5), "shift": (0xA0, 0xA1), "super": (0x5B, 0x5C)}
VK_C, VK_V, VK_Z, VK_INSERT, VK_LCONTROL, VK_LSHIFT = 0x43, 0x56, 0x5A, 0x2D, 0xA2, 0xA0
# Keys whose scan code carries the E0 prefix.
EXTENDED_VKS = frozenset({0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x2D, 0x2E, 0x5B, 0x5C, 0xA3, 0xA5})
MAPVK_VK_TO_VSC, MAPVK_VK_TO_VSC_EX = 0, 4
ACTIVATE_WAIT_SECONDS = 0.5  # SetForegroundWindow returns before the window is in front

# Consoles: Ctrl+C is SIGINT to the running program when nothing is selected; Ctrl+Insert and
# Shift+Insert copy and paste in each of these.
TERMINAL_CLASSES = frozenset({"ConsoleWindowClass", "CASCADIA_HOSTING_WINDOW_CLASS", "mintty", "VirtualConsoleClass",
                              "PuTTY", "KiTTY"})
# Word, Excel, PowerPoint, Outlook, Remote Desktop, Citrix and VMware: copies that can take seconds.
SLOW_COPY_CLASSES = frozenset({"OpusApp", "XLMAIN", "PPTFrameClass", "rctrl_renwnd32", "TscShellContainerClass",
                               "Transparent Windows Client", "VMwareUnityHostWndClass"})
TOKEN_QUERY, TOKEN_ELEVATION, ERROR_ACCESS_DENIED = 0x0008, 20, 5


class KEYBDINPUT(ctypes.Structure):
    _fields_ = [("wVk", wintypes.WORD), ("wScan", wintypes.WORD), ("dwFlags", wintypes.DWORD),
                ("time", wintypes.DWORD), ("dwExtraInfo", ctypes.c_size_t)]


class _INPUTUNION(ctypes.Union):
    _fields_ = [("ki", KEYBDINPUT), ("padding", ctypes.c_byte * 32)]


class INPUT(ctypes.Structure):
    _fields_ = [("type", wintypes.DWORD), ("union", _INPUTUNION)]


declare(user32, (
    ("SendInput", [wintypes.UINT, ctypes.POINTER(INPUT), ctypes.c_int], wintypes.UINT),
    ("MapVirtualKeyW", [wintypes.UINT, wintypes.UINT], wintypes.UINT),
    ("GetAsyncKeyState", [ctypes.c_int], ctypes.c_short),
    ("GetForegroundWindow", [], wintypes.HWND),
    ("SetForegroundWindow", [wintypes.HWND], wintypes.BOOL),
    ("IsWindow", [wintypes.HWND], wintypes.BOOL),
))
declare(kernel32, (
    ("GetCurrentProcess", [], wintypes.HANDLE),
))
declare(advapi32, (
    ("OpenProcessToken", [wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE)], wintypes.BOOL),
    ("GetTokenInformation", [wintypes.HANDLE, ctypes.c_int, wintypes.LPVOID, wintypes.DWORD,
                             ctypes.POINTER(wintypes.DWORD)], wintypes.BOOL),
))


def scan_code(vk: int) -> tuple[int, int]:
    """The scan code SendInput must carry for `vk`, and the extended-key flag. Remote desktop, Citrix and
    VM clients forward scan codes, not virtual keys: an event with a zero scan code is lost there."""
    code = user32.MapVirtualKeyW(vk, MAPVK_VK_TO_VSC_EX) or user32.MapVirtualKeyW(vk, MAPVK_VK_TO_VSC)
    # Without the flag, Insert's scan code is keypad 0's: older systems (and Wine) leave the E0 prefix out.
    extended = code >> 8 in (0xE0, 0xE1) or vk in EXTENDED_VKS
    return code & 0xFF, KEYEVENTF_EXTENDEDKEY if extended else 0


def key_inputs(events: list[tuple[int, bool]]) -> ctypes.Array[INPUT]:
    """SendInput's array for (virtual key, key-up) events, each with its scan code and the agent's tag."""
    inputs = (INPUT * len(events))()
    for slot, (vk, up) in zip(inputs, events):
        scan, flags = scan_code(vk)
        slot.type = INPUT_KEYBOARD
        slot.union.ki = KEYBDINPUT(vk, scan, flags | (KEYEVENTF_KEYUP if up else 0), 0, INJECTED_TAG)
    return inputs


class WinKeys:
    def __init__(self, guard: SyntheticGuard, hold: KeyboardHold, hotkey_keys: Callable[[], frozenset[int]]) -> None:
        self._guard = guard
        self._hold = hold
        self._hotkey_keys = hotkey_keys  # the virtual keys of the hotkeys bound now
        self._lock = threading.Lock()

    def modifiers_held(self) -> tuple[str, ...]:
        return tuple(name for name in MODIFIERS if any(user32.GetAsyncKeyState(vk) & 0x8000 for vk in VK_MODIFIERS[name]))

    def any_key_held(self) -> bool:
        # Not every key: input-method mode keys can read as held for good (windows_rules.keys_to_wait_for).
        return any(user32.GetAsyncKeyState(vk) & 0x8000 for vk in keys_to_wait_for(self._hotkey_keys()))

    def release_modifiers(self) -> None:
        held = [vk for name in MODIFIERS for vk in VK_MODIFIERS[name] if user32.GetAsyncKeyState(vk) & 0x8000]
        self._send([(vk, True) for vk in held])

    def send_chord(self, modifiers: list[int], key: int) -> None:
        events = [(vk, False) for vk in modifiers] + [(key, False), (key, True)] + [(vk, True) for vk in reversed(modifiers)]
        self._send(events)

    def send_copy(self, terminal: bool = False) -> None:
        self.send_chord([VK_LCONTROL], VK_INSERT if terminal else VK_C)

    def send_paste(self, terminal: bool = False) -> None:
        self.send_chord([VK_LSHIFT] if terminal else [VK_LCONTROL], VK_INSERT if terminal else VK_V)

    def send_undo(self) -> None:
        self.send_chord([VK_LCONTROL], VK_Z)

    def hold_keyboard(self) -> None:
        """Swallow what the person types from now until the picker has the keyboard (a low-level hook
        that lets the agent's own, injected Ctrl+C through), so it filters the picker instead."""
        self._hold.hold()

    def release_keyboard(self, not_in_front: Callable[[], None] | None = None) -> str:
        return self._hold.release(not_in_front)

    def send_events(self, events: list[tuple[int, bool]]) -> None:
        """(virtual key, key-up) events through SendInput, tagged as the agent's. Any thread."""
        self._send(events)

    def _send(self, events: list[tuple[int, bool]]) -> None:
        if not events:
            return
        inputs = key_inputs(events)
        with self._lock:
            self._guard.hold()
            try:
                if user32.SendInput(len(events), inputs, ctypes.sizeof(INPUT)) != len(events):
                    raise DesktopError(f"Windows refused the key input (error {ctypes.get_last_error()}).")
            finally:
                self._guard.release()


class WinFocus:
    def __init__(self, watch: ForegroundWatch) -> None:
        self._watch = watch
        self._own_elevation = _elevated(kernel32.GetCurrentProcess())
        self._terminals = TERMINAL_CLASSES  # and `[desktop] terminals`, swapped whole

    def current(self) -> int | None:
        window = user32.GetForegroundWindow()
        if window and self._watch.is_persons(window):
            return int(window)
        return self._watch.last  # the agent's window or the taskbar is in front: the one before it

    def in_front(self, window: int) -> bool:
        return bool(user32.GetForegroundWindow() == window)

    def activate(self, window: int) -> bool:
        """Bring `window` to the front and wait until it is there (Windows may refuse: the foreground
        lock lets only the program the person last used take it; a hotkey or a tray click counts)."""
        if not user32.IsWindow(window):
            return False
        if self.in_front(window):
            return True
        user32.SetForegroundWindow(window)
        deadline = time.monotonic() + ACTIVATE_WAIT_SECONDS
        while not self.in_front(window):
            if time.monotonic() > deadline:
                log.info("window %#x did not come to the front", window)
                return False
            time.sleep(0.01)
        return True

    def traits(self, window: int | None) -> WindowTraits:
        if not window:
            return WindowTraits()
        kind = class_name(window)
        pid = window_process(window)
        name, elevated = _process_facts(pid)
        # UIPI: keys sent into a program with higher rights than ours vanish without an error.
        return WindowTraits(terminal=kind in self._terminals, slow_copy=kind in SLOW_COPY_CLASSES,
                            unreachable=elevation_problem(name, elevated, self._own_elevation), program=name,
                            classes=(kind,) if kind else (), title=window_title(window), own=pid == os.getpid())

    def set_terminals(self, names: tuple[str, ...]) -> None:  # any thread
        self._terminals = TERMINAL_CLASSES | frozenset(names)


def _elevated(process: object) -> bool | None:
    token = wintypes.HANDLE()
    if not advapi32.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
        # A program with more rights than ours refuses to show its token: that refusal is the answer.
        return True if ctypes.get_last_error() == ERROR_ACCESS_DENIED else None
    try:
        value, size = wintypes.DWORD(), wintypes.DWORD()
        if not advapi32.GetTokenInformation(token, TOKEN_ELEVATION, ctypes.byref(value), 4, ctypes.byref(size)):
            return None
        return bool(value.value)
    finally:
        kernel32.CloseHandle(token)


def _process_facts(pid: int) -> tuple[str, bool | None]:
    """The program's file name and whether it runs elevated (None: unknown)."""
    process = open_process(pid)
    if process is None:
        return "", True if ctypes.get_last_error() == ERROR_ACCESS_DENIED else None
    try:
        return image_name(process), _elevated(process)
    finally:
        kernel32.CloseHandle(process)


def open_desktop() -> Desktop:
    guard = SyntheticGuard()
    thread = InputThread()
    watch = ForegroundWatch(thread)
    hotkeys = HotkeyRegistry(thread, guard)
    hold = KeyboardHold(thread)
    keys = WinKeys(guard, hold, lambda: hotkeys.bound_keys)
    hold.send = keys.send_events  # keys typed before the picker was in front are typed again into it
    return Desktop(clipboard=WinClipboard(), keys=keys, focus=WinFocus(watch), hotkeys=hotkeys)
