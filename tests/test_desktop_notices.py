"""A desktop that lacks what the agent needs, said rather than suffered: no system tray (GNOME without an
extension), and a Wayland session. The real agent runs on Xvfb with no tray host and WAYLAND_DISPLAY set, as on
GNOME on Wayland (XWayland gives DISPLAY); a person's keys and clicks drive it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent
from helpers.desktop import DesktopSession, TextWidget, start_session

pytestmark = pytest.mark.slow

NO_TRAY = "No system tray here"
WAYLAND = "Wayland session: hotkeys work only while an X11 (XWayland) program has the focus"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    """A desktop with a window manager, a session bus and a notification service, and no tray host."""
    desktop = start_session(tmp_path_factory.mktemp("bare"), tray=False)
    yield desktop
    desktop.stop()


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    running = start_agent(session, agent_paths, HOTKEY_SETTINGS, extra_env={"WAYLAND_DISPLAY": "wayland-0"})
    yield running
    assert running.stop() == 0, running.output()


def test_without_a_tray_it_says_so_once_and_never_that_its_icon_shows(
    session: DesktopSession, agent: RunningAgent
) -> None:
    agent.wait_milestone("tray-missing", 30, backend="xorg")
    assert session.wait_notification(NO_TRAY), session.notifications()[-2000:]
    time.sleep(1.0)
    assert session.notifications().count(NO_TRAY) == 1
    assert not agent.milestones("tray-visible")
    assert "Failed to dock icon" not in agent.output() + agent.log()


def test_a_wayland_session_says_at_start_what_works_there(session: DesktopSession, agent: RunningAgent) -> None:
    agent.wait_milestone("session-limits", 30)
    assert session.wait_notification(WAYLAND), session.notifications()[-2000:]
    assert "Run on clipboard text" in session.notifications()
    assert session.notifications().count(WAYLAND) == 1


def pick(session: DesktopSession, *typed: str) -> None:
    """The picker hotkey, then what a person types into it, each followed by Enter."""
    session.xdotool("key", "ctrl+alt+space", "sleep", "0.05", "type", "--delay", "30", typed[0])
    session.xdotool("key", "Return")
    for words in typed[1:]:
        time.sleep(0.3)
        session.xdotool("type", "--delay", "30", words)
        session.xdotool("key", "Return")


def test_the_picker_holds_the_menu_and_the_next_hotkey_says_where_it_is(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    agent.wait_milestone("tray-missing", 30)
    widget.fill("A sentence to pick for.")
    widget.select_all()
    pickers = len(agent.milestones("window-opened", window="picker"))
    settings = len(agent.milestones("window-opened", window="settings"))
    pick(session, "settings")
    agent.wait_milestone("window-opened", 15, count=pickers + 1, window="picker")
    agent.wait_milestone("window-opened", 15, count=settings + 1, window="settings")
    assert session.notifications().count(NO_TRAY) == 2, "the next hotkey did not say it again"
    session.xdotool("key", "Escape")  # the settings window has the keyboard
    time.sleep(0.5)
    # Backend opens its choices in the picker; "cpu" picks openvino-cpu, and the model host is replaced.
    widget.select_all()
    pick(session, "backend", "openvino-cpu")
    agent.wait_milestone("host-event", 90, generation=2, kind="ready")
    assert widget.text() == "A sentence to pick for.", "a menu entry touched the document"
    assert session.notifications().count(NO_TRAY) == 2


def test_quit_from_the_picker_ends_the_agent(session: DesktopSession, agent: RunningAgent, widget: TextWidget) -> None:
    widget.fill("Last words.")
    widget.select_all()
    pick(session, "quit")
    agent.process.wait(timeout=30)
    assert agent.process.returncode == 0, agent.output()
    assert "Traceback" not in agent.output()
