"""Stop the Phi Tray installed in a folder and wait until none of its processes runs: the installer runs this
before it replaces the program, the uninstaller before it removes it.

    python.exe stop_agent.py INSTDIR [SECONDS]

Run by the installed program's own python.exe (of any version: it needs only the standard library), from
the installer's temporary folder. It asks the agent to quit (`phitray stop`, which in older versions
returns before the agent has ended), waits up to SECONDS (30) for every process whose program lies in
INSTDIR (the agent, its model host and downloads: all run that folder's pythonw.exe or python.exe), ends
the ones left, and exits 0 once none runs, 1 if some would not end. A running process holds its DLLs and
.pyd files open, and Windows will neither overwrite nor delete those.
"""

from __future__ import annotations

import ntpath
import os
import subprocess
import sys
import time

WAIT_SECONDS = 30.0
KILL_WAIT_SECONDS = 5.0


def belongs_to(program: str, folder: str) -> bool:
    """Whether the program at `program` lies inside `folder` (Windows paths, compared as Windows does)."""
    inside = ntpath.normcase(ntpath.normpath(folder)).rstrip("\\") + "\\"
    return ntpath.normcase(ntpath.normpath(program)).startswith(inside)


def processes_in(folder: str) -> dict[int, str]:
    """Running processes (id: program) whose program lies inside `folder`, this one left out."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    psapi = ctypes.WinDLL("psapi", use_last_error=True)
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.QueryFullProcessImageNameW.argtypes = [wintypes.HANDLE, wintypes.DWORD, wintypes.LPWSTR,
                                                    ctypes.POINTER(wintypes.DWORD)]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    ids = (wintypes.DWORD * 8192)()
    needed = wintypes.DWORD()
    if not psapi.EnumProcesses(ids, ctypes.sizeof(ids), ctypes.byref(needed)):
        return {}
    found = {}
    for pid in ids[: needed.value // ctypes.sizeof(wintypes.DWORD)]:
        if pid in (0, os.getpid()):
            continue
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            continue
        try:
            name = ctypes.create_unicode_buffer(32768)
            size = wintypes.DWORD(len(name))
            if kernel32.QueryFullProcessImageNameW(handle, 0, name, ctypes.byref(size)) and belongs_to(name.value,
                                                                                                         folder):
                found[int(pid)] = name.value
        finally:
            kernel32.CloseHandle(handle)
    return found


def end(pid: int) -> None:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.TerminateProcess.argtypes = [wintypes.HANDLE, wintypes.UINT]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    handle = kernel32.OpenProcess(0x0001, False, pid)  # PROCESS_TERMINATE
    if handle:
        kernel32.TerminateProcess(handle, 1)
        kernel32.CloseHandle(handle)


def wait_until_gone(folder: str, seconds: float) -> dict[int, str]:
    """The processes still running in `folder` after waiting up to `seconds` for them to end."""
    deadline = time.monotonic() + seconds
    while (left := processes_in(folder)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return left


def main(folder: str, seconds: float = WAIT_SECONDS) -> int:
    if not processes_in(folder):
        print(f"no program of {folder} is running")
        return 0
    python = ntpath.join(folder, "Python", "python.exe")
    if os.path.exists(python):
        try:  # the agent's own way out first: it ends its model host and gives the clipboard back
            done = subprocess.run([python, "-m", "phitray", "stop"], capture_output=True, text=True,
                                  timeout=seconds + 10, stdin=subprocess.DEVNULL)
            print((done.stdout + done.stderr).strip() or f"phitray stop exited {done.returncode}")
        except (OSError, subprocess.TimeoutExpired) as error:
            print(f"phitray stop failed: {error}")
    left = wait_until_gone(folder, seconds)
    for pid, program in left.items():
        print(f"ending process {pid} ({program}): it did not end within {seconds:g} seconds")
        end(pid)
    left = wait_until_gone(folder, KILL_WAIT_SECONDS) if left else {}
    for pid, program in left.items():
        print(f"process {pid} ({program}) is still running")
    return 1 if left else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else WAIT_SECONDS))
