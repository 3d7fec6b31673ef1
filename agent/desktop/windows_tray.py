"""Windows: what the tray icon does differently here (see `TrayTraits`), and the process's app identity."""

from __future__ import annotations

import ctypes
import logging
import sys
from ctypes import wintypes

from phitray.desktop import TrayTraits

# pystray saves the icon as ICO; PNG-in-ICO draws red and blue swapped under some renderers (Wine),
# BMP-format ICO draws right everywhere.
TRAITS = TrayTraits(icon_encoding=(("bitmap_format", "bmp"),))
# The AppUserModelID the installer puts on the Start-menu shortcut and registers with the name "Phi Tray":
# notifications, the taskbar and the tray's settings then name Phi Tray, not the Python that runs it.
APP_ID = "PhiTray.Agent"

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here

log = logging.getLogger(__name__)


def set_app_id(app_id: str = APP_ID) -> bool:
    """Make `app_id` this process's AppUserModelID. Before the process shows anything (Windows reads it when
    a window or icon first appears); main thread. False (and a log line) where Windows refuses it."""
    shell32 = ctypes.WinDLL("shell32", use_last_error=True)
    shell32.SetCurrentProcessExplicitAppUserModelID.argtypes = [wintypes.LPCWSTR]
    shell32.SetCurrentProcessExplicitAppUserModelID.restype = ctypes.c_long  # an HRESULT, read without raising
    result = shell32.SetCurrentProcessExplicitAppUserModelID(app_id)
    if result != 0:
        log.warning("Windows refused the AppUserModelID %s (HRESULT %#x)", app_id, result & 0xFFFFFFFF)
    return result == 0


def app_id() -> str:
    """This process's AppUserModelID, or "" where none was set."""
    shell32 = ctypes.WinDLL("shell32", use_last_error=True)
    ole32 = ctypes.WinDLL("ole32")
    shell32.GetCurrentProcessExplicitAppUserModelID.argtypes = [ctypes.POINTER(wintypes.LPWSTR)]
    shell32.GetCurrentProcessExplicitAppUserModelID.restype = ctypes.c_long
    ole32.CoTaskMemFree.argtypes, ole32.CoTaskMemFree.restype = [ctypes.c_void_p], None
    text = wintypes.LPWSTR()
    if shell32.GetCurrentProcessExplicitAppUserModelID(ctypes.byref(text)) != 0:
        return ""
    try:
        return text.value or ""
    finally:
        ole32.CoTaskMemFree(ctypes.cast(text, ctypes.c_void_p))
