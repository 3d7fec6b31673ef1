"""The X11 clipboard, owned and read by the agent itself (python-xlib), not through xclip.

Owning the CLIPBOARD selection ourselves is what lets the agent see a paste
happen: the target application asks the owner for the text, so "the paste was
taken" is an event, not a guess after a sleep. XFixes tells us whenever anyone
else takes the clipboard (about 3 ms after a Ctrl+C), which is how a copy is
confirmed. Snapshots keep every format the owner offers (text, HTML, images…),
read and served with INCR when they are larger than one X request.

All X traffic happens on one thread ("x11-clipboard") with its own connection;
the public methods hand work to it and wait for the answer.
"""

from __future__ import annotations

import os
import queue
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from Xlib import X, Xatom, display as xdisplay
from Xlib.error import DisplayError
from Xlib.ext import xfixes
from Xlib.protocol import event as xevent, request

from phitray.errors import DesktopError

T = TypeVar("T")
# Targets that describe the selection rather than hold its content.
META_TARGETS = ("TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INSERT_SELECTION", "INSERT_PROPERTY")
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain")
READ_TIMEOUT_SECONDS = 1.0
SNAPSHOT_BUDGET_SECONDS = 2.0
SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024
INCR_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Item:
    target: str
    type: str
    format: int  # 8, 16 or 32 bits per unit
    data: bytes | tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.data) * (1 if self.format == 8 else self.format // 8)


@dataclass(frozen=True)
class X11Snapshot:
    items: tuple[Item, ...]
    skipped: tuple[str, ...] = ()  # targets the owner offered but did not deliver in time

    @property
    def is_empty(self) -> bool:
        return not self.items

    def describe(self) -> str:
        if not self.items:
            return "empty"
        size = sum(item.size for item in self.items)
        return f"{len(self.items)} formats, {size:,} bytes"


class X11Offer:
    def __init__(self) -> None:
        self._taken = threading.Event()

    def expect_paste(self, window: int | None) -> None:
        """X11 clipboard readers ask for a target type first and read data only to paste it: any
        read counts."""

    def wait_taken(self, timeout: float) -> bool:
        return self._taken.wait(timeout)


class _Incoming:
    """An INCR transfer we are sending, chunk by chunk, as the requestor deletes the property."""

    def __init__(self, window: Any, prop: int, item_type: int, item: Item) -> None:
        self.window, self.prop, self.type, self.item = window, prop, item_type, item
        self.offset = 0


class X11Clipboard:
    def __init__(self, display_name: str | None = None) -> None:
        try:
            self._display = xdisplay.Display(display_name)
        except (DisplayError, Exception) as error:  # Xlib raises several kinds for "no display"
            raise DesktopError(f"Cannot open the X display {display_name or os.environ.get('DISPLAY', '')!r}: {error}") from error
        if not self._display.has_extension("XFIXES"):
            raise DesktopError("The X server lacks the XFIXES extension; clipboard changes cannot be seen.")
        self._display.xfixes_query_version()
        root = self._display.screen().root
        self._window = root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self._atom = self._display.get_atom
        self.CLIPBOARD, self.PRIMARY = self._atom("CLIPBOARD"), Xatom.PRIMARY
        self._property = self._atom("PHITRAY_SELECTION")
        self._incr = self._atom("INCR")
        self._display.xfixes_select_selection_input(self._window, self.CLIPBOARD, xfixes.XFixesSetSelectionOwnerNotifyMask)
        self._display.flush()
        self._owner_notify = tuple(self._display.extension_event.SetSelectionOwnerNotify)
        self._chunk_limit = min(INCR_CHUNK_BYTES * 4, self._display.display.info.max_request_length * 4 - 1024)
        # What we serve while we own the clipboard, and the offer waiting for its paste.
        self._items: tuple[Item, ...] = ()
        self._owned_since = X.CurrentTime
        self._offer: X11Offer | None = None
        self._sending: dict[tuple[int, int], _Incoming] = {}
        self._mark = 0
        self._changed = threading.Condition()
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._wake_read, self._wake_write = os.pipe()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="x11-clipboard", daemon=True)
        self._thread.start()

    # --- the Clipboard protocol (any thread) ---------------------------------------------

    def change_mark(self) -> int:
        def settled() -> int:
            self._display.sync()  # every owner change so far has reached us
            self._drain()
            return self._mark
        return self._call(settled)

    def wait_for_change(self, mark: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._mark != mark, timeout)

    def snapshot(self) -> X11Snapshot:
        return self._call(self._take_snapshot)

    def restore(self, snapshot: Any) -> None:
        assert isinstance(snapshot, X11Snapshot)
        self._call(lambda: self._own(snapshot.items))

    def read_text(self) -> str | None:
        return self._call(lambda: self._read_text(self.CLIPBOARD))

    def read_selection(self) -> str | None:
        return self._call(lambda: self._read_text(self.PRIMARY))

    def offer_text(self, text: str) -> X11Offer:
        offer = X11Offer()
        self._call(lambda: self._own(text_items(text), offer))
        return offer

    def keep_text(self, text: str) -> None:
        self.offer_text(text)  # the agent stays the owner and answers every paste; X11 has no history to keep out of

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_write, b"q")
        self._thread.join(timeout=2)
        self._display.close()

    # --- the X thread ------------------------------------------------------------------

    def _call(self, work: Callable[[], T]) -> T:
        if self._closed:
            raise DesktopError("The clipboard is closed.")
        if threading.current_thread() is self._thread:
            return work()
        future: Future[T] = Future()
        self._calls.put((work, future))
        os.write(self._wake_write, b"w")
        return future.result(timeout=SNAPSHOT_BUDGET_SECONDS + 5)

    def _loop(self) -> None:
        """The clipboard thread: serve requests, count owner changes, run queued calls."""
        fd = self._display.fileno()
        while not self._closed:
            self._drain()
            while not self._calls.empty():
                work, future = self._calls.get()
                try:
                    future.set_result(work())
                except BaseException as error:  # handed to the caller's thread
                    future.set_exception(error)
            if self._display.pending_events():  # sending can read events into Xlib's queue
                continue
            readable, _, _ = select.select([fd, self._wake_read], [], [])
            if self._wake_read in readable:
                os.read(self._wake_read, 4096)

    def _drain(self) -> None:
        while self._display.pending_events():
            self._handle(self._display.next_event())

    def _wait_for(self, wanted: Callable[[Any], bool], timeout: float) -> Any | None:
        """Handle events until one matches; None on timeout. Runs on the X thread."""
        deadline = time.monotonic() + timeout
        fd = self._display.fileno()
        while True:
            while self._display.pending_events():
                event = self._display.next_event()
                if wanted(event):
                    return event
                self._handle(event)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self._display.pending_events():  # sends our requests; may queue events
                select.select([fd], [], [], remaining)

    def _handle(self, event: Any) -> None:
        # Compared by code: Xlib loads extension modules a second time, so isinstance fails.
        if (event.type, getattr(event, "sub_code", None)) == self._owner_notify:
            with self._changed:
                self._mark += 1
                self._changed.notify_all()
        elif event.type == X.SelectionRequest:
            self._serve(event)
        elif event.type == X.SelectionClear and event.atom == self.CLIPBOARD:
            self._items, self._offer = (), None
        elif event.type == X.PropertyNotify and event.state == X.PropertyDelete:
            self._send_next_chunk(event)

    # --- owning ------------------------------------------------------------------------

    def _own(self, items: tuple[Item, ...], offer: X11Offer | None = None) -> None:
        if not items:
            if self._owner(self.CLIPBOARD) == self._window.id:
                request.SetSelectionOwner(
                    display=self._display.display, window=X.NONE, selection=self.CLIPBOARD, time=X.CurrentTime
                )
            self._items, self._offer = (), None
            return
        self._items, self._offer = items, offer
        self._owned_since = self._server_time()
        self._window.set_selection_owner(self.CLIPBOARD, self._owned_since)
        if self._owner(self.CLIPBOARD) != self._window.id:
            self._items, self._offer = (), None
            raise DesktopError("Another program refused to give up the clipboard.")

    def _owner(self, selection: int) -> int:
        owner = self._display.get_selection_owner(selection)
        return int(getattr(owner, "id", owner))

    def _server_time(self) -> int:
        """A real X timestamp (ICCCM: owners must not use CurrentTime), from a no-op property append."""
        stamp = self._atom("PHITRAY_TIMESTAMP")
        self._window.change_property(stamp, Xatom.STRING, 8, b"", X.PropModeAppend)
        event = self._wait_for(
            lambda e: e.type == X.PropertyNotify and e.window.id == self._window.id and e.atom == stamp, READ_TIMEOUT_SECONDS
        )
        return event.time if event is not None else X.CurrentTime

    def _serve(self, request: Any) -> None:
        prop = request.property or request.target  # obsolete requestors pass None
        reply_prop = X.NONE
        target_name = self._display.get_atom_name(request.target)
        items = {item.target: item for item in self._items} if request.selection == self.CLIPBOARD else {}
        requestor = request.requestor
        if items:
            if target_name == "TARGETS":
                atoms = [self._atom(name) for name in ("TARGETS", "TIMESTAMP", *items)]
                requestor.change_property(prop, Xatom.ATOM, 32, atoms)
                reply_prop = prop
            elif target_name == "TIMESTAMP":
                requestor.change_property(prop, Xatom.INTEGER, 32, [self._owned_since])
                reply_prop = prop
            elif target_name in items:
                item = items[target_name]
                if item.size > self._chunk_limit:
                    requestor.change_attributes(event_mask=X.PropertyChangeMask)
                    requestor.change_property(prop, self._incr, 32, [item.size])
                    self._sending[(requestor.id, prop)] = _Incoming(requestor, prop, self._atom(item.type), item)
                else:
                    requestor.change_property(prop, self._atom(item.type), item.format, item.data)
                reply_prop = prop
                if self._offer is not None and target_name in TEXT_TARGETS:
                    self._offer._taken.set()
        notify = xevent.SelectionNotify(
            time=request.time, requestor=requestor, selection=request.selection,
            target=request.target, property=reply_prop,
        )
        requestor.send_event(notify, event_mask=0)
        self._display.flush()

    def _send_next_chunk(self, event: Any) -> None:
        transfer = self._sending.get((event.window.id, event.atom))
        if transfer is None:
            return
        unit = 1 if transfer.item.format == 8 else transfer.item.format // 8
        step = INCR_CHUNK_BYTES // unit
        piece = transfer.item.data[transfer.offset : transfer.offset + step]
        transfer.offset += step
        transfer.window.change_property(transfer.prop, transfer.type, transfer.item.format, piece)
        if not piece:  # the zero-length write that ends the transfer
            del self._sending[(event.window.id, event.atom)]
        self._display.flush()

    # --- reading -----------------------------------------------------------------------

    def _read(self, selection: int, target: str, timeout: float = READ_TIMEOUT_SECONDS) -> tuple[str, int, Any] | None:
        """(type, format, data) of one target, following INCR; None when refused or too slow."""
        target_atom = self._atom(target)
        self._window.delete_property(self._property)
        self._window.convert_selection(selection, target_atom, self._property, X.CurrentTime)
        reply = self._wait_for(
            lambda e: e.type == X.SelectionNotify and e.requestor.id == self._window.id and e.selection == selection, timeout
        )
        if reply is None or reply.property == X.NONE:
            return None
        prop = self._window.get_full_property(self._property, X.AnyPropertyType)
        self._window.delete_property(self._property)
        if prop is None:
            return None
        if prop.property_type != self._incr:
            return self._display.get_atom_name(prop.property_type), prop.format, prop.value
        return self._read_incr(timeout)

    def _read_incr(self, timeout: float) -> tuple[str, int, Any] | None:
        parts: list[Any] = []
        item_type, item_format = "", 8
        self._display.flush()
        while True:
            event = self._wait_for(
                lambda e: e.type == X.PropertyNotify and e.window.id == self._window.id
                and e.atom == self._property and e.state == X.PropertyNewValue,
                timeout,
            )
            if event is None:
                return None
            prop = self._window.get_full_property(self._property, X.AnyPropertyType)
            self._window.delete_property(self._property)
            self._display.flush()
            if prop is None:
                return None
            if len(prop.value) == 0:
                data = b"".join(parts) if item_format == 8 else tuple(v for part in parts for v in part)
                return item_type, item_format, data
            item_type, item_format = self._display.get_atom_name(prop.property_type), prop.format
            parts.append(prop.value)

    def _read_text(self, selection: int) -> str | None:
        if self._owner(selection) == X.NONE:
            return None
        for target in ("UTF8_STRING", "text/plain;charset=utf-8", "STRING"):
            found = self._read(selection, target)
            if found is not None and found[1] == 8:
                data = found[2]
                encoding = "latin-1" if target == "STRING" and found[0] == "STRING" else "utf-8"
                return bytes(data).decode(encoding, errors="replace")
        return None

    def _take_snapshot(self) -> X11Snapshot:
        owner = self._owner(self.CLIPBOARD)
        if owner == X.NONE:
            return X11Snapshot(())
        if owner == self._window.id:
            return X11Snapshot(self._items)
        started = time.monotonic()
        listed = self._read(self.CLIPBOARD, "TARGETS")
        if listed is None:  # an owner that cannot list its formats: keep its text at least
            names = list(TEXT_TARGETS[:3])
        else:
            names = list(dict.fromkeys(self._display.get_atom_name(atom) for atom in listed[2]))
        items, skipped, total = [], [], 0
        for name in names:
            if name in META_TARGETS or not name:
                continue
            left = SNAPSHOT_BUDGET_SECONDS - (time.monotonic() - started)
            found = self._read(self.CLIPBOARD, name, min(READ_TIMEOUT_SECONDS, left)) if left > 0 else None
            if found is None:
                skipped.append(name)
                continue
            data = bytes(found[2]) if found[1] == 8 else tuple(found[2])
            item = Item(name, found[0], found[1], data)
            total += item.size
            if total > SNAPSHOT_MAX_BYTES:
                skipped.append(name)
                continue
            items.append(item)
        return X11Snapshot(tuple(items), tuple(skipped))


def text_items(text: str) -> tuple[Item, ...]:
    utf8 = text.encode("utf-8", errors="surrogatepass")
    latin = text.encode("latin-1", errors="replace")
    return (
        Item("UTF8_STRING", "UTF8_STRING", 8, utf8),
        Item("text/plain;charset=utf-8", "text/plain;charset=utf-8", 8, utf8),
        Item("STRING", "STRING", 8, latin),
        Item("TEXT", "UTF8_STRING", 8, utf8),
    )
