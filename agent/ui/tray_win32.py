"""What the agent changes in pystray's win32 icon, the Windows tray: the same identity at every start, so
Windows keeps the person's choice to show the icon on the taskbar, and the process named as Phi Tray.

pystray registers its icon under uID 0 (it passes its `id()` under a name NOTIFYICONDATAW has no field for)
and no GUID, from a window made anew at each start. Windows keeps "show on the taskbar" per program and
icon identity, so the icon went back into the overflow after every login (tauri-apps/tray-icon#366). Here
the icon is number ICON_ID and carries a GUID made from the program's path: the same for every start of
one install, and another for an install elsewhere, as Windows ties an icon's GUID to the path that first
registered it and refuses it from any other.

This reaches into pystray's private parts (`_message`, `_hwnd`, its NOTIFYICONDATAW); where they are
missing, it says so in the log and leaves the icon as pystray makes it.
"""

from __future__ import annotations

import ctypes
import logging
import ntpath
import sys
import uuid
from typing import Any

from phitray.logs import milestone

log = logging.getLogger(__name__)

ICON_ID = 1
GUID_NAMESPACE = uuid.UUID("6f1c2b3e-52a4-4f0e-9a57-0d3c6e2f8b41")  # Phi Tray's own: names of its icons' GUIDs
NIM_ADD, NIM_MODIFY, NIM_DELETE, NIF_GUID = 0, 1, 2, 0x20


def icon_guid(executable: str) -> uuid.UUID:
    """The icon's GUID for the program at `executable` (a Windows path, compared as Windows does: case and
    slashes aside)."""
    return uuid.uuid5(GUID_NAMESPACE, ntpath.normcase(ntpath.normpath(executable)))


def keep_identity(icon: Any, executable: str = sys.executable) -> None:
    """Register pystray's win32 `icon` as ICON_ID with the install's GUID, and name the process (its
    AppUserModelID) before pystray makes its window. Main thread, before the icon's loop runs."""
    from phitray.desktop import windows_tray

    windows_tray.set_app_id()  # type: ignore[attr-defined]  # other platforms' checkers stop at its assert
    try:
        from pystray._util import win32
    except ImportError:
        win32 = None
    structure = getattr(win32, "NOTIFYICONDATAW", None)
    if not callable(getattr(icon, "_message", None)) or not hasattr(icon, "_hwnd") or structure is None:
        log.warning("tray: pystray's win32 icon has changed inside; Windows sees a new icon at every start")
        return
    guid = icon_guid(executable)
    with_guid = [True]  # until Windows refuses the GUID (an icon of this path registered otherwise)

    def send(code: int, flags: int, fields: dict[str, Any], use_guid: bool) -> bool:
        data = structure(cbSize=ctypes.sizeof(structure), hWnd=icon._hwnd, uID=ICON_ID,
                         uFlags=flags | (NIF_GUID if use_guid else 0), **fields)
        if use_guid:
            data.guidItem.Data1, data.guidItem.Data2, data.guidItem.Data3 = guid.fields[0], guid.fields[1], guid.fields[2]
            data.guidItem.Data4[:] = [value - 256 if value > 127 else value for value in guid.bytes[8:]]
        return bool(win32.Shell_NotifyIcon(code, data))

    def identified(code: int, flags: int, **fields: Any) -> None:
        """pystray calls this for each change of the icon: on its setup thread (the add), "tray" and "tray-paint"."""
        if code == NIM_ADD:
            if with_guid[0]:
                send(NIM_DELETE, 0, {}, True)  # an icon a crashed start left under this GUID would refuse the add
                if not send(NIM_ADD, flags, fields, True):
                    with_guid[0] = False
                    log.warning("tray: Windows refused the icon's GUID %s; the icon goes by its number alone", guid)
            added = with_guid[0] or send(NIM_ADD, flags, fields, False)
            milestone("tray-identity", uid=ICON_ID, guid=str(guid) if with_guid[0] else "", window=int(icon._hwnd or 0),
                      added=added)
            return
        send(code, flags, fields, with_guid[0])

    icon._message = identified
