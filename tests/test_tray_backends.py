"""`phitray run` on Linux without PyGObject, as `pip install phitray` leaves it: pystray's xorg backend
(the default on Linux), whose window title is latin-1 (the tooltip's "—" once killed the agent at
start). The agent must start, say which backend it got, load no GTK, serve hotkeys, and have a menu
(drawn by Tk) whose check and radio entries switch, and notifications (over D-Bus)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent
from helpers.desktop import DesktopSession, open_text_widget, tray_icon_position

pytestmark = pytest.mark.slow

NO_PYGOBJECT = Path(__file__).resolve().parent / "helpers" / "nogi"


@pytest.fixture(scope="module")
def agent(session: DesktopSession, shared_paths: Paths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAgent]:
    folder = tmp_path_factory.mktemp("nogi")
    paths = replace(shared_paths, config_dir=folder / "config", cache_dir=folder / "cache", log_dir=folder / "log")
    running = start_agent(session, paths, HOTKEY_SETTINGS, extra_env={"PYTHONPATH": str(NO_PYGOBJECT)})
    yield running
    assert running.stop() == 0, running.output()
    assert "Traceback" not in running.output(), running.output()


def open_menu_and_press(session: DesktopSession, tmp_path: Path, keys: tuple[str, ...], button: str = "3") -> None:
    """A click on the icon, then keys as a person presses them in the menu."""
    x, y = tray_icon_position(session, tmp_path)
    session.xdotool("mousemove", str(x), str(y), "click", button)
    time.sleep(0.8)
    for key in keys[:-1]:
        session.xdotool("key", key)
        time.sleep(0.15)
    session.screenshot(tmp_path / "menu.png")  # what the last key acts on, for a failure to explain itself
    session.xdotool("key", keys[-1])


def test_without_pygobject_the_agent_starts_on_xorg_loads_no_gtk_and_serves_a_hotkey(
    session: DesktopSession, agent: RunningAgent
) -> None:
    agent.wait_milestone("tray-backend", backend="xorg", menu="tk")
    agent.wait_milestone("tray-visible", 30)  # written once trayer has embedded the icon, and only then
    assert not agent.milestones("tray-missing")
    maps = Path(f"/proc/{agent.process.pid}/maps").read_text()
    assert "libgtk" not in maps and "libgirepository" not in maps and "/gi/" not in maps
    widget = open_text_widget(session)
    try:
        widget.fill("their going too the park tomorow.")
        widget.select_all()
        record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
        assert record.outcome == "done", agent.log()[-2000:]
        assert widget.wait_text(lambda text: text != "their going too the park tomorow.")
    finally:
        widget.close()


def test_start_on_login_checks_and_unchecks_from_the_menu(
    session: DesktopSession, agent: RunningAgent, tmp_path: Path
) -> None:
    entry = Path(agent.env["XDG_CONFIG_HOME"]) / "autostart" / "phitray.desktop"
    assert not entry.exists()
    # Counted from the bottom (Up from no entry starts at the last), as Undo and Cancel above come and go:
    # Quit, About this PC…, Open log, Reload actions, Open actions folder, Settings…, Start on login.
    # A left click opens the same menu as a right click.
    open_menu_and_press(session, tmp_path, ("Up",) * 7 + ("Return",), button="1")
    assert session.wait_notification("Start on login: on"), session.notifications()[-2000:]
    assert entry.exists()
    open_menu_and_press(session, tmp_path, ("Up",) * 7 + ("Return",))
    assert session.wait_notification("Start on login: off"), session.notifications()[-2000:]
    assert not entry.exists()


def test_a_backend_chosen_in_the_radio_submenu_switches_the_model_host(
    session: DesktopSession, agent: RunningAgent, tmp_path: Path
) -> None:
    # From the bottom: …, Start on login, Pause hotkeys, Model, Backend; its submenu: Automatic, openvino-npu,
    # directml, openvino-gpu, openvino-cpu…
    open_menu_and_press(session, tmp_path, ("Up",) * 10 + ("Right",) + ("Down",) * 4 + ("Return",))
    agent.wait_milestone("host-event", 90, generation=2, kind="ready")
    # Escape closes the menu and runs nothing.
    hosts_before = len(agent.milestones("host-event", kind="ready"))
    open_menu_and_press(session, tmp_path, ("Up",) * 10 + ("Escape",))
    time.sleep(0.5)
    assert len(agent.milestones("host-event", kind="ready")) == hosts_before
    assert agent.process.poll() is None
