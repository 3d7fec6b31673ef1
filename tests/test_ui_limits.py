"""What the tray and the Tk windows must fit into, as pure decisions: notices cut to the Windows
balloon's fields, and windows placed inside the work area of the monitor under the pointer."""

from __future__ import annotations

from phitray.ui.popup import HEIGHT, WIDTH, position_near_pointer
from phitray.ui.tray import NOTICE_MESSAGE_UNITS, NOTICE_TITLE_UNITS, cut_to_fit, utf16_units


def test_a_notice_that_fits_is_left_alone() -> None:
    text = "x" * NOTICE_MESSAGE_UNITS
    assert cut_to_fit(text, NOTICE_MESSAGE_UNITS) is text
    assert cut_to_fit("Phi Tray", NOTICE_TITLE_UNITS) == "Phi Tray"


def test_a_long_notice_is_cut_to_the_balloons_field_and_ends_with_an_ellipsis() -> None:
    # NOTIFYICONDATAW's szInfo[256] and szInfoTitle[64] each keep one unit for the terminating NUL.
    assert (NOTICE_MESSAGE_UNITS, NOTICE_TITLE_UNITS) == (255, 63)
    long = "The model stopped; restarting it. " * 20
    assert cut_to_fit(long, NOTICE_MESSAGE_UNITS) == long[:254] + "…"
    title = cut_to_fit("Phi Tray: " + "Summarize in three bullet points " * 3, NOTICE_TITLE_UNITS)
    assert utf16_units(title) <= 63 and title.endswith("…") and not title.endswith(" …")


def test_characters_outside_the_bmp_count_two_units_and_are_never_split() -> None:
    cut = cut_to_fit("😀" * 40, NOTICE_TITLE_UNITS)  # 80 units
    assert cut == "😀" * 31 + "…" and utf16_units(cut) == 63


LAPTOP = (0, 0, 1920, 1040)  # a 1920x1080 monitor less a 40-pixel taskbar at the bottom
SECOND = (1920, 0, 3840, 1040)  # a second monitor to the right of it


def test_a_window_opens_below_and_right_of_the_pointer() -> None:
    assert position_near_pointer((500, 300), (WIDTH, HEIGHT), LAPTOP) == (512, 316)


def test_a_pointer_on_the_second_monitor_keeps_the_window_on_that_monitor() -> None:
    x, y = position_near_pointer((2500, 400), (WIDTH, HEIGHT), SECOND)
    assert (x, y) == (2512, 416)
    # Near that monitor's right edge it goes left of the pointer, still on the second monitor.
    x, y = position_near_pointer((3800, 400), (WIDTH, HEIGHT), SECOND)
    assert 1920 <= x and x + WIDTH <= 3800


def test_a_pointer_near_the_bottom_right_puts_the_window_above_and_left_of_it() -> None:
    x, y = position_near_pointer((1900, 1030), (WIDTH, HEIGHT), LAPTOP)
    assert (x + WIDTH, y + HEIGHT) == (1900 - 12, 1030 - 16)


def test_the_taskbar_is_kept_clear() -> None:
    _, y = position_near_pointer((800, 900), (WIDTH, HEIGHT), LAPTOP)
    assert y + HEIGHT <= 1040 and y + HEIGHT <= 900  # above the pointer: below it the taskbar would cover it
    x, _ = position_near_pointer((10, 300), (WIDTH, HEIGHT), (48, 0, 1920, 1080))  # a taskbar on the left
    assert x == 48


def test_a_monitor_left_of_the_primary_has_negative_coordinates() -> None:
    assert position_near_pointer((-1000, 200), (WIDTH, HEIGHT), (-1920, 0, 0, 1080)) == (-988, 216)
    x, _ = position_near_pointer((-30, 200), (WIDTH, HEIGHT), (-1920, 0, 0, 1080))
    assert x == -30 - 12 - WIDTH


def test_a_window_larger_than_the_work_area_starts_at_its_top_left() -> None:
    assert position_near_pointer((100, 100), (WIDTH, HEIGHT), (0, 0, 400, 200)) == (0, 0)
