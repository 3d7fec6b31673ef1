"""Windows: the agent's address is a named pipe only the person may open; a named mutex is the lock
(a pipe's first-instance flag is not enforced everywhere, e.g. Wine).

The pipe and the mutex carry a security descriptor whose DACL grants the person's SID alone
(`windows_pipe_rules.owner_only_sddl`). The pipe takes only local clients, only one instance, the
first; its name holds the SID and the session id. A name can still be taken first by anyone, so a
launch checks whose process serves the pipe (its token's user against its own, EqualSid) before it
sends a byte, and opens it at the identification level only: a server can learn who the launch is,
never act as it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
import threading
import time
from collections.abc import Iterator
from ctypes import wintypes
from typing import Any

from phitray.desktop.channel import TIMEOUT_SECONDS, Peer, held_by_another_user
from phitray.desktop.windows_pipe_rules import mutex_name, owner_only_sddl, pipe_name
from phitray.errors import DesktopError

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here

from phitray.desktop.windows_api import declare, image_name, open_process  # noqa: E402

log = logging.getLogger(__name__)

kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)

PIPE_ACCESS_DUPLEX, FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00000003, 0x00080000
PIPE_TYPE_BYTE = PIPE_READMODE_BYTE = PIPE_WAIT = 0
PIPE_REJECT_REMOTE_CLIENTS = 0x00000008
GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING = 0x80000000, 0x40000000, 3
SECURITY_SQOS_PRESENT, SECURITY_IDENTIFICATION = 0x00100000, 0x00010000  # SecurityIdentification << 16
SDDL_REVISION_1, TOKEN_QUERY, TOKEN_USER_CLASS = 1, 0x0008, 1
ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_BROKEN_PIPE = 2, 5, 109
ERROR_ALREADY_EXISTS, ERROR_PIPE_BUSY, ERROR_NO_DATA, ERROR_PIPE_NOT_CONNECTED = 183, 231, 232, 233
ERROR_PIPE_CONNECTED = 535
SYNCHRONIZE, WAIT_OBJECT_0 = 0x00100000, 0
INVALID_HANDLE_VALUE = wintypes.HANDLE(-1).value
BUFFER_BYTES = 64 * 1024
GONE = (ERROR_BROKEN_PIPE, ERROR_NO_DATA, ERROR_PIPE_NOT_CONNECTED)  # the other end closed


class SECURITY_ATTRIBUTES(ctypes.Structure):
    _fields_ = [("nLength", wintypes.DWORD), ("lpSecurityDescriptor", wintypes.LPVOID),
                ("bInheritHandle", wintypes.BOOL)]


class SID_AND_ATTRIBUTES(ctypes.Structure):  # TOKEN_USER holds one
    _fields_ = [("Sid", wintypes.LPVOID), ("Attributes", wintypes.DWORD)]


DWORD_P = ctypes.POINTER(wintypes.DWORD)
declare(kernel32, (
    ("CreateNamedPipeW", [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD,
                          wintypes.DWORD, wintypes.DWORD, ctypes.POINTER(SECURITY_ATTRIBUTES)], wintypes.HANDLE),
    ("ConnectNamedPipe", [wintypes.HANDLE, wintypes.LPVOID], wintypes.BOOL),
    ("DisconnectNamedPipe", [wintypes.HANDLE], wintypes.BOOL),
    ("CreateFileW", [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD,
                     wintypes.DWORD, wintypes.HANDLE], wintypes.HANDLE),
    ("WaitNamedPipeW", [wintypes.LPCWSTR, wintypes.DWORD], wintypes.BOOL),
    ("ReadFile", [wintypes.HANDLE, wintypes.LPVOID, wintypes.DWORD, DWORD_P, wintypes.LPVOID], wintypes.BOOL),
    ("WriteFile", [wintypes.HANDLE, wintypes.LPCVOID, wintypes.DWORD, DWORD_P, wintypes.LPVOID], wintypes.BOOL),
    ("PeekNamedPipe", [wintypes.HANDLE, wintypes.LPVOID, wintypes.DWORD, DWORD_P, DWORD_P, DWORD_P], wintypes.BOOL),
    ("GetNamedPipeServerProcessId", [wintypes.HANDLE, ctypes.POINTER(wintypes.ULONG)], wintypes.BOOL),
    ("GetNamedPipeClientProcessId", [wintypes.HANDLE, ctypes.POINTER(wintypes.ULONG)], wintypes.BOOL),
    ("ProcessIdToSessionId", [wintypes.DWORD, DWORD_P], wintypes.BOOL),
    ("GetCurrentProcess", [], wintypes.HANDLE),
    ("GetCurrentProcessId", [], wintypes.DWORD),
    ("CreateMutexW", [ctypes.POINTER(SECURITY_ATTRIBUTES), wintypes.BOOL, wintypes.LPCWSTR], wintypes.HANDLE),
    ("CloseHandle", [wintypes.HANDLE], wintypes.BOOL),
    ("LocalFree", [wintypes.LPVOID], wintypes.LPVOID),
    ("OpenProcess", [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD], wintypes.HANDLE),
    ("WaitForSingleObject", [wintypes.HANDLE, wintypes.DWORD], wintypes.DWORD),
))
declare(advapi32, (
    ("ConvertStringSecurityDescriptorToSecurityDescriptorW",
     [wintypes.LPCWSTR, wintypes.DWORD, ctypes.POINTER(wintypes.LPVOID), ctypes.POINTER(wintypes.ULONG)], wintypes.BOOL),
    ("OpenProcessToken", [wintypes.HANDLE, wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE)], wintypes.BOOL),
    ("GetTokenInformation", [wintypes.HANDLE, ctypes.c_int, wintypes.LPVOID, wintypes.DWORD, DWORD_P], wintypes.BOOL),
    ("ConvertSidToStringSidW", [wintypes.LPVOID, ctypes.POINTER(wintypes.LPWSTR)], wintypes.BOOL),
    ("EqualSid", [wintypes.LPVOID, wintypes.LPVOID], wintypes.BOOL),
))


# --- who: the token user of a process ---------------------------------------------------

def token_user(process: Any) -> ctypes.Array[ctypes.c_char] | None:
    """The TOKEN_USER of `process` (a handle with query rights), or None when Windows will not say.
    Its SID lives inside the buffer: keep the buffer while the SID is used."""
    token = wintypes.HANDLE()
    if not advapi32.OpenProcessToken(process, TOKEN_QUERY, ctypes.byref(token)):
        return None
    try:
        size = wintypes.DWORD()
        advapi32.GetTokenInformation(token, TOKEN_USER_CLASS, None, 0, ctypes.byref(size))  # asks for the size
        buffer = ctypes.create_string_buffer(size.value)
        if not size.value or not advapi32.GetTokenInformation(token, TOKEN_USER_CLASS, buffer, size, ctypes.byref(size)):
            return None
        return buffer
    finally:
        kernel32.CloseHandle(token)


def sid_of(user: ctypes.Array[ctypes.c_char]) -> Any:
    return SID_AND_ATTRIBUTES.from_buffer(user).Sid


_own_user: list[ctypes.Array[ctypes.c_char]] = []  # this process's TOKEN_USER, read once


def own_user() -> ctypes.Array[ctypes.c_char]:
    if not _own_user:
        user = token_user(kernel32.GetCurrentProcess())
        if user is None:
            raise ctypes.WinError(ctypes.get_last_error())
        _own_user.append(user)
    return _own_user[0]


def own_sid() -> str:
    text = wintypes.LPWSTR()
    if not advapi32.ConvertSidToStringSidW(sid_of(own_user()), ctypes.byref(text)):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        return str(text.value)
    finally:
        kernel32.LocalFree(ctypes.cast(text, wintypes.LPVOID))


def server_of(pipe: Any) -> Peer:
    """Who serves the pipe a launch opened: its process id, program and whether it runs as the person.
    Anything Windows will not tell counts as another user."""
    pid = wintypes.ULONG()
    if not kernel32.GetNamedPipeServerProcessId(pipe, ctypes.byref(pid)):
        return Peer(None, "", same_user=False)
    process = open_process(pid.value)
    if process is None:
        return Peer(pid.value, "", same_user=False)
    try:
        user = token_user(process)
        same = user is not None and bool(advapi32.EqualSid(sid_of(user), sid_of(own_user())))
        return Peer(pid.value, image_name(process), same_user=same)
    finally:
        kernel32.CloseHandle(process)


@contextlib.contextmanager
def owner_only() -> Iterator[Any]:
    """SECURITY_ATTRIBUTES whose descriptor admits the person's SID alone, for one Create… call."""
    descriptor = wintypes.LPVOID()
    if not advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW(
            owner_only_sddl(own_sid()), SDDL_REVISION_1, ctypes.byref(descriptor), None):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        yield ctypes.byref(SECURITY_ATTRIBUTES(ctypes.sizeof(SECURITY_ATTRIBUTES), descriptor, False))
    finally:
        kernel32.LocalFree(descriptor)  # the object keeps a copy


def address(tag: str) -> str:
    session = wintypes.DWORD()
    if not kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(session)):
        raise ctypes.WinError(ctypes.get_last_error())
    return pipe_name(own_sid(), session.value, tag)


# --- the lock --------------------------------------------------------------------------

class Mutex:
    """The named mutex, held while this agent runs."""

    def __init__(self, handle: int) -> None:
        self._handle = handle

    def release(self) -> None:
        kernel32.CloseHandle(self._handle)


def claim(pipe: str) -> Mutex | None:
    """The mutex named after the pipe, or None when another process of the person's holds it. Another
    user's mutex of that name (this session's namespace) shuts the person out: DesktopError."""
    with owner_only() as attributes:
        handle = kernel32.CreateMutexW(attributes, False, mutex_name(pipe))
        error = ctypes.get_last_error()
    if not handle:
        if error == ERROR_ACCESS_DENIED:
            raise DesktopError(
                f"A program of another user holds Phi Tray's lock {mutex_name(pipe)} in this session, so Phi Tray "
                "cannot start: end that program (or sign that user out) and start Phi Tray again.")
        raise ctypes.WinError(error)
    if error == ERROR_ALREADY_EXISTS:
        kernel32.CloseHandle(handle)
        return None
    return Mutex(handle)


def remove_leftover(pipe: str) -> bool:
    return False  # a pipe goes with the last handle to it: nothing is left to remove


# --- the pipe --------------------------------------------------------------------------

class PipeStream:
    """One connection on the pipe: a launch's handle, or the agent's instance while a launch is on it."""

    def __init__(self, handle: int, peer: Peer, server: bool) -> None:
        self._handle, self.peer, self._server = handle, peer, server

    def send(self, data: bytes) -> None:
        written = wintypes.DWORD()
        while data:
            if not kernel32.WriteFile(self._handle, data, len(data), ctypes.byref(written), None):
                raise ctypes.WinError(ctypes.get_last_error())
            data = data[written.value:]

    def receive(self, limit: int, deadline: float) -> bytes:
        # Polled: a synchronous ReadFile would wait for ever on a peer that sends nothing.
        while True:
            available = wintypes.DWORD()
            if not kernel32.PeekNamedPipe(self._handle, None, 0, None, ctypes.byref(available), None):
                error = ctypes.get_last_error()
                if error in GONE:
                    return b""
                raise ctypes.WinError(error)
            if available.value:
                buffer, read = ctypes.create_string_buffer(min(limit, available.value)), wintypes.DWORD()
                if not kernel32.ReadFile(self._handle, buffer, len(buffer), ctypes.byref(read), None):
                    error = ctypes.get_last_error()
                    if error in GONE:
                        return b""
                    raise ctypes.WinError(error)
                return buffer.raw[:read.value]
            if time.monotonic() > deadline:
                raise TimeoutError("no data")
            time.sleep(0.01)

    def close(self) -> None:
        if not self._server:
            kernel32.CloseHandle(self._handle)
            return
        # The agent's end: DisconnectNamedPipe drops what the launch has not read yet, so wait (a few
        # seconds at most) until the launch closes its end, then free the instance for the next one.
        deadline = time.monotonic() + TIMEOUT_SECONDS
        try:
            while time.monotonic() < deadline and self.receive(BUFFER_BYTES, deadline):
                pass
        except OSError:  # TimeoutError included
            pass
        kernel32.DisconnectNamedPipe(self._handle)


class PipeListener:
    """The pipe's one instance, held by the running agent and reused for each launch in turn."""

    def __init__(self, handle: int, name: str) -> None:
        self._handle, self._name = handle, name
        self._closing = False
        self._closed = threading.Event()

    def accept(self) -> PipeStream | None:
        """The next launch on the pipe; None once close() was asked for. The "instance" thread."""
        while not self._closing:
            connected = kernel32.ConnectNamedPipe(self._handle, None)
            error = ctypes.get_last_error()
            if self._closing:
                break
            if connected or error == ERROR_PIPE_CONNECTED:  # CONNECTED: it came between create and connect
                client = wintypes.ULONG()
                pid = client.value if kernel32.GetNamedPipeClientProcessId(self._handle, ctypes.byref(client)) else None
                # Only the person's SID may open the pipe (its DACL): whoever is on it runs as the person.
                return PipeStream(self._handle, Peer(pid, "", same_user=True), server=True)
            kernel32.DisconnectNamedPipe(self._handle)
            if error != ERROR_NO_DATA:  # NO_DATA: a launch that came and went; anything else, say so
                log.warning("instance: ConnectNamedPipe failed (error %d)", error)
                time.sleep(0.1)
        kernel32.DisconnectNamedPipe(self._handle)
        kernel32.CloseHandle(self._handle)
        self._closed.set()
        return None

    def close(self) -> None:
        """Any thread: ends accept() and waits (a few seconds at most) until the pipe is gone."""
        self._closing = True
        wake = kernel32.CreateFileW(self._name, GENERIC_READ | GENERIC_WRITE, 0, None, OPEN_EXISTING,
                                    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, None)
        if wake not in (None, INVALID_HANDLE_VALUE):  # busy with a launch: accept() sees the flag after it
            kernel32.CloseHandle(wake)
        self._closed.wait(TIMEOUT_SECONDS + 1)


def listen(name: str) -> PipeListener | None:
    """The pipe's first and only instance; None when the name is taken already."""
    # Wine creates another instance of an existing pipe despite FILE_FLAG_FIRST_PIPE_INSTANCE: a name
    # that answers WaitNamedPipe with anything but "not found" is taken.
    if kernel32.WaitNamedPipeW(name, 1) or ctypes.get_last_error() != ERROR_FILE_NOT_FOUND:
        return None
    with owner_only() as attributes:
        handle = kernel32.CreateNamedPipeW(
            name, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
            1, BUFFER_BYTES, BUFFER_BYTES, 0, attributes)
        error = ctypes.get_last_error()
    if handle in (None, INVALID_HANDLE_VALUE):
        if error in (ERROR_ACCESS_DENIED, ERROR_PIPE_BUSY):  # first-instance flag, or the one instance taken
            return None
        raise ctypes.WinError(error)
    return PipeListener(handle, name)


def connect(name: str) -> PipeStream | None:
    """A launch's end of the pipe, with who serves it; None when no pipe of that name exists.
    DesktopError when the pipe shuts the person out: only another user's can."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        handle = kernel32.CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, None, OPEN_EXISTING,
                                      SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, None)
        if handle not in (None, INVALID_HANDLE_VALUE):
            return PipeStream(handle, server_of(handle), server=False)
        error = ctypes.get_last_error()
        if error == ERROR_ACCESS_DENIED:
            raise held_by_another_user(name)
        remaining = deadline - time.monotonic()
        if error != ERROR_PIPE_BUSY or remaining <= 0:
            log.debug("no agent at %s: error %d", name, error)
            return None
        kernel32.WaitNamedPipeW(name, max(1, int(remaining * 1000)))


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once process `pid` has ended, False after `timeout` seconds."""
    process = kernel32.OpenProcess(SYNCHRONIZE, False, pid)
    if not process:  # ERROR_INVALID_PARAMETER: no such process any more
        return ctypes.get_last_error() != ERROR_ACCESS_DENIED
    try:
        return bool(kernel32.WaitForSingleObject(process, int(timeout * 1000)) == WAIT_OBJECT_0)
    finally:
        kernel32.CloseHandle(process)
