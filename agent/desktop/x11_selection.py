"""X selections on the wire: what one owner serves (TARGETS, TIMESTAMP, each item, INCR for large ones) and
bounded reads from another owner (INCR streamed chunk by chunk and stopped at a cap).

Shared by the agent's clipboard thread (`x11_clipboard`) and the holder that keeps the person's
clipboard after the agent quits (`x11_holder`). Nothing here owns a thread: the caller's event loop
hands in the events and, for reads, a `wait_for` that keeps serving while it waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from Xlib import X, Xatom
from Xlib.protocol import event as xevent

# Targets that describe the selection rather than hold its content.
META_TARGETS = ("TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION", "INSERT_PROPERTY")
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain")
# Klipper, CopyQ, GPaste and KeePassXC keep an owner that offers this target (value "secret") out of
# their histories: every write of the agent's carries it, except text the person asked to keep.
KDE_HINT = "x-kde-passwordManagerHint"
# A read of any of these after Ctrl+V is the paste: rich editors ask for the HTML, plain ones for text.
PASTE_TARGETS = (*TEXT_TARGETS, "text/html")
FIRST_TARGETS = (*TEXT_TARGETS, "text/html", "text/rtf", "text/uri-list", "image/png")
INCR_CHUNK_BYTES = 64 * 1024
STALE_TRANSFER_SECONDS = 30.0  # an INCR requestor that stopped deleting the property has gone away
WaitFor = Callable[[Callable[[Any], bool], float], Any]


@dataclass(frozen=True)
class Item:
    target: str
    type: str
    format: int  # 8, 16 or 32 bits per unit
    data: bytes | tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.data) * (1 if self.format == 8 else self.format // 8)


HINT_ITEM = Item(KDE_HINT, KDE_HINT, 8, b"secret")


@dataclass(frozen=True)
class Read:
    """One target as read. A read cut short holds what came first (often nothing) and says why."""

    type: str
    format: int
    data: bytes | tuple[int, ...]
    cut: str = ""  # "large": the owner had more than the cap; "slow": it stopped answering; "" when whole
    size: int = 0  # bytes the owner announced or sent, whichever is more


def text_items(text: str) -> tuple[Item, ...]:
    utf8 = text.encode("utf-8", errors="surrogatepass")
    latin = text.encode("latin-1", errors="replace")
    return (
        Item("UTF8_STRING", "UTF8_STRING", 8, utf8),
        Item("text/plain;charset=utf-8", "text/plain;charset=utf-8", 8, utf8),
        Item("STRING", "STRING", 8, latin),
        Item("TEXT", "UTF8_STRING", 8, utf8),
    )


def html_item(html: str) -> Item:
    """HTML served as browsers do: UTF-8, typed text/html."""
    return Item("text/html", "text/html", 8, html.encode("utf-8", errors="surrogatepass"))


def html_of(data: bytes) -> str:
    """HTML as read: Firefox has written UTF-16 with a byte order mark, everyone else UTF-8."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace").replace("\0", "")


def text_of(items: tuple[Item, ...], max_chars: int | None = None) -> str | None:
    """The text among items the agent serves itself; with `max_chars`, at most one character more."""
    by_target = {item.target: item for item in items}
    for target in ("UTF8_STRING", "text/plain;charset=utf-8", "STRING"):
        item = by_target.get(target)
        if item is not None and item.format == 8:
            text = bytes(item.data).decode("latin-1" if item.type == "STRING" else "utf-8", errors="replace")
            return text if max_chars is None else text[:max_chars + 1]
    return None


def snapshot_order(names: list[str]) -> list[str]:
    """The formats worth keeping, what a person misses first first: a snapshot that runs out of time or room
    keeps text, then HTML and images; the rest in the owner's order."""
    wanted = [name for name in names if name and name not in META_TARGETS]
    return sorted(wanted, key=lambda name: FIRST_TARGETS.index(name) if name in FIRST_TARGETS else len(FIRST_TARGETS))


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class _Outgoing:
    """An INCR transfer being sent, chunk by chunk, as the requestor deletes the property."""

    def __init__(self, window: Any, prop: int, item_type: int, item: Item) -> None:
        self.window, self.prop, self.type, self.item = window, prop, item_type, item
        self.offset = 0
        self.touched = time.monotonic()


class SelectionServer:
    """Answers SelectionRequests for what one window owns; large items go out with INCR."""

    def __init__(self, display: Any) -> None:
        self._display = display
        self._sending: dict[tuple[int, int], _Outgoing] = {}
        self.chunk_limit = min(INCR_CHUNK_BYTES * 4, display.display.info.max_request_length * 4 - 1024)

    def answer(self, request: Any, items: tuple[Item, ...], since: int) -> str:
        """Answer one request from `items`; the name of the target it asked for if it got data, else ""."""
        prop = request.property or request.target  # obsolete requestors pass None
        target = self._display.get_atom_name(request.target)
        by_target = {item.target: item for item in items}
        requestor = request.requestor
        served, reply_prop = "", X.NONE
        if by_target:
            if target == "TARGETS":
                atoms = [self._display.get_atom(name) for name in ("TARGETS", "TIMESTAMP", *by_target)]
                requestor.change_property(prop, Xatom.ATOM, 32, atoms)
                reply_prop = prop
            elif target == "TIMESTAMP":
                requestor.change_property(prop, Xatom.INTEGER, 32, [since])
                reply_prop = prop
            elif target in by_target:
                item = by_target[target]
                self._forget_stale()
                if item.size > self.chunk_limit:
                    requestor.change_attributes(event_mask=X.PropertyChangeMask)
                    requestor.change_property(prop, self._display.get_atom("INCR"), 32, [item.size])
                    self._sending[(requestor.id, prop)] = _Outgoing(requestor, prop, self._display.get_atom(item.type),
                                                                    item)
                else:
                    requestor.change_property(prop, self._display.get_atom(item.type), item.format, item.data)
                reply_prop, served = prop, target
        notify = xevent.SelectionNotify(time=request.time, requestor=requestor, selection=request.selection,
                                        target=request.target, property=reply_prop)
        requestor.send_event(notify, event_mask=0)
        self._display.flush()
        return served

    def on_property_delete(self, event: Any) -> None:
        """A requestor deleted a property: the next INCR chunk, or the empty one that ends the transfer."""
        transfer = self._sending.get((event.window.id, event.atom))
        if transfer is None:
            return
        unit = 1 if transfer.item.format == 8 else transfer.item.format // 8
        step = INCR_CHUNK_BYTES // unit
        piece = transfer.item.data[transfer.offset: transfer.offset + step]
        transfer.offset += step
        transfer.touched = time.monotonic()
        transfer.window.change_property(transfer.prop, transfer.type, transfer.item.format, piece)
        if not piece:
            del self._sending[(event.window.id, event.atom)]
        self._display.flush()

    def _forget_stale(self) -> None:
        now = time.monotonic()
        for key in [key for key, sent in self._sending.items() if now - sent.touched > STALE_TRANSFER_SECONDS]:
            del self._sending[key]


class SelectionReader:
    """Reads one target of a selection into one window's property, following INCR up to a cap."""

    def __init__(self, display: Any, window: Any, wait_for: WaitFor) -> None:
        self._display, self._window, self._wait_for = display, window, wait_for
        self._spoiled = 0
        self._property = display.get_atom("PHITRAY_SELECTION")

    def read(self, selection: int, target: str, timeout: float, max_bytes: int | None = None,
             partial: bool = False) -> Read | None:
        """The target's data; None when the owner refuses it. Past `max_bytes` the read stops: with `partial`
        it keeps what came first, without it it takes nothing once the owner announces more."""
        self._window.delete_property(self._property)
        self._window.convert_selection(selection, self._display.get_atom(target), self._property, X.CurrentTime)
        reply = self._wait_for(lambda e: e.type == X.SelectionNotify and e.requestor.id == self._window.id
                               and e.selection == selection, timeout)
        if reply is None:
            self._give_up()  # a late answer must not land in the next read
            return Read("", 8, b"", "slow")
        if reply.property == X.NONE:
            return None
        prop = self._get(max_bytes)
        if prop is None:
            return None
        kind, fmt, value, more = prop
        if kind != self._display.get_atom("INCR"):
            self._window.delete_property(self._property)
            self._display.flush()
            cut = "large" if more else ""
            return Read(self._display.get_atom_name(kind), fmt, value, cut, _size(fmt, value) + more)
        announced = int(value[0]) if len(value) else 0
        if max_bytes is not None and announced > max_bytes and not partial:
            self._give_up()
            return Read("", 8, b"", "large", announced)
        self._window.delete_property(self._property)  # the owner starts sending
        return self._read_incr(timeout, max_bytes, announced)

    def _read_incr(self, timeout: float, max_bytes: int | None, announced: int) -> Read | None:
        parts: list[Any] = []
        kind, fmt, total = "", 8, 0
        self._display.flush()
        while True:
            event = self._wait_for(lambda e: e.type == X.PropertyNotify and e.window.id == self._window.id
                                   and e.atom == self._property and e.state == X.PropertyNewValue, timeout)
            if event is None:
                self._give_up()
                return Read(kind, fmt, _joined(fmt, parts), "slow", max(total, announced))
            prop = self._get(None)
            if prop is None:
                self._give_up()
                return None
            chunk_type, fmt, value, _ = prop
            if _size(fmt, value) == 0:
                self._window.delete_property(self._property)
                self._display.flush()
                return Read(kind, fmt, _joined(fmt, parts), "", total)
            kind = self._display.get_atom_name(chunk_type)
            parts.append(value)
            total += _size(fmt, value)
            if max_bytes is not None and total > max_bytes:
                self._give_up()
                return Read(kind, fmt, _joined(fmt, parts), "large", max(total, announced))
            self._window.delete_property(self._property)  # asks for the next chunk
            self._display.flush()

    def _get(self, max_bytes: int | None) -> tuple[int, int, Any, int] | None:
        """(type atom, format, value, bytes left unread) of our property, reading at most about `max_bytes`."""
        if max_bytes is None:
            prop = self._window.get_full_property(self._property, X.AnyPropertyType)
            return None if prop is None else (prop.property_type, prop.format, prop.value, 0)
        prop = self._window.get_property(self._property, X.AnyPropertyType, 0, max_bytes // 4 + 1)
        return None if prop is None else (prop.property_type, prop.format, prop.value, prop.bytes_after)

    def _give_up(self) -> None:
        """Stop a transfer half-way: X has no way to say so, and the owner may still write into this property,
        so later reads use a fresh one."""
        self._spoiled += 1
        self._property = self._display.get_atom(f"PHITRAY_SELECTION_{self._spoiled}")


def _size(fmt: int, value: Any) -> int:
    return len(value) * (1 if fmt == 8 else fmt // 8)


def _joined(fmt: int, parts: list[Any]) -> bytes | tuple[int, ...]:
    return b"".join(bytes(part) for part in parts) if fmt == 8 else tuple(v for part in parts for v in part)
