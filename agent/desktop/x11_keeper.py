"""The person's X11 clipboard outlives the agent: handed to a clipboard manager, or to a small holder process.

An X selection dies with its owner, and after every job the agent owns the
clipboard (it gave the person's formats back by owning them). At quit,
`hand_off` asks a clipboard manager to keep them (ICCCM: SAVE_TARGETS on the
CLIPBOARD_MANAGER selection, serving its reads meanwhile); with none running
it starts a holder, `python -m phitray.desktop.x11_keeper`, detached, that
takes the formats over its stdin (never its command line, which other users
can read), owns the clipboard and serves them until someone else copies, as
`xclip` does. It says "held" on stdout once it owns the clipboard.
"""

from __future__ import annotations

import array
import json
import os
import select
import subprocess
import sys
from typing import IO, Any

from Xlib import X, Xatom

from phitray.desktop.x11_selection import HINT_ITEM, KDE_HINT, Item, SelectionServer, WaitFor

MANAGER_SECONDS = 2.0  # gnome-settings-daemon and xfsettingsd answer within a few hundred ms
HOLDER_SECONDS = 5.0  # an interpreter start and python-xlib's import, on a busy machine
HAND_OFF_SECONDS = MANAGER_SECONDS + HOLDER_SECONDS


def hand_off(display: Any, window: Any, wait_for: WaitFor, items: tuple[Item, ...], secret: bool) -> str:
    """Runs on the clipboard's X thread while it owns the clipboard with `items`: "a clipboard manager",
    "a holder process", or "" when neither took them. `wait_for` keeps serving the manager's reads."""
    if _save_with_manager(display, window, wait_for, items):
        return "a clipboard manager"
    return "a holder process" if start_holder(display.get_display_name(), items, secret) else ""


def _save_with_manager(display: Any, window: Any, wait_for: WaitFor, items: tuple[Item, ...]) -> bool:
    manager = display.get_atom("CLIPBOARD_MANAGER")
    owner = display.get_selection_owner(manager)
    if int(getattr(owner, "id", owner) or X.NONE) == X.NONE:
        return False
    prop = display.get_atom("PHITRAY_SAVE_TARGETS")
    # The targets to save, as ICCCM lets the requestor list them: the person's formats as they were.
    window.change_property(prop, Xatom.ATOM, 32, [display.get_atom(item.target) for item in items])
    window.convert_selection(manager, display.get_atom("SAVE_TARGETS"), prop, X.CurrentTime)
    display.flush()
    reply = wait_for(lambda e: e.type == X.SelectionNotify and e.requestor.id == window.id
                     and e.selection == manager, MANAGER_SECONDS)
    return reply is not None and reply.property != X.NONE


def start_holder(display_name: str, items: tuple[Item, ...], secret: bool) -> bool:
    """Start the holder with `items` on its stdin; True once it says it owns the clipboard."""
    header = {"display": display_name, "secret": secret,
              "items": [{"target": i.target, "type": i.type, "format": i.format, "units": len(i.data)} for i in items]}
    try:
        process = subprocess.Popen([sys.executable, "-m", "phitray.desktop.x11_keeper"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                                   close_fds=True, env={**os.environ, "DISPLAY": display_name})
    except OSError:
        return False
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(header).encode("utf-8") + b"\n")
        for item in items:
            process.stdin.write(_packed(item))
        process.stdin.close()
    except OSError:  # it died before reading: nothing is held
        return False
    ready, _, _ = select.select([process.stdout], [], [], HOLDER_SECONDS)
    answer = process.stdout.readline().strip() if ready else b""
    process.stdout.close()
    return answer == b"held"


def _packed(item: Item) -> bytes:
    if item.format == 8:
        return bytes(item.data)
    return array.array(_code(item.format), item.data).tobytes()


def _code(fmt: int) -> str:
    """The array type code of an X unit of `fmt` bits: X sends 32-bit units, whatever a C long is."""
    if fmt == 16:
        return "H"
    return "I" if array.array("I").itemsize == 4 else "L"


def _read_items(stream: IO[bytes]) -> tuple[dict[str, Any], tuple[Item, ...]]:
    header = json.loads(stream.readline())
    items = []
    for spec in header["items"]:
        fmt, units = int(spec["format"]), int(spec["units"])
        raw = stream.read(units * (1 if fmt == 8 else fmt // 8))
        data: bytes | tuple[int, ...] = raw if fmt == 8 else tuple(array.array(_code(fmt), raw))
        items.append(Item(str(spec["target"]), str(spec["type"]), fmt, data))
    return header, tuple(items)


def hold(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The holder's main thread: own the clipboard with what came on `stdin` until another program takes it."""
    from Xlib import display as xdisplay

    header, items = _read_items(stdin)
    if header.get("secret") and all(item.target != KDE_HINT for item in items):
        items = (*items, HINT_ITEM)
    connection = xdisplay.Display(header["display"])
    window = connection.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask)
    clipboard = connection.get_atom("CLIPBOARD")
    window.change_property(Xatom.WM_NAME, Xatom.STRING, 8, b"Phi Tray clipboard holder")
    since = _server_time(connection, window)
    window.set_selection_owner(clipboard, since)
    owner = connection.get_selection_owner(clipboard)
    if int(getattr(owner, "id", owner)) != window.id:
        stdout.write(b"refused\n")
        return 1
    stdout.write(b"held\n")
    stdout.close()
    server = SelectionServer(connection)
    while True:
        event = connection.next_event()  # a closed display raises, which ends the holder too
        if event.type == X.SelectionRequest:
            server.answer(event, items if event.selection == clipboard else (), since)
        elif event.type == X.PropertyNotify and event.state == X.PropertyDelete:
            server.on_property_delete(event)
        elif event.type == X.SelectionClear and event.atom == clipboard:
            return 0


def _server_time(connection: Any, window: Any) -> int:
    stamp = connection.get_atom("PHITRAY_TIMESTAMP")
    window.change_property(stamp, Xatom.STRING, 8, b"", X.PropModeAppend)
    while True:
        event = connection.next_event()
        if event.type == X.PropertyNotify and event.atom == stamp:
            return int(event.time)


if __name__ == "__main__":
    sys.exit(hold(sys.stdin.buffer, sys.stdout.buffer))
