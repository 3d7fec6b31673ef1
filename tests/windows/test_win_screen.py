"""Monitors and DPI through the real user32 calls: the work area under the pointer, the DPI
declaration, a window's DPI, and a popup placed inside the pointer's work area. (Wine cannot show the
scaling itself, nor a second monitor: the pure placement rules are tested on Linux.)"""

from __future__ import annotations

import ctypes
import re
import tkinter
from ctypes import wintypes

from phitray.desktop.system import declare_dpi_awareness, window_dpi, work_area
from phitray.ui.popup import HEIGHT, WIDTH, place_near_pointer

user32 = ctypes.WinDLL("user32", use_last_error=True)
user32.GetCursorPos.argtypes, user32.GetCursorPos.restype = [ctypes.POINTER(wintypes.POINT)], wintypes.BOOL
user32.SetCursorPos.argtypes, user32.SetCursorPos.restype = [ctypes.c_int, ctypes.c_int], wintypes.BOOL
user32.GetSystemMetrics.argtypes, user32.GetSystemMetrics.restype = [ctypes.c_int], ctypes.c_int
user32.GetDesktopWindow.argtypes, user32.GetDesktopWindow.restype = [], wintypes.HWND
SM_CXSCREEN, SM_CYSCREEN = 0, 1


def pointer_in_the_middle_of_the_primary_monitor() -> tuple[int, int]:
    """Moves the pointer off any panel (a point on the taskbar is outside every work area) and reads it back."""
    assert user32.SetCursorPos(user32.GetSystemMetrics(SM_CXSCREEN) // 2, user32.GetSystemMetrics(SM_CYSCREEN) // 2)
    point = wintypes.POINT()
    assert user32.GetCursorPos(ctypes.byref(point))
    return point.x, point.y


def test_declaring_dpi_awareness_never_raises_and_says_what_it_did() -> None:
    first = declare_dpi_awareness()
    print("DPI awareness:", first)
    assert first
    assert declare_dpi_awareness()  # a second declaration is refused by Windows, not raised


def test_the_work_area_under_the_pointer_holds_the_pointer() -> None:
    x, y = pointer_in_the_middle_of_the_primary_monitor()
    area = work_area(x, y)
    print("pointer", (x, y), "work area", area)
    assert area is not None
    left, top, right, bottom = area
    assert right > left and bottom > top
    assert left <= x < right and top <= y < bottom


def test_a_point_off_every_monitor_gets_the_nearest_monitors_work_area() -> None:
    area = work_area(100_000, 100_000)
    assert area is not None and area[2] > area[0] and area[3] > area[1]


def test_a_windows_dpi_is_read_and_a_popup_is_placed_inside_the_pointers_work_area(tk_root: tkinter.Tk) -> None:
    desktop_dpi = window_dpi(user32.GetDesktopWindow())
    assert desktop_dpi is not None and desktop_dpi > 0
    x, y = pointer_in_the_middle_of_the_primary_monitor()
    area = work_area(x, y)
    assert area is not None
    root = tk_root
    root_dpi = window_dpi(root.winfo_id())
    print("DPI of the desktop", desktop_dpi, "of Tk's root", root_dpi)
    assert root_dpi is not None and root_dpi > 0
    found = re.fullmatch(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", place_near_pointer(root, WIDTH, HEIGHT))
    assert found is not None
    width, height, left, top = map(int, found.groups())
    assert width >= WIDTH and height >= HEIGHT
    assert area[0] <= left and left + width <= area[2] and area[1] <= top and top + height <= area[3]
