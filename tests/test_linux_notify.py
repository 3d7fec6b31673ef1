"""Notifications over D-Bus (desktop/linux_notify.py) against a real session bus and dunst, and with no bus."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from phitray.desktop.linux_notify import LinuxNotifier

from helpers.desktop import DesktopSession, start_session


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    session = start_session(tmp_path_factory.mktemp("bus"), tray=False)
    yield session
    session.stop()


def test_notices_reach_the_notification_daemon_in_order_with_markup_escaped(
    desktop: DesktopSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.env["DBUS_SESSION_BUS_ADDRESS"])
    notifier = LinuxNotifier()
    notifier.notify("Phi Tray: first", "Hotkeys paused.")
    notifier.notify("Phi Tray", "a <b>bold</b> & plain")  # dunst reads markup: ours must show as typed
    assert desktop.wait_notification("a &lt;b&gt;bold&lt;/b&gt; &amp; plain"), desktop.notifications()
    record = desktop.notifications()
    assert record.index("Hotkeys paused.") < record.index("a &lt;b&gt;")
    assert '"Phi Tray: first"' in record


def test_without_a_session_bus_a_notice_is_logged_once_and_never_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    notifier = LinuxNotifier()
    with caplog.at_level(logging.WARNING, logger="phitray.desktop.linux_notify"):
        notifier.notify("Phi Tray", "one")
        notifier.notify("Phi Tray", "two")
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the second notice fails too, and says nothing more
    assert len(caplog.records) == 1
    assert "notifications cannot be shown" in caplog.records[0].getMessage()
