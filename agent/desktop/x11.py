"""X11: keys through XTEST, modifier state through the keymap, hotkeys through key grabs.

Nothing marks XTEST events as the agent's own, so its Ctrl+C / Ctrl+V could
complete a combo while the person still holds, say, Alt. `SyntheticGuard` is
the shared flag: `X11Keys` raises it while it sends, and `X11Hotkeys` fires
no binding while it is up.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from Xlib import X, XK, display as xdisplay
from Xlib.error import BadAccess, BadWindow, CatchError, DisplayError
from Xlib.ext import xtest
from Xlib.protocol import event as xevent

from phitray.desktop import Desktop, WindowTraits
from phitray.desktop.linux_notify import LinuxNotifier
from phitray.errors import DesktopError
from phitray.desktop.x11_clipboard import X11Clipboard
from phitray.desktop.x11_terminals import terminal_names
from phitray.desktop.x11_windows import window_traits
from phitray.hotkeys import MODIFIERS, Combo

log = logging.getLogger(__name__)

MODIFIER_KEYSYMS = {
    "ctrl": ("Control_L", "Control_R"),
    "alt": ("Alt_L", "Alt_R", "Meta_L", "Meta_R", "ISO_Level3_Shift"),
    "shift": ("Shift_L", "Shift_R"),
    "super": ("Super_L", "Super_R", "Hyper_L", "Hyper_R"),
}
# Our own key events come back through XRecord a few ms after XTEST sends them.
GUARD_TAIL_SECONDS = 0.15
# A keyboard held for the picker is given back after this long whatever happens: a person's
# keyboard must never stay taken.
HOLD_LIMIT_SECONDS = 5.0


class SyntheticGuard:
    """The keys the agent is sending (and sent a moment ago). Shared by X11Keys and X11Hotkeys.

    Only the keys themselves are guarded: a person's Ctrl+Alt+P right after the
    agent's Ctrl+C still counts, while the agent's own "c" can never complete a
    Ctrl+Alt+C the person is holding.
    """

    def __init__(self) -> None:
        self._until: dict[int, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def sending(self, keycodes: set[int]) -> Iterator[None]:
        with self._lock:
            for code in keycodes:
                self._until[code] = float("inf")
        try:
            yield
        finally:
            with self._lock:
                for code in keycodes:
                    self._until[code] = time.monotonic() + GUARD_TAIL_SECONDS

    def covers(self, keycode: int) -> bool:
        with self._lock:
            return time.monotonic() < self._until.get(keycode, 0.0)


class X11Keys:
    """Key injection and the physical key state. Calls may come from any thread (one lock)."""

    def __init__(self, guard: SyntheticGuard, clipboard: X11Clipboard, display_name: str | None = None) -> None:
        self._display = _open(display_name)
        if not self._display.has_extension("XTEST"):
            raise DesktopError("The X server lacks the XTEST extension; the agent cannot send Ctrl+C / Ctrl+V.")
        self._guard, self._clipboard = guard, clipboard  # a terminal's paste puts the offer on PRIMARY too
        self._lock = threading.Lock()
        self._modifier_codes = {
            name: {code for sym in syms if (code := self._keycode(sym))} for name, syms in MODIFIER_KEYSYMS.items()
        }
        self._holding = False
        self._hold_wanted = False  # hold_keyboard was asked: grab once every key is up
        self._hold_timer: threading.Timer | None = None

    def _keycode(self, name: str) -> int:
        return int(self._display.keysym_to_keycode(XK.string_to_keysym(name)))

    def _held_codes(self) -> set[int]:
        keymap = self._display.query_keymap()
        return {byte * 8 + bit for byte, bits in enumerate(keymap) for bit in range(8) if bits & (1 << bit)}

    def modifiers_held(self) -> tuple[str, ...]:
        with self._lock:
            held = self._held_codes()
        return tuple(name for name in MODIFIERS if self._modifier_codes[name] & held)

    def any_key_held(self) -> bool:
        with self._lock:
            return bool(self._held_codes())

    def release_modifiers(self) -> None:
        with self._lock:
            held = {code for name in MODIFIERS for code in self._modifier_codes[name]} & self._held_codes()
            with self._guard.sending(held):
                for code in held:
                    xtest.fake_input(self._display, X.KeyRelease, code)
                self._display.sync()

    def _chord(self, modifier: str, key: str) -> None:
        codes = [self._keycode(modifier), self._keycode(key)]
        if not all(codes):
            raise DesktopError(f"The keyboard layout has no {modifier}+{key} key.")
        with self._lock, self._guard.sending(set(codes)):
            if self._holding:  # the agent's own chord goes to the window in front, then the hold goes on
                self._display.ungrab_keyboard(X.CurrentTime)
            for code in codes:
                xtest.fake_input(self._display, X.KeyPress, code)
            for code in reversed(codes):
                xtest.fake_input(self._display, X.KeyRelease, code)
            self._display.sync()
            if self._holding:
                status = self._display.screen().root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync,
                                                                   X.CurrentTime)
                self._holding = status == X.GrabSuccess

    def send_copy(self, terminal: bool = False) -> None:
        if not terminal:  # a terminal's selection is PRIMARY, which the capture reads: no key copies in every one
            self._chord("Control_L", "c")

    def send_paste(self, terminal: bool = False) -> None:
        if terminal:  # terminals paste PRIMARY with Shift+Insert
            self._clipboard.offer_on_primary()
        self._chord(*(("Shift_L", "Insert") if terminal else ("Control_L", "v")))

    def send_undo(self) -> None:
        self._chord("Control_L", "z")

    def hold_keyboard(self) -> None:
        """Take the keyboard (an active grab on the root window) so that what the person types next reaches
        no other window; the key events wait on this connection until `release_keyboard`.

        The grab starts once every key is up (until then the hotkey's own key keeps the listener's
        grab, and a second grab fails), on a short "x11-hold" thread. The agent's own chords pass
        through it (`_chord` lets go for the moment it sends, on the same connection), so a Ctrl+C
        still reaches the document, and typing "summ" straight after the picker hotkey filters the
        picker instead of replacing the selection, whether it was copied or read from PRIMARY.
        """
        self._hold_wanted = True
        threading.Thread(target=self._grab_when_keys_are_up, name="x11-hold", daemon=True).start()

    def _grab_when_keys_are_up(self) -> None:
        """The "x11-hold" thread: polls the keyboard until every key is up, then grabs it (unless given back)."""
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while self._hold_wanted and time.monotonic() < deadline:
            if not self.any_key_held():
                self._grab()
                return
            time.sleep(0.005)

    def _grab(self) -> None:
        with self._lock:
            if self._holding or not self._hold_wanted:
                return
            status = self._display.screen().root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime)
            self._holding = status == X.GrabSuccess
            if not self._holding:
                log.info("could not hold the keyboard for the picker (grab status %s)", status)
                return
        self._hold_timer = threading.Timer(HOLD_LIMIT_SECONDS, self.release_keyboard)
        self._hold_timer.daemon = True
        self._hold_timer.start()

    def release_keyboard(self, not_in_front: Callable[[], None] | None = None) -> str:
        """Give the keyboard back; what was typed meanwhile, with backspaces applied ("\n" Enter, "\x1b" Esc).
        X11 has no foreground rule: the picker's window is in front once mapped, so `not_in_front` is unused."""
        self._hold_wanted = False
        with self._lock:
            if not self._holding:
                return ""
            self._holding = False
            self._display.ungrab_keyboard(X.CurrentTime)
            self._display.sync()
            typed: list[str] = []
            while self._display.pending_events():
                event = self._display.next_event()
                if event.type == X.KeyPress:
                    shifted = 1 if event.state & X.ShiftMask else 0
                    typed.append(_character(int(self._display.keycode_to_keysym(event.detail, shifted))))
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        log.info("keyboard given back; %d keys were typed while the agent held it", len(typed))
        text = ""
        for piece in typed:
            text = text[:-1] if piece == "\b" else text + piece
        return text


SPECIAL_KEYSYMS = {XK.XK_BackSpace: "\b", XK.XK_Return: "\n", XK.XK_KP_Enter: "\n", XK.XK_Escape: "\x1b"}


def _character(keysym: int) -> str:
    """The character a keysym types ("" for keys that type none)."""
    if keysym in SPECIAL_KEYSYMS:
        return SPECIAL_KEYSYMS[keysym]
    if keysym >= 0x01000000:  # Unicode keysyms
        return chr(keysym - 0x01000000)
    return XK.keysym_to_string(keysym) or ""


class X11Focus:
    def __init__(self, display_name: str | None = None) -> None:
        self._display = _open(display_name)
        self._lock = threading.Lock()
        self._own_terminals: frozenset[str] = frozenset()  # `[desktop] terminals`, swapped whole

    def current(self) -> int | None:
        with self._lock:
            focus = self._display.get_input_focus().focus
        window = int(getattr(focus, "id", focus))
        return window if window > X.PointerRoot else None

    def in_front(self, window: int) -> bool:
        return self.current() == window

    def traits(self, window: int | None) -> WindowTraits:
        with self._lock:  # remote desktops, VMs: longer copy and paste; terminals: no Ctrl+C or Ctrl+V
            return window_traits(self._display, window, self._own_terminals)

    def set_terminals(self, names: tuple[str, ...]) -> None:  # any thread
        self._own_terminals = terminal_names(names)

    def activate(self, window: int) -> bool:
        """Give `window` the keyboard: through the window manager when there is one (EWMH), else directly."""
        with self._lock:
            target = self._display.create_resource_object("window", window)
            root = self._display.screen().root
            try:
                supported = root.get_full_property(self._display.get_atom("_NET_SUPPORTED"), X.AnyPropertyType)
                active = self._display.get_atom("_NET_ACTIVE_WINDOW")
                if supported is not None and active in supported.value:
                    message = xevent.ClientMessage(window=_toplevel(target, root), client_type=active, data=(32, [2, X.CurrentTime, 0, 0, 0]))
                    root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
                target.set_input_focus(X.RevertToParent, X.CurrentTime)
                self._display.sync()
                return True
            except BadWindow:
                return False


def _toplevel(window: Any, root: Any) -> Any:
    while True:
        parent = window.query_tree().parent
        if parent is None or parent.id == root.id:
            return window
        window = parent


# Our key names -> X keysym names, where they differ.
KEYSYM_NAMES = {
    "space": "space", "enter": "Return", "tab": "Tab", "esc": "Escape", "backspace": "BackSpace",
    "delete": "Delete", "insert": "Insert", "home": "Home", "end": "End", "page_up": "Prior",
    "page_down": "Next", "up": "Up", "down": "Down", "left": "Left", "right": "Right", "pause": "Pause",
    "`": "grave", "-": "minus", "=": "equal", "[": "bracketleft", "]": "bracketright", "\\": "backslash",
    ";": "semicolon", "'": "apostrophe", ",": "comma", ".": "period", "/": "slash",
}


class X11Hotkeys:
    """Global hotkeys as passive key grabs on the root window (XGrabKey).

    A grab keeps the combo from the focused application (Tk moves its cursor on
    Ctrl+Alt+P otherwise, and loses the selection), which a listener such as
    pynput's cannot do. Each combo is grabbed with every mix of Caps Lock and
    Num Lock, so those do not disable it.
    """

    def __init__(self, guard: SyntheticGuard, display_name: str | None = None) -> None:
        self._guard = guard
        self._display_name = display_name
        self._display: Any = None
        self._thread: threading.Thread | None = None
        self._wake_read, self._wake_write = os.pipe()
        self._stopping = False
        self.problems: list[str] = []

    def start(self, bindings: dict[Combo, Callable[[], None]]) -> list[str]:
        self.stop()
        display = _open(self._display_name)
        root = display.screen().root
        masks = _modifier_masks(display)
        ignored = [0, X.LockMask, masks["num_lock"], X.LockMask | masks["num_lock"]]
        grabs: dict[tuple[int, int], Callable[[], None]] = {}
        self.problems = []
        for combo, callback in bindings.items():
            keysym = XK.string_to_keysym(_keysym_name(combo.key))
            keycode = display.keysym_to_keycode(keysym)
            if not keycode:
                self.problems.append(f"{combo}: the keyboard layout has no {combo.key!r} key")
                continue
            state = 0
            for modifier in combo.modifiers:
                state |= masks[modifier]
            catcher = CatchError(BadAccess)
            for extra in set(ignored):
                root.grab_key(keycode, state | extra, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
            display.sync()
            if catcher.get_error():
                self.problems.append(f"{combo} is already taken by another program")
                root.ungrab_key(keycode, state)
                continue
            grabs[(keycode, state)] = callback
        display.sync()
        self._display, self._grabs = display, grabs
        self._ignored_mask = X.LockMask | masks["num_lock"]
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="x11-hotkeys", daemon=True)
        self._thread.start()
        for problem in self.problems:
            log.warning("hotkey %s", problem)
        return self.problems

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping = True
            os.write(self._wake_write, b"q")
            self._thread.join(timeout=2)
            self._thread = None
        if self._display is not None:
            self._display.screen().root.ungrab_key(X.AnyKey, X.AnyModifier)
            self._display.close()
            self._display = None

    def _loop(self) -> None:
        """The "x11-hotkeys" thread: waits for grabbed key presses and calls their bindings."""
        display = self._display
        fd = display.fileno()
        last_release: dict[int, int] = {}
        while not self._stopping:
            while display.pending_events():
                event = display.next_event()
                if event.type == X.KeyRelease:
                    last_release[event.detail] = event.time
                elif event.type == X.KeyPress:
                    # Auto-repeat sends a release and a press with one timestamp: not a new press.
                    if last_release.get(event.detail) == event.time:
                        continue
                    callback = self._grabs.get((event.detail, event.state & ~self._ignored_mask & 0xFF))
                    if callback is not None and not self._guard.covers(event.detail):
                        try:
                            callback()
                        except Exception:  # one bad binding must not end the listener
                            log.exception("hotkey callback failed")
            readable, _, _ = select.select([fd, self._wake_read], [], [])
            if self._wake_read in readable:
                os.read(self._wake_read, 64)


def _keysym_name(key: str) -> str:
    if key.startswith("f") and key[1:].isdigit():
        return key.upper()  # f5 -> F5
    return KEYSYM_NAMES.get(key, key)


def _modifier_masks(display: Any) -> dict[str, int]:
    """Which X modifier bit carries Alt, Super and Num Lock on this server (they vary)."""
    masks = {"ctrl": X.ControlMask, "shift": X.ShiftMask, "alt": X.Mod1Mask, "super": X.Mod4Mask, "num_lock": X.Mod2Mask}
    wanted = {"alt": ("Alt_L", "Alt_R", "Meta_L"), "super": ("Super_L", "Super_R"), "num_lock": ("Num_Lock",)}
    codes = {name: {display.keysym_to_keycode(XK.string_to_keysym(sym)) for sym in syms} for name, syms in wanted.items()}
    for index, keycodes in enumerate(display.get_modifier_mapping()):
        if index < 3:  # Shift, Lock, Control are fixed
            continue
        for name, wanted_codes in codes.items():
            if wanted_codes & set(keycodes) - {0}:
                masks[name] = 1 << index
    return masks


def _open(display_name: str | None) -> Any:
    try:
        return xdisplay.Display(display_name)
    except (DisplayError, Exception) as error:  # Xlib raises several kinds for "no display"
        shown = display_name or os.environ.get("DISPLAY", "")
        raise DesktopError(f"Cannot open the X display {shown!r} ({error}). Phi Tray needs an X11 session.") from error


def open_desktop() -> Desktop:
    if not os.environ.get("DISPLAY"):
        raise DesktopError("DISPLAY is not set: Phi Tray needs an X11 session (Wayland-only desktops are not supported yet).")
    guard = SyntheticGuard()
    notifier = LinuxNotifier()  # a clipboard format it cannot keep is said at once, mid-job
    clipboard = X11Clipboard(notify=lambda message: notifier.notify("Phi Tray: your clipboard", message))
    return Desktop(clipboard=clipboard, keys=X11Keys(guard, clipboard), focus=X11Focus(), hotkeys=X11Hotkeys(guard))
