"""Windows' DPI and monitor calls through ctypes (user32, shcore), behind `phitray.desktop.system`.

Each function declares the argument and result types of what it calls, so 64-bit handles are not
cut to 32 bits, and finds a call a Windows too old to have as an AttributeError.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes
from typing import Any

assert sys.platform == "win32"

from phitray.desktop.windows_rules import DPI_AWARENESS  # noqa: E402

DPI_AWARENESS_CONTEXT_SYSTEM_AWARE = -2  # a pseudo-handle, as winuser.h defines it
PROCESS_SYSTEM_DPI_AWARE = 1
MONITOR_DEFAULTTONEAREST = 2
ERROR_ACCESS_DENIED = 5


class MONITORINFO(ctypes.Structure):
    _fields_ = [("cbSize", wintypes.DWORD), ("rcMonitor", wintypes.RECT), ("rcWork", wintypes.RECT),
                ("dwFlags", wintypes.DWORD)]


def user32_function(name: str, argtypes: list[Any], restype: Any) -> Any:
    """One user32 function with its types; AttributeError where this Windows lacks it."""
    function = getattr(ctypes.WinDLL("user32", use_last_error=True), name)
    function.argtypes, function.restype = argtypes, restype
    return function


def declare_dpi_awareness() -> str:
    """System-aware (windows_rules.DPI_AWARENESS says why): through the Windows 10 1703+ call, else 8.1's, else
    Vista's; see system.py."""
    try:
        declare = user32_function("SetProcessDpiAwarenessContext", [wintypes.HANDLE], wintypes.BOOL)
        if declare(DPI_AWARENESS_CONTEXT_SYSTEM_AWARE):
            return DPI_AWARENESS
        if ctypes.get_last_error() == ERROR_ACCESS_DENIED:
            return "already declared (by a manifest or an earlier call)"
    except (AttributeError, OSError):  # before Windows 10 1703: the older calls below
        pass
    for declared, attempt in ((DPI_AWARENESS, _system_per_shcore), (DPI_AWARENESS, _system_aware)):
        try:
            if attempt():
                return declared
        except (AttributeError, OSError):  # a Windows without this call (or this DLL)
            continue
    return "none (Windows refused every declaration)"


def _system_per_shcore() -> bool:
    declare = ctypes.WinDLL("shcore").SetProcessDpiAwareness
    declare.argtypes, declare.restype = [ctypes.c_int], ctypes.c_long  # an HRESULT, read without raising
    return bool(declare(PROCESS_SYSTEM_DPI_AWARE) == 0)


def _system_aware() -> bool:
    return bool(user32_function("SetProcessDPIAware", [], wintypes.BOOL)())


def window_dpi(window_id: int) -> int | None:
    try:
        dpi_for_window = user32_function("GetDpiForWindow", [wintypes.HWND], wintypes.UINT)
    except AttributeError:  # before Windows 10 1607
        return None
    return int(dpi_for_window(window_id)) or None  # 0: not a window


def work_area(x: int, y: int) -> tuple[int, int, int, int] | None:
    monitor_from_point = user32_function("MonitorFromPoint", [wintypes.POINT, wintypes.DWORD], wintypes.HMONITOR)
    monitor_info = user32_function("GetMonitorInfoW", [wintypes.HMONITOR, ctypes.POINTER(MONITORINFO)],
                                   wintypes.BOOL)
    monitor = monitor_from_point(wintypes.POINT(x, y), MONITOR_DEFAULTTONEAREST)
    info = MONITORINFO(cbSize=ctypes.sizeof(MONITORINFO))
    if not monitor or not monitor_info(monitor, ctypes.byref(info)):
        return None
    work = info.rcWork
    return (work.left, work.top, work.right, work.bottom)
