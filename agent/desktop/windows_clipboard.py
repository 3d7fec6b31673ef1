"""Windows clipboard through ctypes (user32): snapshots, restores, and offers whose paste is seen.

The clipboard is owned from one thread with a message-only window, for two
reasons: Windows sends the owner messages (a thread that never pumps them
stalls other programs), and delayed rendering makes a paste observable. The
agent offers its result as CF_UNICODETEXT with no data; the target's
GetClipboardData sends us WM_RENDERFORMAT, and that is "the paste was taken" —
but only once the agent has sent Ctrl+V, and only for the target's program
(`windows_rules.render_for`): clipboard managers, remote desktops and VM tools
read every change. Every write the agent makes is kept out of cloud sync, and
all but the ones the person asked for (Copy, clipboard output) out of clipboard
histories and managers too: a paste offer and a restore are not new content.

Snapshots copy every format backed by global memory (text, HTML, DIB, files, private formats); GDI-handle
formats (CF_BITMAP, metafiles) are skipped, as Windows synthesizes CF_BITMAP from CF_DIB. A large Excel range
offers dozens of formats rendered on demand: a snapshot reads text and the usual formats first and stops at
SNAPSHOT_SECONDS or SNAPSHOT_BYTES, saying what it left out. The selection itself is read without the clipboard
where UI Automation gives it (`windows_uia`, as `read_selection`).
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from ctypes import wintypes
from typing import Any, NamedTuple, TypeVar

from phitray.errors import DesktopError

assert sys.platform == "win32"

from phitray.desktop.windows_api import (WNDENUMPROC, CallQueue, class_name, declare, program_name,  # noqa: E402
                                         window_process)
from phitray.desktop import windows_uia  # noqa: E402
from phitray.desktop.snapshot import ClipboardSnapshot  # noqa: E402
from phitray.desktop.windows_rules import render_for, snapshot_order, uia_worth_asking  # noqa: E402
from phitray.desktop import cf_html  # noqa: E402
from phitray.desktop.windows_offer import WinOffer, html_format, programs_of as _programs_of  # noqa: E402

log = logging.getLogger(__name__)
T = TypeVar("T")

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

CF_UNICODETEXT = 13
GDI_FORMATS = {2, 3, 9, 14, 0x80, 0x82, 0x83, 0x8E}  # bitmap, metafile, palette, enhmetafile, display formats
GMEM_MOVEABLE = 0x0002
WM_APP, WM_RENDERFORMAT, WM_RENDERALLFORMATS, WM_DESTROYCLIPBOARD = 0x8000, 0x0305, 0x0306, 0x0307
HWND_MESSAGE = wintypes.HWND(-3)
OPEN_PAUSE = 0.005
OPEN_PATIENCE = 0.25  # another program may hold the clipboard for a moment
# Giving the person's clipboard back is worth waiting for: a clipboard manager or remote desktop that
# reads every change holds the clipboard open for a while after each one.
RESTORE_PATIENCE = 2.0
SNAPSHOT_SECONDS, SNAPSHOT_BYTES = 1.5, 64_000_000
CALL_SECONDS = 10.0
# A format being rendered cannot be interrupted: past this, the snapshot gives up on an owner that hangs.
SNAPSHOT_CALL_SECONDS = SNAPSHOT_SECONDS + 3.5
NO_SYNC_FORMATS = (("CanUploadToCloudClipboard", b"\0\0\0\0"),)
NO_HISTORY_FORMATS = (
    ("ExcludeClipboardContentFromMonitorProcessing", b"\0\0\0\0"),
    ("CanIncludeInClipboardHistory", b"\0\0\0\0"),
    ("Clipboard Viewer Ignore", b"\0\0\0\0"),  # the older mark KeePass sets: Ditto and CLCL skip a change with it
    *NO_SYNC_FORMATS,
)
EXCLUSION_NAMES = frozenset(name for name, _ in NO_HISTORY_FORMATS)

WNDPROC = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)


class WNDCLASSW(ctypes.Structure):
    _fields_ = [("style", wintypes.UINT), ("lpfnWndProc", WNDPROC), ("cbClsExtra", ctypes.c_int),
                ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH), ("lpszMenuName", wintypes.LPCWSTR),
                ("lpszClassName", wintypes.LPCWSTR)]


declare(user32, (
    ("OpenClipboard", [wintypes.HWND], wintypes.BOOL),
    ("CloseClipboard", [], wintypes.BOOL),
    ("EmptyClipboard", [], wintypes.BOOL),
    ("EnumClipboardFormats", [wintypes.UINT], wintypes.UINT),
    ("GetClipboardData", [wintypes.UINT], wintypes.HANDLE),
    ("SetClipboardData", [wintypes.UINT, wintypes.HANDLE], wintypes.HANDLE),
    ("GetClipboardSequenceNumber", [], wintypes.DWORD),
    ("GetClipboardOwner", [], wintypes.HWND),
    ("IsClipboardFormatAvailable", [wintypes.UINT], wintypes.BOOL),
    ("RegisterClipboardFormatW", [wintypes.LPCWSTR], wintypes.UINT),
    ("GetClipboardFormatNameW", [wintypes.UINT, wintypes.LPWSTR, ctypes.c_int], ctypes.c_int),
    ("RegisterClassW", [ctypes.POINTER(WNDCLASSW)], wintypes.ATOM),
    ("CreateWindowExW", [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_int,
                         ctypes.c_int, ctypes.c_int, ctypes.c_int, wintypes.HWND, wintypes.HMENU,
                         wintypes.HINSTANCE, wintypes.LPVOID], wintypes.HWND),
    ("DefWindowProcW", [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM], ctypes.c_ssize_t),
    ("GetMessageW", [ctypes.POINTER(wintypes.MSG), wintypes.HWND, wintypes.UINT, wintypes.UINT], wintypes.BOOL),
    ("DispatchMessageW", [ctypes.POINTER(wintypes.MSG)], ctypes.c_ssize_t),
    ("PostMessageW", [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM], wintypes.BOOL),
    ("DestroyWindow", [wintypes.HWND], wintypes.BOOL),
    ("GetOpenClipboardWindow", [], wintypes.HWND),
    ("EnumChildWindows", [wintypes.HWND, WNDENUMPROC, wintypes.LPARAM], wintypes.BOOL),
))
declare(kernel32, (
    ("GlobalAlloc", [wintypes.UINT, ctypes.c_size_t], wintypes.HGLOBAL),
    ("GlobalLock", [wintypes.HGLOBAL], wintypes.LPVOID),
    ("GlobalUnlock", [wintypes.HGLOBAL], wintypes.BOOL),
    ("GlobalSize", [wintypes.HGLOBAL], ctypes.c_size_t),
    ("GlobalFree", [wintypes.HGLOBAL], wintypes.HGLOBAL),
    ("GetModuleHandleW", [wintypes.LPCWSTR], wintypes.HMODULE),
))


class WinFormat(NamedTuple):
    name: str  # a registered format's name (their ids differ per session), or ""
    fmt: int
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def _global_bytes(data: bytes) -> Any:
    handle = kernel32.GlobalAlloc(GMEM_MOVEABLE, max(1, len(data)))
    if not handle:
        raise DesktopError("Out of memory for the clipboard.")
    pointer = kernel32.GlobalLock(handle)
    ctypes.memmove(pointer, data, len(data))
    kernel32.GlobalUnlock(handle)
    return handle


def _read_global(handle: Any, max_bytes: int | None = None) -> bytes | None:
    size = kernel32.GlobalSize(handle)
    pointer = kernel32.GlobalLock(handle)
    if not pointer:
        return None
    try:
        return ctypes.string_at(pointer, size if max_bytes is None else min(size, max_bytes))
    finally:
        kernel32.GlobalUnlock(handle)


class WinClipboard:
    def __init__(self) -> None:
        self._calls = CallQueue()
        self._offer: WinOffer | None = None
        self._ready = threading.Event()
        self._hwnd: Any = None
        self._proc = WNDPROC(self._window_proc)  # kept referenced: Windows calls it
        self._thread = threading.Thread(target=self._loop, name="win32-clipboard", daemon=True)
        self._thread.start()
        if not self._ready.wait(5) or not self._hwnd:
            raise DesktopError("Could not create the clipboard window.")

    # --- the Clipboard protocol (any thread) -------------------------------------------

    def change_mark(self) -> int:
        return int(user32.GetClipboardSequenceNumber())

    def wait_for_change(self, mark: int, timeout: float) -> bool:
        # Windows has a change message, but only for a window's own thread; the job waits here briefly.
        deadline = time.monotonic() + timeout
        while user32.GetClipboardSequenceNumber() == mark:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def snapshot(self) -> ClipboardSnapshot[WinFormat]:
        return self._call(self._take_snapshot, timeout=SNAPSHOT_CALL_SECONDS)

    def restore(self, snapshot: Any) -> None:
        assert isinstance(snapshot, ClipboardSnapshot)
        items: list[tuple[str, int, bytes | None]] = [item for item in snapshot.items if item[0] not in EXCLUSION_NAMES]
        items += [(name, 0, data) for name, data in NO_HISTORY_FORMATS]
        self._call(lambda: self._write(items, RESTORE_PATIENCE), timeout=CALL_SECONDS + RESTORE_PATIENCE)

    def read_text(self, max_chars: int | None = None) -> str | None:
        return self._call(lambda: self._read_text(max_chars))

    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None:
        if not owner or not uia_worth_asking(class_name(owner)):
            return None
        return windows_uia.selection(_programs_of(owner), max_chars)  # no Ctrl+C, no clipboard

    def read_html(self, primary: bool = False, max_bytes: int = 8_000_000) -> str | None:
        return None if primary else self._call(lambda: self._read_html(max_bytes))

    def selection_has_html(self) -> bool:
        return False  # UI Automation's selection is text: HTML Format comes only with a copy

    def offer_text(self, text: str, html: str | None = None) -> WinOffer:
        offer = WinOffer(text, html)  # rendered when read: CF_UNICODETEXT, and HTML Format with `html`

        def own() -> None:
            self._write([*(("", fmt, None) for fmt in offer.formats), *((n, 0, d) for n, d in NO_HISTORY_FORMATS)])
            self._offer = offer
        self._call(own)
        return offer

    def keep_text(self, text: str) -> None:
        data = (text + "\0").encode("utf-16-le")
        self._call(lambda: self._write([("", CF_UNICODETEXT, data), *((name, 0, d) for name, d in NO_SYNC_FORMATS)]))

    def close(self) -> None:
        if self._hwnd:
            self._call(lambda: self._render_pending())
            user32.PostMessageW(self._hwnd, 0x0012, 0, 0)  # WM_QUIT
            self._thread.join(timeout=2)

    # --- the clipboard thread ----------------------------------------------------------

    def _call(self, work: Callable[[], T], timeout: float = CALL_SECONDS) -> T:
        if threading.current_thread() is self._thread:
            return work()
        future = self._calls.put(work)
        user32.PostMessageW(self._hwnd, WM_APP, 0, 0)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            raise DesktopError(
                f"The clipboard did not answer within {timeout:.0f} s: {_owner_name()} holds it and is not "
                "responding. Nothing was changed; close or wait for that program, then try again."
            ) from None

    def _loop(self) -> None:
        """The "win32-clipboard" thread: a message-only window and its message loop."""
        instance = kernel32.GetModuleHandleW(None)
        # A class per clipboard object: a class carries its window procedure, and ours is a bound method.
        class_name = f"PhiTrayClipboard{id(self):x}"
        window_class = WNDCLASSW(lpfnWndProc=self._proc, hInstance=instance, lpszClassName=class_name)
        user32.RegisterClassW(ctypes.byref(window_class))
        self._hwnd = user32.CreateWindowExW(0, class_name, "Phi Tray clipboard", 0, 0, 0, 0, 0,
                                            HWND_MESSAGE, None, instance, None)
        self._ready.set()
        message = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            user32.DispatchMessageW(ctypes.byref(message))

    def _window_proc(self, hwnd: Any, message: int, wparam: int, lparam: int) -> int:
        """Called on the clipboard thread for every message to our window."""
        try:
            if message == WM_APP:
                self._calls.run_all()
                return 0
            if message == WM_RENDERFORMAT and self._offer is not None and wparam in self._offer.formats:
                # Inside a reader's GetClipboardData: the clipboard is open already; only set the data.
                offer, reader = self._offer, user32.GetOpenClipboardWindow()
                if render_for(offer.armed, window_process(reader) if reader else None, offer.targets):
                    user32.SetClipboardData(wparam, _global_bytes(offer.formats[wparam]))
                    offer.taken.set()
                else:
                    log.info("a read of the paste offer by another program was not answered")
                return 0
            if message == WM_RENDERALLFORMATS:
                self._render_pending()
                return 0
            if message == WM_DESTROYCLIPBOARD:
                self._offer = None
                return 0
        except Exception:  # an exception must not cross into Windows' message dispatch
            log.exception("clipboard window message %#x failed", message)
        return int(user32.DefWindowProcW(hwnd, message, wparam, lparam))

    def _render_pending(self) -> None:
        """We are about to go away with an offer nobody read: give it real data first."""
        if self._offer is not None and user32.GetClipboardOwner() == self._hwnd:
            with self._opened():
                for fmt, data in self._offer.formats.items():
                    user32.SetClipboardData(fmt, _global_bytes(data))

    def _opened(self, patience: float = OPEN_PATIENCE) -> "_Open":
        return _Open(self._hwnd, patience)

    def _write(self, items: list[tuple[str, int, bytes | None]], patience: float = OPEN_PATIENCE) -> None:
        with self._opened(patience):
            user32.EmptyClipboard()
            self._offer = None
            for name, fmt, data in items:
                if name:
                    fmt = user32.RegisterClipboardFormatW(name)
                if not user32.SetClipboardData(fmt, None if data is None else _global_bytes(data)):
                    log.warning("clipboard format %s (%s) was not accepted", fmt, name)

    def _take_snapshot(self) -> ClipboardSnapshot[WinFormat]:
        items: list[WinFormat] = []
        left_out: list[str] = []
        size = 0
        deadline = time.monotonic() + SNAPSHOT_SECONDS
        with self._opened():
            formats, fmt = [], user32.EnumClipboardFormats(0)
            while fmt:
                if fmt not in GDI_FORMATS:
                    formats.append((fmt, _format_name(fmt)))
                fmt = user32.EnumClipboardFormats(fmt)
            for fmt, name in snapshot_order(formats):
                if time.monotonic() > deadline or size > SNAPSHOT_BYTES:
                    left_out.append(f"{name or fmt} (no time or room left)")
                    continue
                handle = user32.GetClipboardData(fmt)  # a delayed format is rendered by its owner now
                if handle and kernel32.GlobalSize(handle) > SNAPSHOT_BYTES - size:
                    left_out.append(f"{name or fmt} (too large)")  # not copied whole to find out
                    continue
                data = _read_global(handle) if handle else None
                if data is not None:
                    items.append(WinFormat(name, fmt, data))
                    size += len(data)
        snapshot = ClipboardSnapshot(tuple(items), tuple(left_out))
        if left_out:
            log.warning("clipboard snapshot: %s (they will not come back after the paste)", snapshot.describe())
        return snapshot

    def _read_text(self, max_chars: int | None) -> str | None:
        with self._opened():
            handle = user32.GetClipboardData(CF_UNICODETEXT)
            # Two bytes a UTF-16 unit; a character outside the BMP takes two units, so this keeps max_chars + 1 at least.
            data = _read_global(handle, None if max_chars is None else 4 * (max_chars + 1)) if handle else None
        if data is None:
            return None
        text = data.decode("utf-16-le", errors="replace").split("\0", 1)[0]
        return text if max_chars is None else text[:max_chars + 1]

    def _read_html(self, max_bytes: int) -> str | None:
        """HTML Format's fragment; none past `max_bytes` (a huge page is worked on as text)."""
        with self._opened():
            handle = user32.GetClipboardData(html_format())
            data = _read_global(handle) if handle and kernel32.GlobalSize(handle) <= max_bytes else None
        return cf_html.fragment(data) if data else None


class _Open:
    """OpenClipboard, retried for `patience` seconds (another program may hold it), and CloseClipboard."""

    def __init__(self, hwnd: Any, patience: float) -> None:
        self.hwnd, self.patience = hwnd, patience

    def __enter__(self) -> None:
        deadline = time.monotonic() + self.patience
        while not user32.OpenClipboard(self.hwnd):
            if time.monotonic() > deadline:
                holder = user32.GetOpenClipboardWindow()
                raise DesktopError(f"{program_name(window_process(holder)) if holder else 'Another program'} kept the "
                                   f"clipboard open for {self.patience:.1f} s; try again.")
            time.sleep(OPEN_PAUSE)

    def __exit__(self, *exc_info: object) -> None:
        user32.CloseClipboard()


def _format_name(fmt: int) -> str:
    """Registered formats (HTML Format, PNG…) get new ids per session: keep their names."""
    if fmt < 0xC000:
        return ""
    buffer = ctypes.create_unicode_buffer(256)
    length = user32.GetClipboardFormatNameW(fmt, buffer, 256)
    return buffer.value[:length]


def _owner_name() -> str:
    owner = user32.GetClipboardOwner()
    return program_name(window_process(owner)) if owner else "another program"
