"""Another program on the Windows clipboard, run by the tests under Wine: it reacts to every change.

    python clipboard_peer.py read   # reads the text of every change, as clipboard managers, RDP and VM tools do
    python clipboard_peer.py hold   # keeps the clipboard open for a while after every change
    python clipboard_peer.py hotkey ctrl+alt+f9   # holds a hotkey, as another program can
    python clipboard_peer.py hang   # owns the clipboard with text it renders on demand, and hangs when asked
    python clipboard_peer.py formats   # reads the text and HTML Format once, as a rich editor's paste does

It prints "ready" once listening, then one line per change it handled.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from ctypes import wintypes

user32 = ctypes.WinDLL("user32", use_last_error=True)
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
WM_CLIPBOARDUPDATE, WM_HOTKEY, WM_RENDERFORMAT, CF_UNICODETEXT = 0x031D, 0x0312, 0x0305, 13
HOLD_SECONDS = 0.8
WNDPROC = ctypes.WINFUNCTYPE(ctypes.c_ssize_t, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
user32.DefWindowProcW.argtypes = [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM]
user32.DefWindowProcW.restype = ctypes.c_ssize_t
user32.CreateWindowExW.restype = wintypes.HWND
user32.CreateWindowExW.argtypes = [wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_int,
                                   ctypes.c_int, ctypes.c_int, ctypes.c_int, wintypes.HWND, wintypes.HMENU,
                                   wintypes.HINSTANCE, wintypes.LPVOID]
user32.GetClipboardData.restype = wintypes.HANDLE
kernel32.GlobalLock.restype = wintypes.LPVOID
kernel32.GlobalLock.argtypes = [wintypes.HGLOBAL]
kernel32.GlobalUnlock.argtypes = [wintypes.HGLOBAL]
kernel32.GlobalSize.argtypes, kernel32.GlobalSize.restype = [wintypes.HGLOBAL], ctypes.c_size_t


class WNDCLASSW(ctypes.Structure):
    _fields_ = [("style", wintypes.UINT), ("lpfnWndProc", WNDPROC), ("cbClsExtra", ctypes.c_int),
                ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH), ("lpszMenuName", wintypes.LPCWSTR),
                ("lpszClassName", wintypes.LPCWSTR)]


def read_formats() -> dict[str, object]:
    """The formats on the clipboard and what CF_UNICODETEXT and HTML Format give (None: refused)."""
    html_format = user32.RegisterClipboardFormatW("HTML Format")
    if not user32.OpenClipboard(None):
        return {"error": ctypes.get_last_error()}
    try:
        listed, fmt = [], user32.EnumClipboardFormats(0)
        while fmt:
            listed.append(fmt)
            fmt = user32.EnumClipboardFormats(fmt)
        read: dict[str, object] = {"text": CF_UNICODETEXT in listed, "html": html_format in listed}
        for name, wanted in (("text_data", CF_UNICODETEXT), ("html_data", html_format)):
            handle = user32.GetClipboardData(wanted)
            pointer = kernel32.GlobalLock(handle) if handle else None
            if pointer:
                read[name] = ctypes.wstring_at(pointer) if wanted == CF_UNICODETEXT else \
                    ctypes.string_at(pointer, kernel32.GlobalSize(handle)).decode("utf-8", "replace")
                kernel32.GlobalUnlock(handle)
            else:
                read[name] = None
        return read
    finally:
        user32.CloseClipboard()


def main(mode: str, *args: str) -> None:
    if mode == "formats":
        print(json.dumps(read_formats()), flush=True)
        return
    if mode == "hotkey":
        modifiers, _, key = args[0].rpartition("+")
        flags = sum({"ctrl": 2, "alt": 1, "shift": 4}[m] for m in modifiers.split("+"))
        vk = 0x6F + int(key[1:]) if key.startswith("f") else ord(key.upper())
        if not user32.RegisterHotKey(None, 1, flags, vk):
            print(f"refused {ctypes.get_last_error()}", flush=True)
            return
        print("ready", flush=True)
        message = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            pass
        return

    def changed(hwnd: int, message: int, wparam: int, lparam: int) -> int:
        if message == WM_RENDERFORMAT and mode == "hang":
            print("hanging", flush=True)
            time.sleep(3600)  # a program that stopped answering, as a hung Excel does
        if message == WM_CLIPBOARDUPDATE and mode != "hang":
            if user32.OpenClipboard(hwnd):
                try:
                    if mode == "read":
                        handle = user32.GetClipboardData(CF_UNICODETEXT)
                        pointer = kernel32.GlobalLock(handle) if handle else None
                        text = ctypes.wstring_at(pointer) if pointer else None
                        if pointer:
                            kernel32.GlobalUnlock(handle)
                        print(f"read {text!r}", flush=True)
                    else:
                        time.sleep(HOLD_SECONDS)
                        print("held", flush=True)
                finally:
                    user32.CloseClipboard()
            return 0
        return int(user32.DefWindowProcW(hwnd, message, wparam, lparam))

    proc = WNDPROC(changed)
    window_class = WNDCLASSW(lpfnWndProc=proc, lpszClassName="PhiTrayTestClipboardPeer")
    user32.RegisterClassW(ctypes.byref(window_class))
    hwnd = user32.CreateWindowExW(0, "PhiTrayTestClipboardPeer", "peer", 0, 0, 0, 0, 0, None, None, None, None)
    if mode == "hang":
        user32.OpenClipboard(hwnd)
        user32.EmptyClipboard()
        user32.SetClipboardData(CF_UNICODETEXT, None)  # rendered when someone asks: WM_RENDERFORMAT
        user32.CloseClipboard()
    elif not user32.AddClipboardFormatListener(hwnd):
        print(f"no listener {ctypes.get_last_error()}", flush=True)
        return
    print("ready", flush=True)
    message = wintypes.MSG()
    while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
        user32.DispatchMessageW(ctypes.byref(message))


if __name__ == "__main__":
    main(*sys.argv[1:])
