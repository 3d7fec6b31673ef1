"""Windows clipboard through ctypes (user32): snapshots, restores, and offers whose paste is seen.

The clipboard is owned from one thread with a message-only window, for two
reasons: Windows sends the owner messages (a thread that never pumps them
stalls other programs), and delayed rendering makes a paste observable. The
agent offers its result as CF_UNICODETEXT with no data; the target's
GetClipboardData sends us WM_RENDERFORMAT, and that is "the paste was taken".
Offers are marked for exclusion from clipboard history and cloud sync, so
clipboard monitors do not render them early (and do not keep them).

Snapshots copy every format backed by global memory (text, HTML, DIB, files,
private formats); GDI-handle formats (CF_BITMAP, metafiles) are skipped, as
Windows synthesizes CF_BITMAP from CF_DIB.
"""

from __future__ import annotations

import ctypes
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from ctypes import wintypes
from dataclasses import dataclass
from typing import Any, TypeVar

from phitray.errors import DesktopError

assert sys.platform == "win32"

log = logging.getLogger(__name__)
T = TypeVar("T")

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

CF_UNICODETEXT = 13
GDI_FORMATS = {2, 3, 9, 14, 0x80, 0x82, 0x83, 0x8E}  # bitmap, metafile, palette, enhmetafile, display formats
GMEM_MOVEABLE = 0x0002
WM_APP, WM_RENDERFORMAT, WM_RENDERALLFORMATS, WM_DESTROYCLIPBOARD = 0x8000, 0x0305, 0x0306, 0x0307
HWND_MESSAGE = wintypes.HWND(-3)
OPEN_ATTEMPTS, OPEN_PAUSE = 40, 0.005  # another program may hold the clipboard for a moment
NO_HISTORY_FORMATS = (
    ("ExcludeClipboardContentFromMonitorProcessing", b"\0\0\0\0"),
    ("CanIncludeInClipboardHistory", b"\0\0\0\0"),
    ("CanUploadToCloudClipboard", b"\0\0\0\0"),
)

WNDPROC = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)


class WNDCLASSW(ctypes.Structure):
    _fields_ = [("style", wintypes.UINT), ("lpfnWndProc", WNDPROC), ("cbClsExtra", ctypes.c_int),
                ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH), ("lpszMenuName", wintypes.LPCWSTR),
                ("lpszClassName", wintypes.LPCWSTR)]


Signature = tuple[str, list[Any], Any]


def declare(library: Any, functions: tuple[Signature, ...]) -> None:
    """Argument and result types, so 64-bit handles are not cut to 32 bits."""
    for name, args, result in functions:
        function = getattr(library, name)
        function.argtypes, function.restype = args, result


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
))
declare(kernel32, (
    ("GlobalAlloc", [wintypes.UINT, ctypes.c_size_t], wintypes.HGLOBAL),
    ("GlobalLock", [wintypes.HGLOBAL], wintypes.LPVOID),
    ("GlobalUnlock", [wintypes.HGLOBAL], wintypes.BOOL),
    ("GlobalSize", [wintypes.HGLOBAL], ctypes.c_size_t),
    ("GlobalFree", [wintypes.HGLOBAL], wintypes.HGLOBAL),
    ("GetModuleHandleW", [wintypes.LPCWSTR], wintypes.HMODULE),
))


@dataclass(frozen=True)
class WinSnapshot:
    items: tuple[tuple[str, int, bytes], ...]  # (registered name or "", format id, bytes)

    @property
    def is_empty(self) -> bool:
        return not self.items

    def describe(self) -> str:
        return f"{len(self.items)} formats, {sum(len(i[2]) for i in self.items):,} bytes" if self.items else "empty"


class WinOffer:
    def __init__(self, text: str) -> None:
        self.data = (text + "\0").encode("utf-16-le")
        self.taken = threading.Event()

    def wait_taken(self, timeout: float) -> bool:
        return self.taken.wait(timeout)


def _global_bytes(data: bytes) -> Any:
    handle = kernel32.GlobalAlloc(GMEM_MOVEABLE, max(1, len(data)))
    if not handle:
        raise DesktopError("Out of memory for the clipboard.")
    pointer = kernel32.GlobalLock(handle)
    ctypes.memmove(pointer, data, len(data))
    kernel32.GlobalUnlock(handle)
    return handle


def _read_global(handle: Any) -> bytes | None:
    size = kernel32.GlobalSize(handle)
    pointer = kernel32.GlobalLock(handle)
    if not pointer:
        return None
    try:
        return ctypes.string_at(pointer, size)
    finally:
        kernel32.GlobalUnlock(handle)


class WinClipboard:
    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
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

    def snapshot(self) -> WinSnapshot:
        return self._call(self._take_snapshot)

    def restore(self, snapshot: Any) -> None:
        assert isinstance(snapshot, WinSnapshot)
        self._call(lambda: self._write([(name, fmt, data) for name, fmt, data in snapshot.items]))

    def read_text(self) -> str | None:
        return self._call(self._read_text)

    def read_selection(self) -> str | None:
        return None  # Windows has no PRIMARY selection

    def offer_text(self, text: str) -> WinOffer:
        offer = WinOffer(text)

        def own() -> None:
            self._write([("", CF_UNICODETEXT, None), *((name, 0, data) for name, data in NO_HISTORY_FORMATS)])
            self._offer = offer
        self._call(own)
        return offer

    def close(self) -> None:
        if self._hwnd:
            self._call(lambda: self._render_pending())
            user32.PostMessageW(self._hwnd, 0x0012, 0, 0)  # WM_QUIT
            self._thread.join(timeout=2)

    # --- the clipboard thread ----------------------------------------------------------

    def _call(self, work: Callable[[], T]) -> T:
        if threading.current_thread() is self._thread:
            return work()
        future: Future[T] = Future()
        self._calls.put((work, future))
        user32.PostMessageW(self._hwnd, WM_APP, 0, 0)
        return future.result(timeout=10)

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
                while not self._calls.empty():
                    work, future = self._calls.get()
                    try:
                        future.set_result(work())
                    except BaseException as error:
                        future.set_exception(error)
                return 0
            if message == WM_RENDERFORMAT and self._offer is not None and wparam == CF_UNICODETEXT:
                # Inside the target's GetClipboardData: the clipboard is open already; only set the data.
                user32.SetClipboardData(CF_UNICODETEXT, _global_bytes(self._offer.data))
                self._offer.taken.set()
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
                user32.SetClipboardData(CF_UNICODETEXT, _global_bytes(self._offer.data))

    def _opened(self) -> "_Open":
        return _Open(self._hwnd)

    def _write(self, items: list[tuple[str, int, bytes | None]]) -> None:
        with self._opened():
            user32.EmptyClipboard()
            self._offer = None
            for name, fmt, data in items:
                if name:
                    fmt = user32.RegisterClipboardFormatW(name)
                if not user32.SetClipboardData(fmt, None if data is None else _global_bytes(data)):
                    log.warning("clipboard format %s (%s) was not accepted", fmt, name)

    def _take_snapshot(self) -> WinSnapshot:
        items = []
        with self._opened():
            fmt = user32.EnumClipboardFormats(0)
            while fmt:
                if fmt not in GDI_FORMATS:
                    handle = user32.GetClipboardData(fmt)
                    data = _read_global(handle) if handle else None
                    if data is not None:
                        items.append((_format_name(fmt), fmt, data))
                fmt = user32.EnumClipboardFormats(fmt)
        return WinSnapshot(tuple(items))

    def _read_text(self) -> str | None:
        with self._opened():
            handle = user32.GetClipboardData(CF_UNICODETEXT)
            data = _read_global(handle) if handle else None
        if data is None:
            return None
        return data.decode("utf-16-le", errors="replace").split("\0", 1)[0]


class _Open:
    """OpenClipboard with retries (another program may hold it for a moment) and CloseClipboard."""

    def __init__(self, hwnd: Any) -> None:
        self.hwnd = hwnd

    def __enter__(self) -> None:
        for _ in range(OPEN_ATTEMPTS):
            if user32.OpenClipboard(self.hwnd):
                return
            time.sleep(OPEN_PAUSE)
        raise DesktopError("Another program keeps the clipboard open; try again.")

    def __exit__(self, *exc_info: object) -> None:
        user32.CloseClipboard()


def _format_name(fmt: int) -> str:
    """Registered formats (HTML Format, PNG…) get new ids per session: keep their names."""
    if fmt < 0xC000:
        return ""
    buffer = ctypes.create_unicode_buffer(256)
    length = user32.GetClipboardFormatNameW(fmt, buffer, 256)
    return buffer.value[:length]
