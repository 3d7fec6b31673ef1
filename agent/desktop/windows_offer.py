"""A paste offer on Windows: the answer's formats, rendered only when read, and when a read is the paste.

The offer goes on the clipboard as CF_UNICODETEXT and, when the answer kept its formatting, "HTML
Format" beside it (`cf_html`): Word, Outlook and browsers read that first, plain editors the text.
Both are delayed-rendered (`windows_clipboard` answers WM_RENDERFORMAT from `formats`); a read of
either by the target's program after Ctrl+V is the paste (`windows_rules.render_for`).
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
import time
from ctypes import wintypes
from typing import Any

from phitray.desktop import cf_html

assert sys.platform == "win32"

from phitray.desktop.windows_api import WNDENUMPROC, declare, window_process  # noqa: E402

log = logging.getLogger(__name__)
user32 = ctypes.WinDLL("user32", use_last_error=True)
declare(user32, (
    ("GetOpenClipboardWindow", [], wintypes.HWND),
    ("EnumChildWindows", [wintypes.HWND, WNDENUMPROC, wintypes.LPARAM], wintypes.BOOL),
    ("RegisterClipboardFormatW", [wintypes.LPCWSTR], wintypes.UINT),
))

CF_UNICODETEXT = 13
HTML_FORMAT = "HTML Format"
POLL_SECONDS = 0.005
READERS_SECONDS, QUIET_SECONDS = 0.5, 0.04  # how long Ctrl+V waits for readers of the offer; how quiet is quiet


def html_format() -> int:
    """The id of HTML Format in this session (registered formats get their ids per session)."""
    return int(user32.RegisterClipboardFormatW(HTML_FORMAT))


class WinOffer:
    def __init__(self, text: str, html: str | None = None) -> None:
        self.data = (text + "\0").encode("utf-16-le")
        self.formats: dict[int, bytes] = {CF_UNICODETEXT: self.data}  # format id → what a read of it gets
        if html:
            self.formats[html_format()] = cf_html.encode(html)
        self.taken = threading.Event()
        self.armed = False
        self.targets: frozenset[int] = frozenset()

    def expect_paste(self, window: int | None) -> None:
        """Called on the jobs thread right before Ctrl+V: from now on, the target's read is the paste."""
        self.targets = programs_of(window) if window else frozenset()
        _wait_for_readers()
        self.armed = True

    def wait_taken(self, timeout: float) -> bool:
        return self.taken.wait(timeout)


def _wait_for_readers() -> None:
    """Clipboard managers, RDP and VM tools read every change: a target whose OpenClipboard comes while
    one of them holds it pastes nothing, silently. Ctrl+V goes once the clipboard has been closed for a
    moment (or the wait is over: a program that keeps it open is not waited on forever)."""
    deadline, quiet_since = time.monotonic() + READERS_SECONDS, None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if user32.GetOpenClipboardWindow():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= QUIET_SECONDS:
            return
        time.sleep(POLL_SECONDS)
    log.info("the clipboard was still open in another program when the paste was sent")


def programs_of(window: int) -> frozenset[int]:
    """The processes behind a window and its child windows: a Store app's frame belongs to
    ApplicationFrameHost, and the app that reads the clipboard owns a child window."""
    pids = {window_process(window)}

    def add(child: Any, _: int) -> bool:
        pids.add(window_process(child))
        return True
    user32.EnumChildWindows(window, WNDENUMPROC(add), 0)
    return frozenset(pid for pid in pids if pid)
