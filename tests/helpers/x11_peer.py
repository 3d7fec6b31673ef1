"""Other programs on the X11 clipboard, each a real process of its own, run by the tests on Xvfb:

    python x11_peer.py reader LOG [TARGET]      # reads the text (or TARGET) of every new CLIPBOARD owner, as managers do
    python x11_peer.py manager LOG              # a clipboard manager: saves the clipboard on SAVE_TARGETS, then serves it
    python x11_peer.py hung-manager LOG         # owns CLIPBOARD_MANAGER and never answers, as a hung manager does
    python x11_peer.py target LOG CLASS DELAY [TARGET]  # a window of WM_CLASS CLASS that reads CLIPBOARD (its text,
                                                        # or TARGET) DELAY s after Ctrl+V
    python x11_peer.py owner LOG SELECTION TARGET MB  # owns SELECTION with MB megabytes as TARGET, by INCR

Each writes one JSON line per thing it did to LOG ({"ready": …} first), never to a pipe. Written from the
ICCCM, apart from the agent's own modules, so that a test holds the agent to the protocol and not to itself.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from Xlib import X, XK, Xatom, display as xdisplay
from Xlib.ext import xfixes
from Xlib.protocol import event as xevent

CHUNK = 64 * 1024


class Peer:
    def __init__(self, log_path: str) -> None:
        self.log_path = log_path
        self.d = xdisplay.Display()
        self.root = self.d.screen().root
        self.window = self.root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self.prop = self.d.get_atom("PEER_DATA")

    def log(self, **fields: Any) -> None:
        with open(self.log_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(fields) + "\n")

    def atom(self, name: str) -> int:
        return int(self.d.get_atom(name))

    def wait(self, wanted: Any, timeout: float = 3.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.d.pending_events():
                event = self.d.next_event()
                if wanted(event):
                    return event
                self.other(event)
            time.sleep(0.002)
        return None

    def other(self, event: Any) -> None:
        """An event nobody waits for (the manager serves what it saved meanwhile)."""

    def read(self, selection: int, target: str) -> tuple[str, int, Any] | None:
        """(type, format, data) of one target, INCR followed."""
        self.window.delete_property(self.prop)
        self.window.convert_selection(selection, self.atom(target), self.prop, X.CurrentTime)
        self.d.flush()
        reply = self.wait(lambda e: e.type == X.SelectionNotify and e.requestor.id == self.window.id)
        if reply is None or reply.property == X.NONE:
            return None
        prop = self.window.get_full_property(self.prop, X.AnyPropertyType)
        if prop is None:
            return None
        if prop.property_type != self.atom("INCR"):
            self.window.delete_property(self.prop)
            self.d.flush()
            return self.d.get_atom_name(prop.property_type), prop.format, prop.value
        parts, kind, fmt = [], "", 8
        self.window.delete_property(self.prop)
        self.d.flush()
        while True:
            event = self.wait(lambda e: e.type == X.PropertyNotify and e.atom == self.prop
                              and e.state == X.PropertyNewValue)
            if event is None:
                return None
            prop = self.window.get_full_property(self.prop, X.AnyPropertyType)
            self.window.delete_property(self.prop)
            self.d.flush()
            if prop is None or len(prop.value) == 0:
                data = b"".join(bytes(p) for p in parts) if fmt == 8 else tuple(v for p in parts for v in p)
                return kind, fmt, data
            kind, fmt = self.d.get_atom_name(prop.property_type), prop.format
            parts.append(prop.value)


def reader(peer: Peer, target: str = "UTF8_STRING") -> None:
    clipboard = peer.atom("CLIPBOARD")
    peer.d.xfixes_query_version()
    peer.d.xfixes_select_selection_input(peer.window, clipboard, xfixes.XFixesSetSelectionOwnerNotifyMask)
    peer.d.flush()
    notify = tuple(peer.d.extension_event.SetSelectionOwnerNotify)
    peer.log(ready=True)
    while True:
        event = peer.d.next_event()
        if (event.type, getattr(event, "sub_code", None)) == notify and event.owner:
            got = peer.read(clipboard, target)
            targets = peer.read(clipboard, "TARGETS")
            names = [peer.d.get_atom_name(a) for a in targets[2]] if targets else []
            peer.log(read=bytes(got[2]).decode("utf-8", "replace") if got else None, targets=names)


class Manager(Peer):
    """A clipboard manager as ICCCM describes one: it owns CLIPBOARD_MANAGER and keeps what SAVE_TARGETS hands it."""

    def __init__(self, log_path: str, hung: bool = False) -> None:
        super().__init__(log_path)
        self.hung = hung
        self.saved: dict[str, tuple[str, int, Any]] = {}
        self.since = X.CurrentTime

    def run(self) -> None:
        manager = self.atom("CLIPBOARD_MANAGER")
        self.window.set_selection_owner(manager, X.CurrentTime)
        self.d.flush()
        self.log(ready=True)
        while True:
            self.other(self.d.next_event())

    def other(self, event: Any) -> None:
        if event.type != X.SelectionRequest:
            return
        target = self.d.get_atom_name(event.target)
        if event.selection == self.atom("CLIPBOARD_MANAGER") and target == "SAVE_TARGETS":
            if self.hung:
                self.log(ignored="SAVE_TARGETS")
                return
            self.save(event)
        elif event.selection == self.atom("CLIPBOARD"):
            self.serve(event, target)
        else:
            self.reply(event, X.NONE)

    def save(self, request: Any) -> None:
        listed = request.requestor.get_full_property(request.property, Xatom.ATOM) if request.property else None
        clipboard = self.atom("CLIPBOARD")
        if listed is not None and len(listed.value):
            names = [self.d.get_atom_name(a) for a in listed.value]
        else:
            targets = self.read(clipboard, "TARGETS")
            names = [self.d.get_atom_name(a) for a in targets[2]] if targets else []
        self.saved = {}
        for name in names:
            if name in ("TARGETS", "TIMESTAMP", "MULTIPLE", "SAVE_TARGETS"):
                continue
            got = self.read(clipboard, name)
            if got is not None:
                self.saved[name] = got
        self.window.set_selection_owner(clipboard, X.CurrentTime)
        self.log(saved=sorted(self.saved))
        self.reply(request, request.property or X.NONE)

    def serve(self, request: Any, target: str) -> None:
        if target == "TARGETS":
            atoms = [self.atom(name) for name in ("TARGETS", *self.saved)]
            request.requestor.change_property(request.property, Xatom.ATOM, 32, atoms)
            self.reply(request, request.property)
        elif target in self.saved:
            kind, fmt, data = self.saved[target]
            request.requestor.change_property(request.property, self.atom(kind), fmt, data)
            self.reply(request, request.property)
        else:
            self.reply(request, X.NONE)

    def reply(self, request: Any, prop: int) -> None:
        notify = xevent.SelectionNotify(time=request.time, requestor=request.requestor, selection=request.selection,
                                        target=request.target, property=prop)
        request.requestor.send_event(notify)
        self.d.flush()


def target(peer: Peer, wm_class: str, delay: float, read: str = "UTF8_STRING") -> None:
    """A window the test focuses; Ctrl+V makes it read CLIPBOARD after `delay` seconds, as a remote desktop does."""
    window = peer.root.create_window(100, 100, 300, 200, 0, X.CopyFromParent,
                                     event_mask=X.KeyPressMask | X.PropertyChangeMask | X.FocusChangeMask)
    window.set_wm_class(wm_class, wm_class)
    window.set_wm_name(f"peer-{wm_class}")
    window.map()
    peer.window = window
    peer.d.sync()
    v = peer.d.keysym_to_keycode(XK.string_to_keysym("v"))
    peer.log(ready=True, window=window.id)
    while True:
        event = peer.d.next_event()
        if event.type == X.KeyPress and event.detail == v and event.state & X.ControlMask:
            peer.log(ctrl_v=True)
            time.sleep(delay)
            got = peer.read(peer.atom("CLIPBOARD"), read)
            peer.log(pasted=bytes(got[2]).decode("utf-8", "replace") if got else None)


def owner(peer: Peer, selection: str, kind: str, megabytes: float) -> None:
    """Owns `selection` with `megabytes` of text as `kind`, made on the fly and sent with INCR; logs what it sent."""
    size = int(megabytes * 1_000_000)
    line = b"the quick brown fox jumps over the lazy dog \xe2\x9c\x93\n"
    atom = peer.atom(selection)
    peer.window.set_selection_owner(atom, X.CurrentTime)
    peer.d.flush()
    sending: dict[tuple[int, int], Any] = {}
    sent = 0
    peer.log(ready=True)
    while True:
        event = peer.d.next_event()
        if event.type == X.SelectionRequest:
            name = peer.d.get_atom_name(event.target)
            prop = event.property or event.target
            if name == "TARGETS":
                event.requestor.change_property(prop, Xatom.ATOM, 32, [peer.atom("TARGETS"), peer.atom(kind)])
            elif name == kind:
                event.requestor.change_attributes(event_mask=X.PropertyChangeMask)
                event.requestor.change_property(prop, peer.atom("INCR"), 32, [size])
                sending[(event.requestor.id, prop)] = [event.requestor, 0]
            else:
                prop = X.NONE
            event.requestor.send_event(xevent.SelectionNotify(time=event.time, requestor=event.requestor,
                                                              selection=event.selection, target=event.target,
                                                              property=prop))
            peer.d.flush()
        elif event.type == X.PropertyNotify and event.state == X.PropertyDelete:
            transfer = sending.get((event.window.id, event.atom))
            if transfer is None:
                continue
            requestor, offset = transfer
            piece = (line * (CHUNK // len(line) + 1))[: max(0, min(CHUNK, size - offset))]
            transfer[1] = offset + len(piece)
            requestor.change_property(event.atom, peer.atom(kind), 8, piece)
            peer.d.flush()
            sent += len(piece)
            peer.log(sent=sent)
            if not piece:
                del sending[(event.window.id, event.atom)]
        elif event.type == X.SelectionClear:
            return


def main(mode: str, log_path: str, *args: str) -> None:
    if mode in ("manager", "hung-manager"):
        Manager(log_path, hung=mode == "hung-manager").run()
        return
    peer = Peer(log_path)
    if mode == "reader":
        reader(peer, *args[:1])
    elif mode == "target":
        target(peer, args[0], float(args[1]), *args[2:3])
    elif mode == "owner":
        owner(peer, args[0], args[1], float(args[2]))


if __name__ == "__main__":
    main(*sys.argv[1:])
