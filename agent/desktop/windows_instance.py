"""Windows: the single-instance address is a named pipe; a named mutex is the lock (a pipe's
first-instance flag is not enforced everywhere, e.g. Wine)."""

from __future__ import annotations

import ctypes
import getpass
import sys

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here

FAMILY = "AF_PIPE"
ERROR_ALREADY_EXISTS = 183


def address(tag: str) -> str:
    return rf"\\.\pipe\phitray-{getpass.getuser()}-{tag}"


class Claim:
    """The named mutex, held while this agent runs."""

    def __init__(self, handle: int) -> None:
        self._handle = handle

    def release(self) -> None:
        ctypes.WinDLL("kernel32").CloseHandle(ctypes.c_void_p(self._handle))


def claim(pipe: str) -> Claim | None:
    """The mutex named after the pipe, or None when another agent holds it."""
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateMutexW.restype = ctypes.c_void_p
    handle = kernel32.CreateMutexW(None, False, "Local\\" + pipe.rsplit("\\", 1)[-1])
    if not handle:
        raise OSError(ctypes.get_last_error(), "CreateMutexW failed")
    if ctypes.get_last_error() == ERROR_ALREADY_EXISTS:
        kernel32.CloseHandle(ctypes.c_void_p(handle))
        return None
    return Claim(handle)


def remove_leftover(pipe: str) -> bool:
    return False  # a pipe goes with the last handle to it: nothing is left to remove
