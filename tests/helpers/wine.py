"""Helpers for the tests that run inside Wine (.ci/windows/run.sh).

Wine cannot wait on Linux programs, so X input (xdotool) and X clipboard reads
(xclip) go through the stage's small driver (.ci/windows/xdriver.py) on a local
port. Notepad is the Win32 edit control the capture and paste tests work in.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import time
from ctypes import wintypes

from PIL import Image

user32 = ctypes.WinDLL("user32", use_last_error=True)
user32.FindWindowW.restype = wintypes.HWND
user32.FindWindowExW.restype = wintypes.HWND
user32.GetForegroundWindow.restype = wintypes.HWND
user32.FindWindowExW.argtypes = [wintypes.HWND, wintypes.HWND, wintypes.LPCWSTR, wintypes.LPCWSTR]
user32.SendMessageW.argtypes = [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM]
user32.SendMessageW.restype = ctypes.c_ssize_t
WM_GETTEXT, WM_GETTEXTLENGTH = 0x000D, 0x000E


def xdo(*args: str, stdin: str | None = None) -> str:
    """Run xdotool/xclip on the X side; returns its output, raises on failure."""
    with socket.create_connection(("127.0.0.1", int(os.environ["PHITRAY_XDRIVER_PORT"])), timeout=40) as connection:
        connection.sendall((json.dumps({"args": list(args), "stdin": stdin}) + "\n").encode())
        reply = json.loads(connection.makefile("rb").readline())
    if reply["code"] != 0:
        raise RuntimeError(f"{' '.join(args)} exited {reply['code']}: {reply['stdout']}")
    return str(reply["stdout"])


def wait_until(condition: object, timeout: float = 10, what: str = "it") -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)


class Notepad:
    """Wine's Notepad: a top-level window with one Win32 Edit control."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(["notepad.exe"])
        self.hwnd = 0
        wait_until(lambda: self._find(), 20, "Notepad's window")
        self.edit = user32.FindWindowExW(self.hwnd, None, "Edit", None)
        self.x_window = ""
        wait_until(lambda: self._find_x(), 10, "Notepad's X window")

    def _find(self) -> bool:
        self.hwnd = user32.FindWindowW("Notepad", None) or 0
        return bool(self.hwnd)

    def _find_x(self) -> bool:
        try:
            self.x_window = xdo("xdotool", "search", "--onlyvisible", "--name", "Notepad").split()[0]
            return True
        except RuntimeError:
            return False

    def focus(self) -> None:
        """Give Notepad the X keyboard focus (there is no window manager), then Windows' foreground."""
        xdo("xdotool", "windowfocus", "--sync", self.x_window)
        user32.SetForegroundWindow(self.hwnd)
        deadline = time.monotonic() + 2
        while user32.GetForegroundWindow() != self.hwnd and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)

    def write_and_select(self, text: str) -> None:
        """The person clicks into Notepad, types, and selects all of it. Notepad sits away from the top-left
        corner, where Wine's tray window is (on Windows the taskbar is never under a window)."""
        xdo("xdotool", "windowmove", self.x_window, "300", "200")
        seen = []
        for _attempt in range(3):
            # Under load Wine now and then hands the first keys to the window that had the focus before
            # (CI saw an empty Notepad once in ~40 runs): the person looks, clicks back in and types again.
            self.focus()
            xdo("xdotool", "key", "ctrl+a", "BackSpace")
            xdo("xdotool", "type", "--delay", "5", text)
            deadline = time.monotonic() + 5
            while self.text() != text and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.text() == text:
                break
            seen.append(self.text())
        else:
            raise AssertionError(f"Notepad did not hold the typed text {text!r} after 3 tries: it held {seen!r}")
        xdo("xdotool", "key", "ctrl+a")
        time.sleep(0.3)

    def text(self) -> str:
        length = user32.SendMessageW(self.edit, WM_GETTEXTLENGTH, 0, 0)
        buffer = ctypes.create_unicode_buffer(length + 1)
        user32.SendMessageW(self.edit, WM_GETTEXT, length + 1, ctypes.addressof(buffer))
        return buffer.value

    def close(self) -> None:
        self.process.kill()


def screen() -> Image.Image:
    """A screenshot of the X screen, taken on the X side and read back through Z:."""
    unix_path = f"/tmp/phitray-wine-screen-{os.getpid()}.png"
    xdo("import", "-window", "root", unix_path)
    with Image.open("Z:" + unix_path.replace("/", "\\")) as image:
        return image.convert("RGB")


def find_colour(image: Image.Image, colour: tuple[int, int, int]) -> tuple[int, int] | None:
    hits = [(x, y) for y in range(0, 120) for x in range(0, 400)
            if all(abs(a - b) < 16 for a, b in zip(image.getpixel((x, y)), colour))]
    if len(hits) < 20:
        return None
    xs, ys = zip(*hits)
    return sum(xs) // len(xs), sum(ys) // len(ys)


def focus_menu() -> None:
    """Keys go to the X focus, which an earlier window (Notepad) may have set: give it to the menu
    that just opened under the pointer, as a focus-follows-pointer X server would."""
    under = dict(line.split("=") for line in xdo("xdotool", "getmouselocation", "--shell").split())["WINDOW"]
    xdo("xdotool", "windowfocus", "--sync", under)


def processes_in(folder: str) -> list[int]:
    """The ids of running processes whose program lies inside `folder` (a Windows path)."""
    psapi = ctypes.WinDLL("psapi")
    kernel32 = ctypes.WinDLL("kernel32")
    kernel32.OpenProcess.restype = wintypes.HANDLE
    ids = (wintypes.DWORD * 4096)()
    needed = wintypes.DWORD()
    psapi.EnumProcesses(ids, ctypes.sizeof(ids), ctypes.byref(needed))
    found = []
    prefix = folder.rstrip("\\").lower() + "\\"
    for pid in ids[: needed.value // ctypes.sizeof(wintypes.DWORD)]:
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            continue
        name = ctypes.create_unicode_buffer(1024)
        size = wintypes.DWORD(len(name))
        if kernel32.QueryFullProcessImageNameW(handle, 0, name, ctypes.byref(size)) and name.value.lower().startswith(prefix):
            found.append(int(pid))
        kernel32.CloseHandle(handle)
    return found
