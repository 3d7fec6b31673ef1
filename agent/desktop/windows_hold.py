"""The picker's keyboard hold on Windows: from the picker hotkey until the picker has the keyboard, what the
person types is swallowed and kept for the picker, instead of overwriting their selection.

The hotkey (WM_HOTKEY counts as input) gives the agent the right to bring its picker to the front, but
Windows takes that right back at the person's next input that goes elsewhere, and Tk's focus_force then
fails without a word. So the hold lets go only once a window of the agent's is in front: when the picker
asks for what was typed and one is not, the hook stays, the agent asks for the front again for up to
CLAIM_SECONDS, and what is typed meanwhile is typed again into the picker once it is in front. Either way
a "picker-foreground" milestone says whether it got there and how long it took.
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
from typing import Any

from phitray.logs import milestone

assert sys.platform == "win32"

from phitray.desktop.windows_api import WNDENUMPROC, declare, window_process  # noqa: E402
from phitray.desktop.windows_input import (  # noqa: E402
    HOLD_LIMIT_SECONDS, HOOKPROC, KBDLLHOOKSTRUCT, LLKHF_INJECTED, MODIFIER_VKS, VK_BACK, VK_ESCAPE, VK_RETURN,
    VK_SHIFT, WH_KEYBOARD_LL, WM_KEYDOWN, WM_SYSKEYDOWN, InputThread, kernel32, typed_character, user32,
)
from phitray.desktop.windows_rules import replay_events  # noqa: E402

log = logging.getLogger(__name__)

CLAIM_SECONDS = 2.0
CLAIM_STEP_SECONDS = 0.1
Typed = list[tuple[int, bool]]  # (virtual key, shift held)

declare(user32, (
    ("SetForegroundWindow", [wintypes.HWND], wintypes.BOOL),
    ("GetWindowThreadProcessId", [wintypes.HWND, ctypes.POINTER(wintypes.DWORD)], wintypes.DWORD),
))


def agent_in_front() -> bool:
    window = user32.GetForegroundWindow()
    return bool(window) and window_process(window) == os.getpid()


def agents_window() -> int | None:
    """The agent's visible top-level window highest in the z-order (the picker, which is topmost)."""
    found: list[int] = []

    def visit(window: Any, _: int) -> bool:
        if user32.IsWindowVisible(window) and window_process(window) == os.getpid():
            found.append(int(window))
            return False
        return True
    user32.EnumWindows(WNDENUMPROC(visit), 0)
    return found[0] if found else None


class KeyboardHold:
    """Keys typed between the picker hotkey and the picker having the keyboard: swallowed and kept for it."""

    def __init__(self, thread: InputThread) -> None:
        self._thread = thread
        self._proc = HOOKPROC(self._key)  # kept referenced: Windows calls it
        self._hook: Any = None
        self._typed: Typed = []
        self._timer: threading.Timer | None = None
        self._layout: Any = None
        self.send: Callable[[list[tuple[int, bool]]], None] | None = None  # SendInput, for keys typed again

    def hold(self) -> None:
        def install() -> bool:
            if self._hook:
                return False
            self._typed = []
            window = user32.GetForegroundWindow()
            self._layout = user32.GetKeyboardLayout(user32.GetWindowThreadProcessId(window, None) if window else 0)
            self._hook = user32.SetWindowsHookExW(WH_KEYBOARD_LL, self._proc, kernel32.GetModuleHandleW(None), 0)
            if not self._hook:
                log.info("could not hold the keyboard for the picker (error %s)", ctypes.get_last_error())
            return bool(self._hook)
        if not self._thread.call(install):
            return
        self._timer = threading.Timer(HOLD_LIMIT_SECONDS, self._let_go)
        self._timer.daemon = True
        self._timer.start()

    def release(self, not_in_front: Callable[[], None] | None = None) -> str:
        """What was typed while held, with backspaces applied ("\n" Enter, "\x1b" Esc). The keyboard is given
        back now if a window of the agent's is in front, else once one is (see the module). Tk thread."""
        if self._timer is not None:
            self._timer.cancel()
        held = bool(self._thread.call(lambda: self._hook))
        if not held or agent_in_front():
            typed = self._thread.call(self._unhook)
            if held:
                milestone("picker-foreground", got=True, waited_ms=0)
        else:
            typed = self._thread.call(self._take_typed)  # the hook stays while the front is claimed
            threading.Thread(target=self._claim_front, args=(not_in_front,), name="win32-claim-front",
                             daemon=True).start()
        if typed:
            log.info("keyboard given back; %d keys were typed while the agent held it", len(typed))
        return self._text(typed)

    def _claim_front(self, not_in_front: Callable[[], None] | None) -> None:
        """The "win32-claim-front" thread: ask for the front until a window of the agent's has it, then let go
        and type again what was typed meanwhile; after CLAIM_SECONDS, let go all the same."""
        started = time.monotonic()
        while time.monotonic() - started < CLAIM_SECONDS and not agent_in_front():
            window = agents_window()
            if window is not None:
                self._thread.call(lambda: user32.SetForegroundWindow(window))
            time.sleep(CLAIM_STEP_SECONDS)
        got = agent_in_front()
        typed = self._thread.call(self._unhook)
        waited = round((time.monotonic() - started) * 1000)
        milestone("picker-foreground", got=got, waited_ms=waited)
        if not got:
            log.warning("the picker did not come to the front in %d ms; the keyboard is given back", waited)
            if not_in_front is not None:
                not_in_front()  # a picker left behind another window would take nothing the person types
        elif typed and self.send is not None:
            self.send(replay_events(typed))

    def _let_go(self) -> None:
        """A timer's thread: the picker never asked (it did not open); the keyboard must not stay taken."""
        self._thread.call(self._unhook)

    def _unhook(self) -> Typed:
        """win32-input thread."""
        if self._hook:
            user32.UnhookWindowsHookEx(self._hook)
            self._hook = None
        return self._take_typed()

    def _take_typed(self) -> Typed:
        """win32-input thread."""
        typed, self._typed = self._typed, []
        return typed

    def _text(self, typed: Typed) -> str:
        text = ""
        for vk, shift in typed:
            piece = {VK_BACK: "\b", VK_RETURN: "\n", VK_ESCAPE: "\x1b"}.get(vk) or typed_character(
                vk, shift, False, self._layout)
            text = text[:-1] if piece == "\b" else text + piece
        return text

    def _key(self, code: int, kind: int, data: int) -> int:
        """Called on the win32-input thread for every key while held: notes a key press, nothing slower
        (Windows removes a low-level hook that keeps it waiting)."""
        try:
            if code == 0 and kind in (WM_KEYDOWN, WM_SYSKEYDOWN):
                key = KBDLLHOOKSTRUCT.from_address(data)
                # The agent's own Ctrl+C passes, and so do modifiers: the hotkey's keys are still down.
                if not key.flags & LLKHF_INJECTED and key.vkCode not in MODIFIER_VKS:
                    self._typed.append((int(key.vkCode), bool(user32.GetAsyncKeyState(VK_SHIFT) & 0x8000)))
                    return 1
        except Exception:
            log.exception("keyboard hold failed")
        return int(user32.CallNextHookEx(None, code, kind, data))
