"""Windows: the Start-menu shortcut carries the agent's AppUserModelID, so Windows groups the agent's windows,
notifications and pinned entries under "Phi Tray" and its icon, not under the Python that runs it.

    python.exe -m phitray.desktop.windows_shortcut SHORTCUT.lnk [APP_ID]

The installer runs this once it has made the shortcut (NSIS cannot set a shortcut's properties itself). It
goes through the shell's own objects: ShellLink's IPersistFile loads the shortcut, its IPropertyStore takes
System.AppUserModel.ID, and the shortcut is saved again.
"""

from __future__ import annotations

import ctypes
import sys
import uuid
from collections.abc import Callable
from ctypes import wintypes
from typing import Any

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here

from phitray.desktop.windows_tray import APP_ID  # noqa: E402

CLSID_SHELL_LINK = uuid.UUID("00021401-0000-0000-c000-000000000046")
IID_PERSIST_FILE = uuid.UUID("0000010b-0000-0000-c000-000000000046")
IID_PROPERTY_STORE = uuid.UUID("886d8eeb-8cf2-4446-8d02-cdba1dbdcf99")
PKEY_APP_USER_MODEL_ID = (uuid.UUID("9f4c2855-9f79-4b39-a8d0-e1d42de1d5f3"), 5)
CLSCTX_INPROC_SERVER, COINIT_APARTMENTTHREADED, STGM_READWRITE, VT_LPWSTR = 0x1, 0x2, 0x2, 31
# Vtable slots: IUnknown (QueryInterface 0, Release 2), IPersistFile (Load 5, Save 6), IPropertyStore
# (SetValue 6, Commit 7).
QUERY_INTERFACE, RELEASE, LOAD, SAVE, SET_VALUE, COMMIT = 0, 2, 5, 6, 6, 7


class GUID(ctypes.Structure):
    _fields_ = [("Data1", wintypes.DWORD), ("Data2", wintypes.WORD), ("Data3", wintypes.WORD),
                ("Data4", ctypes.c_ubyte * 8)]


class PROPERTYKEY(ctypes.Structure):
    _fields_ = [("fmtid", GUID), ("pid", wintypes.DWORD)]


class PROPVARIANT(ctypes.Structure):  # only the VT_LPWSTR case: the type, three reserved words, the pointer
    _fields_ = [("vt", ctypes.c_ushort), ("reserved", ctypes.c_ushort * 3), ("value", ctypes.c_void_p),
                ("padding", ctypes.c_void_p)]


def guid(value: uuid.UUID) -> GUID:
    return GUID.from_buffer_copy(value.bytes_le)


def method(interface: ctypes.c_void_p, slot: int, *argtypes: Any) -> Callable[..., int]:
    """The COM method in `slot` of `interface`'s vtable; raises OSError for a failing HRESULT."""
    vtable = ctypes.cast(interface, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents
    function = ctypes.WINFUNCTYPE(ctypes.c_long, ctypes.c_void_p, *argtypes)(vtable[slot])

    def call(*args: Any) -> int:
        result = int(function(interface, *args))
        if result < 0:
            raise OSError(f"COM method {slot} failed (HRESULT {result & 0xFFFFFFFF:#010x})")
        return result
    return call


def set_app_id(shortcut: str, app_id: str = APP_ID) -> None:
    """Give the shortcut at `shortcut` the AppUserModelID `app_id`. OSError when the shell refuses."""
    ole32 = ctypes.WinDLL("ole32")
    ole32.CoInitializeEx.argtypes = [ctypes.c_void_p, wintypes.DWORD]
    ole32.CoCreateInstance.argtypes = [ctypes.POINTER(GUID), ctypes.c_void_p, wintypes.DWORD, ctypes.POINTER(GUID),
                                       ctypes.POINTER(ctypes.c_void_p)]
    ole32.CoCreateInstance.restype = ctypes.c_long
    ole32.CoInitializeEx(None, COINIT_APARTMENTTHREADED)
    persist, store = ctypes.c_void_p(), ctypes.c_void_p()
    result = ole32.CoCreateInstance(ctypes.byref(guid(CLSID_SHELL_LINK)), None, CLSCTX_INPROC_SERVER,
                                    ctypes.byref(guid(IID_PERSIST_FILE)), ctypes.byref(persist))
    if result < 0:
        raise OSError(f"no ShellLink object (HRESULT {result & 0xFFFFFFFF:#010x})")
    try:
        method(persist, LOAD, wintypes.LPCWSTR, wintypes.DWORD)(shortcut, STGM_READWRITE)
        method(persist, QUERY_INTERFACE, ctypes.POINTER(GUID), ctypes.POINTER(ctypes.c_void_p))(
            ctypes.byref(guid(IID_PROPERTY_STORE)), ctypes.byref(store))
        key = PROPERTYKEY(guid(PKEY_APP_USER_MODEL_ID[0]), PKEY_APP_USER_MODEL_ID[1])
        text = ctypes.create_unicode_buffer(app_id)  # held until the store has copied it
        value = PROPVARIANT(vt=VT_LPWSTR, value=ctypes.cast(text, ctypes.c_void_p))
        method(store, SET_VALUE, ctypes.POINTER(PROPERTYKEY), ctypes.POINTER(PROPVARIANT))(
            ctypes.byref(key), ctypes.byref(value))
        method(store, COMMIT)()
        method(persist, SAVE, wintypes.LPCWSTR, wintypes.BOOL)(None, True)
    finally:
        for interface in (store, persist):
            if interface:
                ctypes.WINFUNCTYPE(wintypes.ULONG, ctypes.c_void_p)(
                    ctypes.cast(interface, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p))).contents[RELEASE])(interface)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        set_app_id(*sys.argv[1:])
    except OSError as error:
        sys.exit(f"the shortcut keeps no AppUserModelID: {error}")
    # Not the shortcut's path: a console's code page may not spell the person's name in it.
    print(f"the shortcut's AppUserModelID is {sys.argv[2] if len(sys.argv) == 3 else APP_ID}")
