"""The X11 clipboard, owned and read by the agent itself (python-xlib), not through xclip.

Owning the CLIPBOARD selection ourselves is what lets the agent see a paste
happen: the target application asks the owner for the text, so "the paste was
taken" is an event, not a guess after a sleep. Only a read that comes after
Ctrl+V from the target's own program counts: a clipboard manager reads every
new owner, and taking its read for the paste would give the old clipboard back
before the target asked. XFixes tells us whenever anyone else takes the
clipboard (about 3 ms after a Ctrl+C), which is how a copy is confirmed.

Snapshots keep every format the owner offers (text first, then HTML and
images), each read up to what is left of a 64 MB and 2 s budget; what does not
fit is said once. Every write of the agent's but text the person asked to keep
offers `x-kde-passwordManagerHint: secret`, which keeps it out of clipboard
histories. At quit the clipboard is handed on (`x11_keeper`): X drops a
selection with its owner.

All X traffic happens on one thread ("x11-clipboard") with its own connection;
the public methods hand work to it and wait for the answer.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from Xlib import X, Xatom, display as xdisplay
from Xlib.error import DisplayError
from Xlib.ext import xfixes
from Xlib.protocol import request

from phitray.desktop import x11_keeper
from phitray.desktop.snapshot import ClipboardSnapshot
from phitray.desktop.x11_selection import (HINT_ITEM, KDE_HINT, PASTE_TARGETS, TEXT_TARGETS, Item, SelectionReader,
                                           SelectionServer, html_item, html_of, megabytes, snapshot_order,
                                           text_items, text_of)
from phitray.desktop.x11_windows import Program, program_of
from phitray.errors import DesktopError

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_TIMEOUT_SECONDS = 1.0
SNAPSHOT_BUDGET_SECONDS = 2.0
SNAPSHOT_MAX_BYTES = 64_000_000
CALL_SECONDS = SNAPSHOT_BUDGET_SECONDS + 5
Notify = Callable[[str], None]


class X11Offer:
    """Text on the clipboard for one paste; taken once the target's program reads it after Ctrl+V."""

    def __init__(self, clipboard: X11Clipboard) -> None:
        self._clipboard = clipboard
        self.taken = threading.Event()
        self.armed = False
        self.target: Program | None = None  # None: the target is not known, so any read after Ctrl+V counts
        self.others = 0  # reads by other programs, answered but not counted

    def expect_paste(self, window: int | None) -> None:
        """Called on the jobs thread right before Ctrl+V: from now on, a read by `window`'s program is the paste."""
        self._clipboard.arm(self, window)

    def wait_taken(self, timeout: float) -> bool:
        return self.taken.wait(timeout)


class X11Clipboard:
    def __init__(self, display_name: str | None = None, notify: Notify | None = None) -> None:
        try:
            self._display = xdisplay.Display(display_name)
        except (DisplayError, Exception) as error:  # Xlib raises several kinds for "no display"
            raise DesktopError(f"Cannot open the X display {display_name or os.environ.get('DISPLAY', '')!r}: {error}") from error
        if not self._display.has_extension("XFIXES"):
            raise DesktopError("The X server lacks the XFIXES extension; clipboard changes cannot be seen.")
        self._display.xfixes_query_version()
        self._notify = notify
        root = self._display.screen().root
        self._window = root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self._atom = self._display.get_atom
        self.CLIPBOARD, self.PRIMARY = self._atom("CLIPBOARD"), Xatom.PRIMARY
        self._display.xfixes_select_selection_input(self._window, self.CLIPBOARD, xfixes.XFixesSetSelectionOwnerNotifyMask)
        self._display.flush()
        self._owner_notify = tuple(self._display.extension_event.SetSelectionOwnerNotify)
        self._server = SelectionServer(self._display)
        self._reader = SelectionReader(self._display, self._window, self._wait_for)
        # What we serve while we own the clipboard, and the offer waiting for its paste.
        self._items: tuple[Item, ...] = ()
        self._secret = False  # the hint that keeps clipboard histories away goes with the items
        self._left_out: tuple[str, ...] = ()
        self._owned_since = X.CurrentTime
        self._offer: X11Offer | None = None
        self._on_primary = False  # the offer is served on PRIMARY too, for a terminal's Shift+Insert
        self._mark = 0
        self._said_at = -1  # the change mark whose left-out formats were told to the person
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

    def snapshot(self) -> ClipboardSnapshot[Item]:
        return self._call(self._take_snapshot)

    def restore(self, snapshot: Any) -> None:
        assert isinstance(snapshot, ClipboardSnapshot)
        self._call(lambda: self._own(snapshot.items, secret=True, left_out=snapshot.left_out))

    def read_text(self, max_chars: int | None = None) -> str | None:
        return self._call(lambda: self._read_text(self.CLIPBOARD, max_chars))

    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None:
        def read() -> str | None:
            holder = self._owner(self.PRIMARY)
            if holder == X.NONE or owner is not None and not program_of(self._display, holder).same_as(
                    program_of(self._display, owner)):
                return None
            return self._read_text(self.PRIMARY, max_chars)
        return self._call(read)

    def read_html(self, primary: bool = False, max_bytes: int = 8_000_000) -> str | None:
        def read() -> str | None:
            selection = self.PRIMARY if primary else self.CLIPBOARD
            if self._owner(selection) in (X.NONE, self._window.id):
                return None
            found = self._reader.read(selection, "text/html", READ_TIMEOUT_SECONDS, max_bytes)
            return None if found is None or found.cut or found.format != 8 else html_of(bytes(found.data))
        return self._call(read)

    def selection_has_html(self) -> bool:
        return True

    def offer_text(self, text: str, html: str | None = None) -> X11Offer:
        offer = X11Offer(self)
        items = text_items(text) + ((html_item(html),) if html else ())
        self._call(lambda: self._own(items, secret=True, offer=offer))
        return offer

    def keep_text(self, text: str) -> None:
        """The person's to keep (Copy, clipboard output): histories may record it."""
        self._call(lambda: self._own(text_items(text), secret=False))

    def offer_on_primary(self) -> None:
        """Serve the offer on PRIMARY too until the clipboard next changes hands: terminals paste PRIMARY."""
        def own() -> None:
            self._on_primary = True
            self._window.set_selection_owner(self.PRIMARY, self._owned_since)
            if self._owner(self.PRIMARY) != self._window.id:  # a round trip: the terminal asks only after it
                self._on_primary = False
                raise DesktopError("Another program refused to give up the PRIMARY selection.")
        self._call(own)

    def arm(self, offer: X11Offer, window: int | None) -> None:
        def armed() -> None:
            offer.target = program_of(self._display, window) if window else None
            offer.armed = True
        self._call(armed)

    def close(self) -> None:
        """Hand the clipboard on (a clipboard manager, else a holder process), then let go of the display."""
        if self._closed:
            return
        try:
            self._call(self._hand_off, x11_keeper.HAND_OFF_SECONDS + 2)
        except Exception:  # quitting goes on; the log says what was lost
            log.exception("the clipboard could not be handed on at quit")
        self._closed = True
        os.write(self._wake_write, b"q")
        self._thread.join(timeout=2)
        try:
            self._display.close()
        except Exception:  # a connection that broke is closed already
            pass

    # --- the X thread ------------------------------------------------------------------

    def _call(self, work: Callable[[], T], timeout: float = CALL_SECONDS) -> T:
        if self._closed:
            raise DesktopError("The clipboard is closed.")
        if not self._thread.is_alive():  # its connection broke: nobody would answer
            raise DesktopError("The clipboard lost its connection to the X server.")
        if threading.current_thread() is self._thread:
            return work()
        future: Future[T] = Future()
        self._calls.put((work, future))
        os.write(self._wake_write, b"w")
        if not self._thread.is_alive():  # it ended after the check above, maybe before seeing this call
            self._fail_waiting()
        return future.result(timeout=timeout)

    def _loop(self) -> None:
        """The clipboard thread: serve requests, count owner changes, run queued calls."""
        fd = self._display.fileno()
        try:
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
        except Exception:  # the X server went away: every waiting caller hears it at once
            log.warning("the clipboard's connection to the X server broke", exc_info=True)
        finally:
            self._fail_waiting()

    def _fail_waiting(self) -> None:
        while not self._calls.empty():
            _, future = self._calls.get()
            future.set_exception(DesktopError("The clipboard lost its connection to the X server."))

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
            self._items, self._offer, self._left_out = (), None, ()
        elif event.type == X.SelectionClear and event.atom == self.PRIMARY:
            self._on_primary = False
        elif event.type == X.PropertyNotify and event.state == X.PropertyDelete:
            self._server.on_property_delete(event)

    # --- owning ------------------------------------------------------------------------

    def _own(self, items: tuple[Item, ...], secret: bool, offer: X11Offer | None = None,
             left_out: tuple[str, ...] = ()) -> None:
        if self._on_primary:  # a terminal's paste is over: PRIMARY is for whoever selects next
            self._on_primary = False
            if self._owner(self.PRIMARY) == self._window.id:
                request.SetSelectionOwner(display=self._display.display, window=X.NONE, selection=self.PRIMARY,
                                          time=X.CurrentTime)
        if not items:
            if self._owner(self.CLIPBOARD) == self._window.id:
                request.SetSelectionOwner(display=self._display.display, window=X.NONE, selection=self.CLIPBOARD,
                                          time=X.CurrentTime)
            self._items, self._offer, self._left_out = (), None, ()
            return
        self._items, self._secret, self._offer, self._left_out = items, secret, offer, left_out
        self._owned_since = self._server_time()
        self._window.set_selection_owner(self.CLIPBOARD, self._owned_since)
        if self._owner(self.CLIPBOARD) != self._window.id:
            self._items, self._offer = (), None
            raise DesktopError("Another program refused to give up the clipboard.")

    def _served(self) -> tuple[Item, ...]:
        if self._secret and all(item.target != KDE_HINT for item in self._items):
            return (*self._items, HINT_ITEM)
        return self._items

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

    def _serve(self, asked: Any) -> None:
        on_primary = asked.selection == self.PRIMARY and self._on_primary
        items = self._served() if asked.selection == self.CLIPBOARD or on_primary else ()
        served = self._server.answer(asked, items, self._owned_since)
        offer = self._offer
        if offer is None or served not in PASTE_TARGETS or not offer.armed or offer.taken.is_set():
            return
        if offer.target is None or program_of(self._display, asked.requestor.id).same_as(offer.target):
            offer.taken.set()
        else:
            offer.others += 1
            if offer.others == 1:
                log.info("another program read the paste offer; still waiting for the target's read")

    def _hand_off(self) -> None:
        if self._owner(self.CLIPBOARD) != self._window.id or not self._items:
            return
        secret, self._secret = self._secret, False  # a manager that honours the hint would save nothing
        kept = x11_keeper.hand_off(self._display, self._window, self._wait_for, self._items, secret)
        log.info("at quit the clipboard (%s) went to %s", ClipboardSnapshot(self._items).describe(), kept or "nobody")

    # --- reading -----------------------------------------------------------------------

    def _read_text(self, selection: int, max_chars: int | None) -> str | None:
        """The selection's text; with `max_chars`, at most one character more (which says there was more)."""
        owner = self._owner(selection)
        if owner == X.NONE:
            return None
        if owner == self._window.id and selection == self.CLIPBOARD:
            return text_of(self._items, max_chars)
        max_bytes = None if max_chars is None else 4 * (max_chars + 1)  # UTF-8 takes at most 4 bytes a character
        for target in ("UTF8_STRING", "text/plain;charset=utf-8", "STRING"):
            found = self._reader.read(selection, target, READ_TIMEOUT_SECONDS, max_bytes, partial=True)
            if found is not None and found.format == 8 and (found.data or not found.cut):
                encoding = "latin-1" if target == "STRING" and found.type == "STRING" else "utf-8"
                text = bytes(found.data).decode(encoding, errors="replace")
                if found.cut:
                    log.info("read %s of a larger selection and stopped (%s)", megabytes(len(found.data)), found.cut)
                return text if max_chars is None else text[:max_chars + 1]
        return None

    def _take_snapshot(self) -> ClipboardSnapshot[Item]:
        owner = self._owner(self.CLIPBOARD)
        if owner == X.NONE:
            return ClipboardSnapshot(())
        if owner == self._window.id:
            return ClipboardSnapshot(self._items, self._left_out)
        started = time.monotonic()
        listed = self._reader.read(self.CLIPBOARD, "TARGETS", READ_TIMEOUT_SECONDS)
        if listed is None or listed.cut or listed.format != 32:  # an owner that cannot list its formats: its text
            names = list(TEXT_TARGETS[:3])
        else:
            names = list(dict.fromkeys(self._display.get_atom_name(atom) for atom in listed.data))
        items: list[Item] = []
        left_out: list[str] = []
        total = 0
        for name in snapshot_order(names):
            time_left = SNAPSHOT_BUDGET_SECONDS - (time.monotonic() - started)
            if time_left <= 0:
                left_out.append(f"{name} (no time left)")
                continue
            found = self._reader.read(self.CLIPBOARD, name, min(READ_TIMEOUT_SECONDS, time_left),
                                      SNAPSHOT_MAX_BYTES - total)
            if found is None:
                continue  # the owner listed it but does not give it: nothing of the person's is lost
            if found.cut == "large":
                left_out.append(f"{name} ({megabytes(found.size)}+, over the {megabytes(SNAPSHOT_MAX_BYTES)} kept)")
                continue
            if found.cut:
                left_out.append(f"{name} (not given within {READ_TIMEOUT_SECONDS:g} s)")
                continue
            data = bytes(found.data) if found.format == 8 else tuple(found.data)
            items.append(Item(name, found.type, found.format, data))
            total += items[-1].size
        snapshot = ClipboardSnapshot(tuple(items), tuple(left_out))
        if left_out:
            self._say_left_out(snapshot)
        return snapshot

    def _say_left_out(self, snapshot: ClipboardSnapshot[Item]) -> None:
        """Once per clipboard content: the formats a snapshot could not keep (names and sizes, never content)."""
        log.warning("clipboard snapshot: %s (they will not come back after the paste)", snapshot.describe())
        if self._notify is not None and self._said_at != self._mark:
            self._said_at = self._mark
            self._notify(f"Your clipboard's {', '.join(snapshot.left_out)} could not be kept while Phi Tray "
                         "works: after this action the clipboard holds the rest of it.")
