"""Windows: the selected text read through UI Automation, with no Ctrl+C and the clipboard untouched.

Where the focused element offers UI Automation's TextPattern (Notepad, WordPad, Office, Edge and most
modern apps do), its selection is read from there, so it never reaches the clipboard, Win+V's history
or a clipboard manager. Anything else (no TextPattern, nothing or several spans selected, a focused
element of another program than the person's window, a provider that does not answer in time) gives
None, and the capture copies with Ctrl+C as before (`windows_rules.uia_asks` and `uia_selection` decide).
Wine 8 cannot show it: its IUIAutomation.GetFocusedElement is a stub (E_NOTIMPL), so under Wine the
capture always copies (tests/windows/test_win_desktop_layer.py); tests/test_capture.py holds the seam.

The calls go through the COM vtables with ctypes, as `windows_shortcut` does (the installer ships no
comtypes): IUIAutomation.GetFocusedElement → GetCurrentPatternAs(TextPattern) → GetSelection → the
range's GetText. They run on a thread of their own ("win32-uia", a multithreaded apartment, as UI
Automation clients should): a program hanging in its provider holds that thread, never the job,
which waits CALL_SECONDS and copies instead.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import queue
import threading
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from ctypes import wintypes
from typing import Any

assert sys.platform == "win32"

from phitray.desktop.windows_rules import uia_asks, uia_selection  # noqa: E402

log = logging.getLogger(__name__)

CLSID_CUIAUTOMATION = uuid.UUID("ff48dba4-60ef-4201-aa87-54103eef594e")
IID_IUIAUTOMATION = uuid.UUID("30cbe57d-d9d0-452a-ab13-7ac5ac4825ee")
IID_IUIAUTOMATION2 = uuid.UUID("34723aff-0c9d-49d0-9896-7ab52df8cd8a")
IID_TEXT_PATTERN = uuid.UUID("32eba289-3583-42c9-9c59-3b6d9a1e9b6a")
UIA_TEXT_PATTERN_ID = 10014
CLSCTX_INPROC_SERVER, COINIT_MULTITHREADED = 0x1, 0x0
# Vtable slots: IUnknown (QueryInterface 0, Release 2); IUIAutomation (GetFocusedElement 8), IUIAutomation2
# (put_ConnectionTimeout 61, put_TransactionTimeout 63); IUIAutomationElement (GetCurrentPatternAs 14,
# get_CurrentProcessId 20); IUIAutomationTextPattern (GetSelection 5); IUIAutomationTextRangeArray
# (get_Length 3, GetElement 4); IUIAutomationTextRange (GetText 12).
QUERY_INTERFACE, RELEASE, GET_FOCUSED_ELEMENT, CONNECTION_TIMEOUT, TRANSACTION_TIMEOUT = 0, 2, 8, 61, 63
PATTERN_AS, PROCESS_ID, GET_SELECTION, LENGTH, ELEMENT, GET_TEXT = 14, 20, 5, 3, 4, 12
PROVIDER_MS = 1000  # what UI Automation itself waits for another program's provider
CALL_SECONDS = 1.5  # what the job waits for an answer before it copies with Ctrl+C


class GUID(ctypes.Structure):
    _fields_ = [("Data1", wintypes.DWORD), ("Data2", wintypes.WORD), ("Data3", wintypes.WORD),
                ("Data4", ctypes.c_ubyte * 8)]


def _guid(value: uuid.UUID) -> GUID:
    return GUID.from_buffer_copy(value.bytes_le)


def _call(interface: ctypes.c_void_p, slot: int, *args: tuple[Any, Any]) -> None:
    """The COM method in `slot` with (type, value) arguments; OSError for a failing HRESULT."""
    vtable = ctypes.cast(interface, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents
    function = ctypes.WINFUNCTYPE(ctypes.c_long, ctypes.c_void_p, *(kind for kind, _ in args))(vtable[slot])
    result = int(function(interface, *(value for _, value in args)))
    if result < 0:
        raise OSError(f"COM method {slot} failed (HRESULT {result & 0xFFFFFFFF:#010x})")


def _release(*interfaces: ctypes.c_void_p) -> None:
    for interface in interfaces:
        if interface:
            vtable = ctypes.cast(interface, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents
            ctypes.WINFUNCTYPE(wintypes.ULONG, ctypes.c_void_p)(vtable[RELEASE])(interface)


def _out(interface: ctypes.c_void_p, slot: int, *args: tuple[Any, Any]) -> ctypes.c_void_p:
    """A method whose last argument receives an interface pointer."""
    found = ctypes.c_void_p()
    _call(interface, slot, *args, (ctypes.POINTER(ctypes.c_void_p), ctypes.byref(found)))
    return found


class UiaReader:
    """Reads the focused element's selection on the "win32-uia" thread, started at the first read."""

    def __init__(self) -> None:
        self._automation = ctypes.c_void_p()
        self._work: queue.SimpleQueue[tuple[Future[str | None], frozenset[int], int | None]] = queue.SimpleQueue()
        self._pending: Future[str | None] | None = None
        self._thread: threading.Thread | None = None
        oleaut32 = ctypes.WinDLL("oleaut32")
        oleaut32.SysStringLen.argtypes, oleaut32.SysStringLen.restype = [ctypes.c_void_p], wintypes.UINT
        oleaut32.SysFreeString.argtypes, oleaut32.SysFreeString.restype = [ctypes.c_void_p], None
        self._oleaut32 = oleaut32

    def selection(self, programs: frozenset[int], max_chars: int | None) -> str | None:
        """The focused element's selected text if it belongs to one of `programs` (the person's window),
        else None. The jobs thread; waits CALL_SECONDS at most, and not at all while an earlier read hangs."""
        if self._pending is not None and not self._pending.done():
            return None
        if self._thread is None:  # a daemon: a provider that hangs for good must not keep the agent from quitting
            self._thread = threading.Thread(target=self._loop, name="win32-uia", daemon=True)
            self._thread.start()
        self._pending = Future()
        self._work.put((self._pending, programs, max_chars))
        try:
            return self._pending.result(CALL_SECONDS)
        except FutureTimeout:
            log.info("UI Automation did not answer within %.1f s; the selection is copied instead", CALL_SECONDS)
        except OSError as error:
            log.info("no selection through UI Automation (%s); it is copied instead", error)
        return None

    def _loop(self) -> None:
        """The "win32-uia" thread: COM in a multithreaded apartment, then one read after another."""
        self._start()
        while True:
            future, programs, max_chars = self._work.get()
            try:
                future.set_result(self._read(programs, max_chars))
            except Exception as error:  # the job falls back to Ctrl+C; this thread goes on
                future.set_exception(error if isinstance(error, OSError) else OSError(repr(error)))

    def _start(self) -> None:
        """The "win32-uia" thread, first: the automation object, with shorter waits where Windows has them."""
        ole32 = ctypes.WinDLL("ole32")
        ole32.CoInitializeEx.argtypes, ole32.CoInitializeEx.restype = [ctypes.c_void_p, wintypes.DWORD], ctypes.c_long
        ole32.CoCreateInstance.argtypes = [ctypes.POINTER(GUID), ctypes.c_void_p, wintypes.DWORD, ctypes.POINTER(GUID),
                                           ctypes.POINTER(ctypes.c_void_p)]
        ole32.CoCreateInstance.restype = ctypes.c_long
        ole32.CoInitializeEx(None, COINIT_MULTITHREADED)
        result = ole32.CoCreateInstance(ctypes.byref(_guid(CLSID_CUIAUTOMATION)), None, CLSCTX_INPROC_SERVER,
                                        ctypes.byref(_guid(IID_IUIAUTOMATION)), ctypes.byref(self._automation))
        if result < 0:
            log.info("no UI Automation here (HRESULT %#010x); selections are copied", result & 0xFFFFFFFF)
            return
        newer = ctypes.c_void_p()
        try:  # Windows 8 and later: a program that does not answer is given up on sooner than its 20 s
            _call(self._automation, QUERY_INTERFACE, (ctypes.POINTER(GUID), ctypes.byref(_guid(IID_IUIAUTOMATION2))),
                  (ctypes.POINTER(ctypes.c_void_p), ctypes.byref(newer)))
            _call(newer, CONNECTION_TIMEOUT, (wintypes.DWORD, PROVIDER_MS))
            _call(newer, TRANSACTION_TIMEOUT, (wintypes.DWORD, PROVIDER_MS))
        except OSError:
            pass
        finally:
            _release(newer)

    def _read(self, programs: frozenset[int], max_chars: int | None) -> str | None:
        """The "win32-uia" thread."""
        if not self._automation:
            return None
        element, pattern, ranges, text_range = (ctypes.c_void_p() for _ in range(4))
        try:
            element = _out(self._automation, GET_FOCUSED_ELEMENT)
            pid = ctypes.c_int()
            _call(element, PROCESS_ID, (ctypes.POINTER(ctypes.c_int), ctypes.byref(pid)))
            if not uia_asks(pid.value, programs):
                return None
            pattern = _out(element, PATTERN_AS, (ctypes.c_int, UIA_TEXT_PATTERN_ID),
                           (ctypes.POINTER(GUID), ctypes.byref(_guid(IID_TEXT_PATTERN))))
            if not pattern:
                return None
            ranges = _out(pattern, GET_SELECTION)
            count = ctypes.c_int()
            if ranges:
                _call(ranges, LENGTH, (ctypes.POINTER(ctypes.c_int), ctypes.byref(count)))
            texts = []
            for index in range(min(count.value, 2)):  # more than one span is left to Ctrl+C (uia_selection)
                text_range = _out(ranges, ELEMENT, (ctypes.c_int, index))
                texts.append(self._text(text_range, max_chars))
                _release(text_range)
                text_range = ctypes.c_void_p()
            return uia_selection(texts)
        finally:
            _release(text_range, ranges, pattern, element)

    def _text(self, text_range: ctypes.c_void_p, max_chars: int | None) -> str:
        """A range's text, one character past `max_chars` at most (a longer selection is said, not read)."""
        text = ctypes.c_void_p()
        limit = -1 if max_chars is None else max_chars + 1
        _call(text_range, GET_TEXT, (ctypes.c_int, limit), (ctypes.POINTER(ctypes.c_void_p), ctypes.byref(text)))
        if not text:
            return ""
        try:
            return ctypes.wstring_at(text.value, self._oleaut32.SysStringLen(text))  # type: ignore[arg-type]
        finally:
            self._oleaut32.SysFreeString(text)


_reader: UiaReader | None = None


def selection(programs: frozenset[int], max_chars: int | None = None) -> str | None:
    """The selected text of the focused element when one of `programs` owns it and it offers TextPattern;
    None otherwise (then the capture copies). The jobs thread."""
    global _reader
    _reader = _reader or UiaReader()
    return _reader.selection(programs, max_chars)
