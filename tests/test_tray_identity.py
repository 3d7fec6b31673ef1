"""The Windows tray icon's identity (agent/ui/tray_win32.py): one GUID per install path, the same at every
start, so Windows keeps the person's "show on the taskbar" choice. Windows ties an icon GUID to the path of
the program that registered it; Wine ignores GUIDs, so the rule is pinned here and
tests/windows/test_installed.py checks the number and GUID the installed agent registers at two starts."""

from __future__ import annotations

import uuid

from phitray.ui.tray_win32 import ICON_ID, icon_guid

INSTALLED = r"C:\Users\Håkan 張\AppData\Local\Phi Tray\Python\pythonw.exe"


def test_one_install_gets_the_same_guid_at_every_start_however_its_path_is_written() -> None:
    guid = icon_guid(INSTALLED)
    assert isinstance(guid, uuid.UUID) and guid.version == 5
    assert icon_guid(INSTALLED) == guid
    assert icon_guid(INSTALLED.upper()) == guid  # Windows paths ignore case
    assert icon_guid(INSTALLED.replace("\\", "/")) == guid
    assert icon_guid(r"C:\Users\Håkan 張\AppData\Local\Phi Tray\Python\..\Python\pythonw.exe") == guid


def test_another_install_or_program_gets_another_guid() -> None:
    assert icon_guid(r"D:\Tools\Phi Tray\Python\pythonw.exe") != icon_guid(INSTALLED)
    assert icon_guid(r"C:\Users\Håkan 張\AppData\Local\Phi Tray\Python\python.exe") != icon_guid(INSTALLED)
    assert icon_guid(r"C:\Users\Hakan\AppData\Local\Phi Tray\Python\pythonw.exe") != icon_guid(INSTALLED)


def test_the_icon_number_is_fixed_and_not_pystrays_zero() -> None:
    assert ICON_ID == 1
