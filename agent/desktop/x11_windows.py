"""Which program an X window belongs to, and whether it is one of the programs known to copy and paste slowly.

X has no process handle per window. Three facts together name a program: the
connection that created the window (every window id carries its client's
resource base), that connection's process (X-Resource), and the toplevel's
WM_CLIENT_LEADER. Clipboard requests come from a hidden window of the reading
program, never from the window the person typed in, so the paste offer and
the PRIMARY read compare programs, not windows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from Xlib import X, Xatom
from Xlib.error import XError

from phitray.desktop import WindowTraits
from phitray.desktop.x11_terminals import is_terminal

# Remote desktops, VM consoles and office suites: their copy and paste go through a remote clipboard or a
# document model and can take seconds (matched against either part of WM_CLASS, lower case).
SLOW_CLASSES = frozenset({
    "xfreerdp", "sdl-freerdp", "rdesktop", "remmina", "org.remmina.remmina", "krdc", "org.kde.krdc",
    "vncviewer", "wfica", "vmware", "vmware-view", "vmplayer", "virtualbox", "virtualbox machine",
    "virt-viewer", "remote-viewer", "nxplayer.bin", "x2goclient", "winword.exe", "excel.exe",
    "libreoffice-writer", "libreoffice-calc", "soffice",
})


@dataclass(frozen=True)
class Program:
    """What identifies the program behind a window; 0 where a fact is not known."""

    client: int  # the resource base of the connection that created the window
    pid: int = 0  # that connection's process, from X-Resource (0: a remote client, or no extension)
    leader: int = 0  # WM_CLIENT_LEADER of the window or its toplevel

    def same_as(self, other: Program) -> bool:
        return self.client == other.client or bool(self.pid and self.pid == other.pid) \
            or bool(self.leader and self.leader == other.leader)


def program_of(display: Any, window: int) -> Program:
    """The program behind `window` (a window id); only the client part when the window is gone."""
    client = window & ~display.display.info.resource_id_mask
    return Program(client, _pid(display, window), _leader(display, window))


def window_classes(display: Any, window: int | None) -> tuple[str, ...]:
    """Both parts of WM_CLASS, lower case, of `window` or the nearest ancestor that has one; () if none."""
    if not window:
        return ()
    try:
        current = display.create_resource_object("window", window)
        root = display.screen().root.id
        for _ in range(32):  # a window tree is never this deep; a broken one must not loop
            found = current.get_wm_class()
            if found:
                return tuple(part.lower() for part in found if part)
            parent = current.query_tree().parent
            if parent is None or parent.id in (0, root):
                return ()
            current = parent
    except XError:
        pass
    return ()


def window_traits(display: Any, window: int | None, own_terminals: frozenset[str]) -> WindowTraits:
    """What the capture must know of `window`: a terminal (no Ctrl+C), a slow copy, and which app it is."""
    classes = window_classes(display, window)
    pid = _pid(display, window) if window else 0
    title = _title(display, window) if window else ""
    return WindowTraits(terminal=is_terminal(classes, own_terminals), slow_copy=is_slow(classes),
                        program=_program_name(pid), classes=classes, title=title, own=pid == os.getpid())


def is_slow(classes: tuple[str, ...]) -> bool:
    return any(part in SLOW_CLASSES for part in classes)


def _pid(display: Any, window: int) -> int:
    if not display.has_extension("X-Resource"):
        return 0
    try:
        from Xlib.ext import res

        reply = display.res_query_client_ids([{"client": window, "mask": res.LocalClientPIDMask}])
        for found in reply.ids:
            if found.spec.mask & res.LocalClientPIDMask and found.value:
                return int(found.value[0])
    except XError:
        pass
    return 0


def _leader(display: Any, window: int) -> int:
    """WM_CLIENT_LEADER of the window, or of the first ancestor that sets it."""
    atom = display.get_atom("WM_CLIENT_LEADER")
    try:
        current = display.create_resource_object("window", window)
        root = display.screen().root.id
        for _ in range(32):
            prop = current.get_property(atom, Xatom.WINDOW, 0, 1)
            if prop is not None and prop.format == 32 and len(prop.value):
                return int(prop.value[0])
            parent = current.query_tree().parent
            if parent is None or parent.id in (X.NONE, root):
                return 0
            current = parent
    except XError:
        pass
    return 0


def _program_name(pid: int) -> str:
    """The file name of process `pid`'s program ("keepassxc"); its short name where the file is not ours to
    read; "" for a remote client or no X-Resource extension."""
    if not pid:
        return ""
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                return comm.read().strip()
        except OSError:
            return ""


def _title(display: Any, window: int) -> str:
    """_NET_WM_NAME (UTF-8) or WM_NAME of the window or its nearest ancestor that has one; "" if none."""
    names = (display.get_atom("_NET_WM_NAME"), Xatom.WM_NAME)
    try:
        current = display.create_resource_object("window", window)
        root = display.screen().root.id
        for _ in range(32):
            for atom in names:
                prop = current.get_full_property(atom, X.AnyPropertyType)
                if prop is not None and prop.format == 8 and len(prop.value):
                    value = prop.value
                    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            parent = current.query_tree().parent
            if parent is None or parent.id in (X.NONE, root):
                return ""
            current = parent
    except XError:
        pass
    return ""
