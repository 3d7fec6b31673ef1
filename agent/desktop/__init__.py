"""The desktop seams: clipboard, keys, hotkeys, focus, and what the tray needs. One module per platform, one selector.

The capture/delivery sequence (`phitray.jobs.capture`) and the job engine speak only
these protocols; `open_desktop()` picks the platform's module, the way pystray
and pynput pick theirs, and `tray_traits()` the platform's tray record. Tests of
the pure logic use a scripted desktop; the end-to-end tests use the real X11
module on Xvfb.

Each other concern picks its platform module once too: `system`, `autostart` and
`instance`. Nothing else in the agent branches on `sys.platform`; a module for one
platform only asserts it, at its top, so that type checkers skip it elsewhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from phitray.errors import DesktopError
from phitray.hotkeys import Combo


class Snapshot(Protocol):
    """Everything the clipboard held before the agent touched it."""

    @property
    def is_empty(self) -> bool: ...

    def describe(self) -> str: ...  # "text, 42 characters" — never the content


class Offer(Protocol):
    """Text the agent put on the clipboard for one paste."""

    # Called right before the paste is sent: only a read by `window`'s program after this counts as the
    # paste (a clipboard manager reading every change must not make the agent restore too early).
    def expect_paste(self, window: int | None) -> None: ...

    def wait_taken(self, timeout: float) -> bool: ...  # True once the target read it


class Clipboard(Protocol):
    def snapshot(self) -> Snapshot: ...

    def restore(self, snapshot: Snapshot) -> None: ...

    def change_mark(self) -> int: ...  # a counter that moves whenever anyone writes the clipboard

    def wait_for_change(self, mark: int, timeout: float) -> bool: ...

    # None: the clipboard holds no text. With `max_chars` it reads no further than one character past it:
    # a longer answer says there was more (a 1 GB selection is never read whole).
    def read_text(self, max_chars: int | None = None) -> str | None: ...

    # X11's PRIMARY (the person's selection, no copy needed), only while `owner`'s program holds it when
    # `owner` is given; None where there is none. `max_chars` as for read_text.
    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None: ...

    # The HTML a rich editor put beside its text (X11 text/html, Windows' HTML Format as its fragment), from
    # the clipboard or, with `primary`, X11's PRIMARY; None where there is none or it is over `max_bytes`.
    def read_html(self, primary: bool = False, max_bytes: int = 8_000_000) -> str | None: ...

    # Whether `read_selection`'s source can carry HTML beside its text: X11's PRIMARY can, UI Automation cannot
    # (an edit that keeps formatting then copies, for the HTML).
    def selection_has_html(self) -> bool: ...

    # For one paste: history and cloud sync never see it. With `html`, rich editors take that instead.
    def offer_text(self, text: str, html: str | None = None) -> Offer: ...

    def keep_text(self, text: str) -> None: ...  # for the person to keep (Copy, clipboard output); never synced


    def close(self) -> None: ...


class Keys(Protocol):
    def modifiers_held(self) -> tuple[str, ...]: ...  # physically held now, canonical names

    def any_key_held(self) -> bool: ...  # a grabbed hotkey's own key counts too

    def release_modifiers(self) -> None: ...  # send key-ups for any still held

    # `terminal`: the window is a console, where Ctrl+C interrupts the running program; Ctrl+Insert
    # and Shift+Insert are its copy and paste.
    def send_copy(self, terminal: bool = False) -> None: ...

    def send_paste(self, terminal: bool = False) -> None: ...

    def send_undo(self) -> None: ...

    # From the picker hotkey until the picker shows: typed keys reach no other window. Asked before the
    # copy; each adapter starts holding as early as it can without stopping the agent's own Ctrl+C
    # (Windows at once, X11 once every key is up, letting its own chords through).
    def hold_keyboard(self) -> None: ...

    # What was typed meanwhile ("\n" Enter, "\x1b" Esc); "" if not held. Where the picker must first win the
    # front (Windows), `not_in_front` is called, on another thread, if it never does.
    def release_keyboard(self, not_in_front: Callable[[], None] | None = None) -> str: ...


@dataclass(frozen=True)
class WindowTraits:
    """What the capture sequence must know about a window before sending it keys."""

    terminal: bool = False  # a console: copy and paste with Insert, never Ctrl+C
    slow_copy: bool = False  # known to take longer than the usual copy and paste waits (Word, remote desktops)
    unreachable: str = ""  # why the agent cannot send this window keys (an elevated program), or ""
    # Which app it is, for per-app profiles: never logged, and the title never kept past the job's capture.
    program: str = ""  # the program's file name ("keepassxc", "EXCEL.EXE"), "" where it cannot be known
    classes: tuple[str, ...] = ()  # X11: both parts of WM_CLASS, lower case; Windows: the window class
    title: str = ""  # the window's title
    own: bool = False  # one of the agent's own windows (its process's): a profile keeps the agent out of them


class Focus(Protocol):
    # The window the person works in, as an opaque handle. On Windows, the last one in front that is
    # neither the agent's nor the shell's: a click on the tray moves the foreground to the taskbar.
    def current(self) -> int | None: ...

    def in_front(self, window: int) -> bool: ...  # keys sent now would reach it

    def activate(self, window: int) -> bool: ...  # bring it to the front; True once it is there

    def traits(self, window: int | None) -> WindowTraits: ...

    def set_terminals(self, names: tuple[str, ...]) -> None: ...  # the person's own, beside the known ones


class HotkeyListener(Protocol):
    # Binds every combo it can; returns what it could not ("ctrl+alt+p is already taken by another program").
    def start(self, bindings: dict[Combo, Callable[[], None]]) -> list[str]: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class TrayTraits:
    """What the tray icon must do differently on this platform; asked before pystray is imported."""

    library_defaults: tuple[tuple[str, str], ...] = ()  # environment defaults for pystray (and what it loads)
    icon_encoding: tuple[tuple[str, str], ...] = ()  # Pillow's encoderinfo for the icon files pystray saves
    notify_over_dbus: bool = False  # where pystray's icon cannot notify, notifications go over D-Bus


@dataclass
class Desktop:
    clipboard: Clipboard
    keys: Keys
    focus: Focus
    hotkeys: HotkeyListener
    limits: str = ""  # what the agent cannot do in this session (a Wayland session's hotkeys), said at start

    def close(self) -> None:
        self.hotkeys.stop()
        self.clipboard.close()


def open_desktop() -> Desktop:
    """The running platform's adapters. Raises DesktopError when there is no desktop to talk to."""
    if sys.platform == "win32":
        from phitray.desktop import windows

        return windows.open_desktop()
    if sys.platform.startswith("linux"):
        from phitray.desktop import linux_session, x11

        return replace(x11.open_desktop(), limits=linux_session.session_limits(os.environ))
    raise DesktopError(f"Phi Tray has no desktop adapters for {sys.platform} yet; the CLI works.")


def tray_traits() -> TrayTraits:
    """The running platform's tray record (`windows_tray`, `linux_tray`); elsewhere pystray's defaults."""
    if sys.platform == "win32":
        from phitray.desktop import windows_tray

        return windows_tray.TRAITS
    if sys.platform.startswith("linux"):
        from phitray.desktop import linux_tray

        return linux_tray.TRAITS
    return TrayTraits()
