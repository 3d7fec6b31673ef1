"""The DPI rule on Windows (windows_rules.shown_scale, DPI_AWARENESS): a window is its design size times its
monitor's DPI over 96 on every monitor, which Tk 8.6 (scaled once at start) reaches only when the process
is system-aware. Wine has neither DPI scaling nor a second monitor; tests/windows/test_win_screen.py checks
what it can: the declaration Windows took."""

from __future__ import annotations

import pytest

from phitray.desktop.windows_rules import DPI_AWARENESS, shown_scale, stretched

# A laptop at 150 % (144 DPI, the system DPI at login) and monitors beside it at 100 %, 125 %, 150 %, 200 %.
SYSTEM_DPI = 144
MONITORS = (96, 120, 144, 192)


@pytest.mark.parametrize("monitor_dpi", MONITORS)
def test_the_declared_awareness_shows_every_window_at_its_monitors_scale(monitor_dpi: int) -> None:
    assert shown_scale(DPI_AWARENESS, SYSTEM_DPI, monitor_dpi) == pytest.approx(monitor_dpi / 96)


def test_windows_on_the_monitor_tk_scaled_for_stay_crisp() -> None:
    assert not stretched(DPI_AWARENESS, SYSTEM_DPI, SYSTEM_DPI)
    assert stretched(DPI_AWARENESS, SYSTEM_DPI, 96)  # the price elsewhere: stretched, but the right size


def test_per_monitor_awareness_with_tk_scaled_once_gets_other_monitors_wrong() -> None:
    # What the agent declared before: a popup on a 100 % monitor beside a 150 % laptop was half as large again.
    assert shown_scale("per-monitor", SYSTEM_DPI, 96) == pytest.approx(1.5)
    assert shown_scale("per-monitor", SYSTEM_DPI, 192) == pytest.approx(1.5)  # and too small at 200 %
    wrong = [dpi for dpi in MONITORS if shown_scale("per-monitor", SYSTEM_DPI, dpi) != pytest.approx(dpi / 96)]
    assert wrong == [96, 120, 192]


def test_an_unaware_process_is_the_right_size_but_stretched_everywhere_above_96() -> None:
    assert all(shown_scale("unaware", SYSTEM_DPI, dpi) == pytest.approx(dpi / 96) for dpi in MONITORS)
    assert all(stretched("unaware", SYSTEM_DPI, dpi) for dpi in MONITORS if dpi != 96)
