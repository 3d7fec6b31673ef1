"""The "win32-input" thread: every input registration Windows ties to one thread and its message loop.

Three things live here because each needs a thread that pumps messages:

- hotkeys, through RegisterHotKey. Windows matches the combo itself (no hook a
  busy Python can lose, no key state that goes stale after Win+L or UAC),
  swallows it (an AltGr layout's Ctrl+Alt+letter types nothing), reports a combo
  another program holds (ERROR_HOTKEY_ALREADY_REGISTERED), and the WM_HOTKEY it
  posts counts as input, which gives the agent the right to bring its picker
  to the front;
- the foreground watch (SetWinEventHook, EVENT_SYSTEM_FOREGROUND): the last
  window the person was in that is neither the agent's nor the shell's, since
  a click on the tray makes the taskbar, then pystray's own window, foreground;
- the picker's keyboard hold (`windows_hold`): a low-level keyboard hook that
  lives only from the picker hotkey until the picker has the keyboard, swallowing
  what the person types meanwhile so it filters the picker instead of
  overwriting their selection. Its callback does no more than note a key.
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
from typing import Any, TypeVar

from phitray.errors import DesktopError
from phitray.hotkeys import Combo

assert sys.platform == "win32"

from phitray.desktop.windows_api import WNDENUMPROC, CallQueue, class_name, declare, window_process  # noqa: E402
from phitray.desktop.windows_rules import altgr_problem  # noqa: E402

log = logging.getLogger(__name__)
T = TypeVar("T")

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

WM_HOTKEY, WM_APP = 0x0312, 0x8000
MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
MOD_FLAGS = {"ctrl": MOD_CONTROL, "alt": MOD_ALT, "shift": MOD_SHIFT, "super": MOD_WIN}
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
EVENT_SYSTEM_FOREGROUND, WINEVENT_OUTOFCONTEXT = 0x0003, 0x0000
WH_KEYBOARD_LL, WM_KEYDOWN, WM_SYSKEYDOWN, LLKHF_INJECTED = 13, 0x0100, 0x0104, 0x10
GWL_EXSTYLE, WS_EX_TOOLWINDOW = -20, 0x00000080
HOLD_LIMIT_SECONDS = 5.0
GUARD_TAIL_SECONDS = 0.15  # WM_HOTKEY is posted, so it may arrive a moment after SendInput returns  # a person's keyboard must never stay taken
# Windows of the shell that a click on the tray or the taskbar brings to the front.
SHELL_CLASSES = frozenset({
    "Shell_TrayWnd", "Shell_SecondaryTrayWnd", "NotifyIconOverflowWindow", "TopLevelWindowForOverflowXamlIsland",
    "Progman", "WorkerW", "Windows.UI.Core.CoreWindow", "XamlExplorerHostIslandWindow", "TaskListThumbnailWnd",
    "#32768",  # a popup menu
})

# Our key names -> virtual-key codes. Punctuation is the US layout's OEM keys, as combos are spelled.
VIRTUAL_KEYS: dict[str, int] = {
    "space": 0x20, "enter": 0x0D, "tab": 0x09, "esc": 0x1B, "backspace": 0x08, "delete": 0x2E, "insert": 0x2D,
    "home": 0x24, "end": 0x23, "page_up": 0x21, "page_down": 0x22, "up": 0x26, "down": 0x28, "left": 0x25,
    "right": 0x27, "pause": 0x13, "`": 0xC0, "-": 0xBD, "=": 0xBB, "[": 0xDB, "]": 0xDD, "\\": 0xDC, ";": 0xBA,
    "'": 0xDE, ",": 0xBC, ".": 0xBE, "/": 0xBF,
    **{f"f{n}": 0x6F + n for n in range(1, 25)},
    **{c: ord(c.upper()) for c in "abcdefghijklmnopqrstuvwxyz0123456789"},
}
VK_SHIFT, VK_CONTROL, VK_MENU = 0x10, 0x11, 0x12
VK_BACK, VK_RETURN, VK_ESCAPE = 0x08, 0x0D, 0x1B
MODIFIER_VKS = frozenset({0x10, 0x11, 0x12, 0x14, 0x5B, 0x5C, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5})

WINEVENTPROC = ctypes.WINFUNCTYPE(None, wintypes.HANDLE, wintypes.DWORD, wintypes.HWND, wintypes.LONG,
                                  wintypes.LONG, wintypes.DWORD, wintypes.DWORD)
HOOKPROC = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, ctypes.c_int, wintypes.WPARAM, wintypes.LPARAM)


class KBDLLHOOKSTRUCT(ctypes.Structure):
    _fields_ = [("vkCode", wintypes.DWORD), ("scanCode", wintypes.DWORD), ("flags", wintypes.DWORD),
                ("time", wintypes.DWORD), ("dwExtraInfo", ctypes.c_size_t)]


declare(user32, (
    ("RegisterHotKey", [wintypes.HWND, ctypes.c_int, wintypes.UINT, wintypes.UINT], wintypes.BOOL),
    ("UnregisterHotKey", [wintypes.HWND, ctypes.c_int], wintypes.BOOL),
    ("GetMessageW", [ctypes.POINTER(wintypes.MSG), wintypes.HWND, wintypes.UINT, wintypes.UINT], wintypes.BOOL),
    ("PeekMessageW", [ctypes.POINTER(wintypes.MSG), wintypes.HWND, wintypes.UINT, wintypes.UINT, wintypes.UINT],
     wintypes.BOOL),
    ("TranslateMessage", [ctypes.POINTER(wintypes.MSG)], wintypes.BOOL),
    ("DispatchMessageW", [ctypes.POINTER(wintypes.MSG)], ctypes.c_ssize_t),
    ("PostThreadMessageW", [wintypes.DWORD, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM], wintypes.BOOL),
    ("SetWinEventHook", [wintypes.DWORD, wintypes.DWORD, wintypes.HMODULE, WINEVENTPROC, wintypes.DWORD,
                         wintypes.DWORD, wintypes.DWORD], wintypes.HANDLE),
    ("UnhookWinEvent", [wintypes.HANDLE], wintypes.BOOL),
    ("SetWindowsHookExW", [ctypes.c_int, HOOKPROC, wintypes.HINSTANCE, wintypes.DWORD], wintypes.HHOOK),
    ("UnhookWindowsHookEx", [wintypes.HHOOK], wintypes.BOOL),
    ("CallNextHookEx", [wintypes.HHOOK, ctypes.c_int, wintypes.WPARAM, wintypes.LPARAM], ctypes.c_ssize_t),
    ("GetForegroundWindow", [], wintypes.HWND),
    ("GetKeyboardLayout", [wintypes.DWORD], wintypes.HKL),
    ("ToUnicodeEx", [wintypes.UINT, wintypes.UINT, ctypes.POINTER(ctypes.c_ubyte), wintypes.LPWSTR, ctypes.c_int,
                     wintypes.UINT, wintypes.HKL], ctypes.c_int),
    ("GetAsyncKeyState", [ctypes.c_int], ctypes.c_short),
    ("GetShellWindow", [], wintypes.HWND),
    ("FindWindowW", [wintypes.LPCWSTR, wintypes.LPCWSTR], wintypes.HWND),
    ("IsWindow", [wintypes.HWND], wintypes.BOOL),
    ("IsWindowVisible", [wintypes.HWND], wintypes.BOOL),
    ("GetWindowLongW", [wintypes.HWND, ctypes.c_int], wintypes.LONG),
    ("EnumWindows", [WNDENUMPROC, wintypes.LPARAM], wintypes.BOOL),
))
declare(kernel32, (
    ("GetCurrentThreadId", [], wintypes.DWORD),
    ("GetModuleHandleW", [wintypes.LPCWSTR], wintypes.HMODULE),
))


def hotkey_flags(combo: Combo) -> tuple[int, int]:
    """RegisterHotKey's modifier flags and virtual key for a combo. MOD_NOREPEAT: holding the combo
    fires it once, not at the keyboard's repeat rate."""
    flags = MOD_NOREPEAT
    for modifier in combo.modifiers:
        flags |= MOD_FLAGS[modifier]
    return flags, VIRTUAL_KEYS[combo.key]


def typed_character(vk: int, shift: bool, ctrl_alt: bool, layout: Any) -> str:
    """The character `vk` types in `layout` with these modifiers ("" for none), without touching the
    keyboard state of any thread (flag 4, Windows 10 1607 and later)."""
    state = (ctypes.c_ubyte * 256)()
    if shift:
        state[VK_SHIFT] = 0x80
    if ctrl_alt:  # AltGr is Ctrl+Alt to Windows
        state[VK_CONTROL] = state[VK_MENU] = 0x80
    buffer = ctypes.create_unicode_buffer(8)
    count = user32.ToUnicodeEx(vk, 0, state, buffer, 8, 4, layout)
    return buffer.value[:count] if count > 0 else ""


class InputThread:
    """The "win32-input" thread and its message loop. `call` runs work on it and waits for the result.
    A daemon thread: it lives as long as the agent (hotkeys are rebound on it, never moved)."""

    def __init__(self) -> None:
        self._calls = CallQueue()
        self._handlers: dict[int, Callable[[wintypes.MSG], None]] = {}
        self._thread_id = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="win32-input", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise DesktopError("The hotkey thread did not start.")

    def call(self, work: Callable[[], T], timeout: float = 5.0) -> T:
        if threading.current_thread() is self._thread:
            return work()
        future = self._calls.put(work)
        user32.PostThreadMessageW(self._thread_id, WM_APP, 0, 0)
        return future.result(timeout=timeout)

    def on_message(self, message: int, handler: Callable[[wintypes.MSG], None]) -> None:
        """Thread messages of this kind (WM_HOTKEY) go to `handler`, on this thread."""
        self._handlers[message] = handler

    def _loop(self) -> None:
        """The "win32-input" thread: pumps messages, which also runs the hooks' callbacks, for the process's life."""
        message = wintypes.MSG()
        # A thread has a message queue only once it asks for one; PostThreadMessage fails before that.
        user32.PeekMessageW(ctypes.byref(message), None, 0, 0, 0)
        self._thread_id = kernel32.GetCurrentThreadId()
        self._ready.set()
        while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            try:
                if not message.hWnd and message.message == WM_APP:
                    self._calls.run_all()
                elif not message.hWnd and message.message in self._handlers:
                    self._handlers[message.message](message)
                else:
                    user32.TranslateMessage(ctypes.byref(message))
                    user32.DispatchMessageW(ctypes.byref(message))
            except Exception:  # the loop must outlive any one message
                log.exception("win32-input message %#x failed", message.message)


class ForegroundWatch:
    """The last window in front that is neither the agent's nor the shell's."""

    def __init__(self, thread: InputThread) -> None:
        self._own_process = os.getpid()
        self._last: int | None = None
        self._proc = WINEVENTPROC(self._changed)  # kept referenced: Windows calls it
        self._hook = thread.call(self._install)

    @property
    def last(self) -> int | None:
        """The person's window the hook saw last; without one (a hook that never fired, a window since
        closed), the person's window highest in the z-order, which a click on the tray leaves in place."""
        if self._last is not None and user32.IsWindow(self._last):
            return self._last
        return self._highest()

    def _highest(self) -> int | None:
        found: list[int] = []

        def visit(window: Any, _: int) -> bool:
            if (user32.IsWindowVisible(window) and not user32.GetWindowLongW(window, GWL_EXSTYLE) & WS_EX_TOOLWINDOW
                    and self.is_persons(window)):
                found.append(int(window))
                return False
            return True
        user32.EnumWindows(WNDENUMPROC(visit), 0)  # top-level windows, topmost first
        return found[0] if found else None

    def _install(self) -> Any:
        self._note(user32.GetForegroundWindow())
        hook = user32.SetWinEventHook(EVENT_SYSTEM_FOREGROUND, EVENT_SYSTEM_FOREGROUND, None, self._proc, 0, 0,
                                      WINEVENT_OUTOFCONTEXT)
        if not hook:
            log.warning("no foreground watch (error %s): the tray's picker works on the window in front",
                        ctypes.get_last_error())
        return hook

    def _changed(self, hook: Any, event: int, window: Any, object_id: int, child_id: int, thread: int, at: int) -> None:
        """Called on the win32-input thread when another program's window comes to the front."""
        try:
            self._note(window)
        except Exception:  # nothing may cross back into Windows
            log.exception("foreground watch failed")

    def _note(self, window: Any) -> None:
        if window and self.is_persons(window):
            self._last = int(window)

    def is_persons(self, window: Any) -> bool:
        """A window the person works in: not the agent's own, not the taskbar, tray or desktop (the shell's
        process owns those; of its windows only File Explorer's hold text a person selects)."""
        process, kind = window_process(window), class_name(window)
        if process == self._own_process or kind in SHELL_CLASSES:
            return False
        return process != shell_process() or kind == "CabinetWClass"


def shell_process() -> int:
    """The process of the taskbar and the desktop (Explorer), asked each time: it restarts after a crash.
    By process rather than by window class alone: Windows (and Wine) cannot name the class of every
    window another process registered."""
    shell = user32.GetShellWindow() or user32.FindWindowW("Shell_TrayWnd", None)
    return window_process(shell) if shell else 0


class SyntheticGuard:
    """Up while the agent sends keys and a moment after; hotkeys do nothing meanwhile.

    Windows posts WM_HOTKEY for injected keys too, and the agent's own keys must
    never run an action.
    """

    def __init__(self) -> None:
        self._until = 0.0

    def hold(self) -> None:
        self._until = float("inf")

    def release(self) -> None:
        self._until = time.monotonic() + GUARD_TAIL_SECONDS

    def active(self) -> bool:
        return time.monotonic() < self._until


class HotkeyRegistry:
    """Global hotkeys through RegisterHotKey on the input thread. Callbacks only hand work on."""

    def __init__(self, thread: InputThread, guard: SyntheticGuard) -> None:
        self._thread = thread
        self._guard = guard
        self._callbacks: dict[int, Callable[[], None]] = {}
        self.problems: list[str] = []
        self.bound_keys: frozenset[int] = frozenset()  # the bound combos' keys, which a capture waits to go up
        thread.on_message(WM_HOTKEY, self._pressed)

    def start(self, bindings: dict[Combo, Callable[[], None]]) -> list[str]:
        self.stop()
        self.problems = self._thread.call(lambda: self._register(bindings))
        for problem in self.problems:
            log.warning("hotkey %s", problem)
        return self.problems

    def _register(self, bindings: dict[Combo, Callable[[], None]]) -> list[str]:
        problems = []
        for number, (combo, callback) in enumerate(bindings.items(), start=1):
            flags, vk = hotkey_flags(combo)
            if user32.RegisterHotKey(None, number, flags, vk):
                self._callbacks[number] = callback
                self.bound_keys |= {vk}
                continue
            error = ctypes.get_last_error()
            if error == ERROR_HOTKEY_ALREADY_REGISTERED:
                problems.append(f"{combo} is already taken by another program")
            else:
                problems.append(f"{combo}: Windows refused it (error {error})")
        problems += [problem for combo in bindings if (problem := layout_problem(combo))]
        return problems

    def stop(self) -> None:
        def unregister() -> None:
            for number in self._callbacks:
                user32.UnregisterHotKey(None, number)
            self._callbacks = {}
            self.bound_keys = frozenset()
        self._thread.call(unregister)

    def _pressed(self, message: wintypes.MSG) -> None:
        """Called on the win32-input thread for WM_HOTKEY: hands work on and returns; never raises."""
        callback = self._callbacks.get(int(message.wParam))
        if callback is None or self._guard.active():
            return
        try:
            callback()
        except Exception:
            log.exception("hotkey callback failed")


def layout_problem(combo: Combo) -> str:
    """`windows_rules.altgr_problem` for the keyboard layout of the window in front."""
    if "super" in combo.modifiers or not {"ctrl", "alt"} <= set(combo.modifiers):
        return ""
    window = user32.GetForegroundWindow()
    layout = user32.GetKeyboardLayout(user32.GetWindowThreadProcessId(window, None) if window else 0)
    character = typed_character(VIRTUAL_KEYS[combo.key], "shift" in combo.modifiers, True, layout)
    return altgr_problem(combo, character)
