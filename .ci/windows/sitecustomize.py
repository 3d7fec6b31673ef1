"""Trap 8, for the Windows Python under Wine only: let this process use Intel AMX, as Windows does.

Linux keeps AMX tile data off until a process asks for it (arch_prctl
ARCH_REQ_XCOMP_PERM); native Linux builds of OpenVINO ask, Windows builds do
not (Windows turns it on for every process), so under Wine on an AMX CPU the
first AMX instruction dies as "Unhandled illegal instruction". A Wine process
is a Linux process: this runs the one syscall that asks. .ci/windows/setup.sh
puts this file in the Windows Python's site-packages, so the model host, a
spawned child, asks too. It does nothing on real Windows (no wine_get_version).
"""

import ctypes
import sys


def _request_amx() -> None:
    ntdll = ctypes.WinDLL("ntdll")
    if not hasattr(ntdll, "wine_get_version"):
        return
    code = bytes([
        0x57, 0x56,                    # push rdi; push rsi (callee-saved in the Windows ABI)
        0xB8, 0x9E, 0x00, 0x00, 0x00,  # mov eax, 158: arch_prctl
        0xBF, 0x23, 0x10, 0x00, 0x00,  # mov edi, 0x1023: ARCH_REQ_XCOMP_PERM
        0xBE, 0x12, 0x00, 0x00, 0x00,  # mov esi, 18: XFEATURE_XTILEDATA
        0x0F, 0x05,                    # syscall (-EINVAL on a CPU without AMX: harmless)
        0x5E, 0x5F, 0xC3,              # pop rsi; pop rdi; ret
    ])
    kernel32 = ctypes.WinDLL("kernel32")
    kernel32.VirtualAlloc.restype = ctypes.c_void_p
    kernel32.VirtualFree.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_ulong)
    memory = kernel32.VirtualAlloc(None, len(code), 0x3000, 0x40)  # MEM_COMMIT|MEM_RESERVE, PAGE_EXECUTE_READWRITE
    ctypes.memmove(memory, code, len(code))
    ctypes.CFUNCTYPE(ctypes.c_long)(memory)()
    kernel32.VirtualFree(memory, 0, 0x8000)  # MEM_RELEASE


if sys.platform == "win32":
    _request_amx()
