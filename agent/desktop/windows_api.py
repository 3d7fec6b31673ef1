"""Win32 calls more than one Windows adapter makes: declared once, with 64-bit-safe types."""

from __future__ import annotations

import ctypes
import queue
import sys
from collections.abc import Callable
from concurrent.futures import Future
from ctypes import wintypes
from typing import Any, TypeVar

assert sys.platform == "win32"

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
WNDENUMPROC = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
T = TypeVar("T")

Signature = tuple[str, list[Any], Any]


def declare(library: Any, functions: tuple[Signature, ...]) -> None:
    """Argument and result types, so 64-bit handles are not cut to 32 bits."""
    for name, args, result in functions:
        function = getattr(library, name)
        function.argtypes, function.restype = args, result


declare(user32, (
    ("GetWindowThreadProcessId", [wintypes.HWND, ctypes.POINTER(wintypes.DWORD)], wintypes.DWORD),
    ("GetClassNameW", [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int], ctypes.c_int),
    ("GetWindowTextLengthW", [wintypes.HWND], ctypes.c_int),
    ("GetWindowTextW", [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int], ctypes.c_int),
))
declare(kernel32, (
    ("OpenProcess", [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD], wintypes.HANDLE),
    ("CloseHandle", [wintypes.HANDLE], wintypes.BOOL),
    ("QueryFullProcessImageNameW", [wintypes.HANDLE, wintypes.DWORD, wintypes.LPWSTR, ctypes.POINTER(wintypes.DWORD)],
     wintypes.BOOL),
    ("GetCurrentProcess", [], wintypes.HANDLE),
    ("SetPriorityClass", [wintypes.HANDLE, wintypes.DWORD], wintypes.BOOL),
    ("GlobalMemoryStatusEx", [ctypes.c_void_p], wintypes.BOOL),
))


class MEMORYSTATUSEX(ctypes.Structure):
    _fields_ = [("dwLength", wintypes.DWORD), ("dwMemoryLoad", wintypes.DWORD),
                ("ullTotalPhys", ctypes.c_uint64), ("ullAvailPhys", ctypes.c_uint64),
                ("ullTotalPageFile", ctypes.c_uint64), ("ullAvailPageFile", ctypes.c_uint64),
                ("ullTotalVirtual", ctypes.c_uint64), ("ullAvailVirtual", ctypes.c_uint64),
                ("ullAvailExtendedVirtual", ctypes.c_uint64)]


def class_name(window: Any) -> str:
    buffer = ctypes.create_unicode_buffer(256)
    return buffer.value[:user32.GetClassNameW(window, buffer, 256)]


def window_title(window: Any) -> str:
    """The window's title. For another process's window GetWindowText reads the caption Windows keeps
    (it sends no WM_GETTEXT), so a hung program cannot hang the caller."""
    length = user32.GetWindowTextLengthW(window)
    if length <= 0:
        return ""
    buffer = ctypes.create_unicode_buffer(length + 1)
    return buffer.value[:user32.GetWindowTextW(window, buffer, length + 1)]


def window_process(window: Any) -> int:
    pid = wintypes.DWORD()
    user32.GetWindowThreadProcessId(window, ctypes.byref(pid))
    return int(pid.value)


def open_process(pid: int) -> Any:
    """A handle for reading a process's name and token (close it), or None (error in get_last_error)."""
    return kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid) or None


def image_name(process: Any) -> str:
    """The file name of an opened process ("EXCEL.EXE"), or ""."""
    buffer, size = ctypes.create_unicode_buffer(1024), wintypes.DWORD(1024)
    if not kernel32.QueryFullProcessImageNameW(process, 0, buffer, ctypes.byref(size)):
        return ""
    return buffer.value.rpartition("\\")[2]


def program_name(pid: int) -> str:
    """A process's file name, or a description when it cannot be read."""
    process = open_process(pid)
    if process is None:
        return f"program {pid}"
    try:
        return image_name(process) or f"program {pid}"
    finally:
        kernel32.CloseHandle(process)


class CallQueue:
    """Work for a thread that owns Win32 state (a window, hooks, hotkeys), handed over from any thread:
    `put` queues it, the owner posts itself a wake message, and runs `run_all` when that arrives."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()

    def put(self, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._calls.put((work, future))
        return future

    def run_all(self) -> None:
        """On the owning thread: run what is queued, each result or error into its future."""
        while not self._calls.empty():
            work, future = self._calls.get()
            try:
                future.set_result(work())
            except BaseException as error:
                future.set_exception(error)
