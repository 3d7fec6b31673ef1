"""Start on login (XDG entry, LaunchAgent plist) and the single-instance lock."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from phitray.desktop.autostart import (
    STARTUP_APPROVED_ON,
    STARTUP_APPS_SETTINGS,
    AutostartStatus,
    check,
    for_this_platform,
    launch_command,
    startup_approved,
)
from phitray.desktop.launchd_autostart import LaunchAgent
from phitray.desktop.xdg_autostart import XdgAutostart, desktop_exec
from phitray.desktop.instance import InstanceLock, instance_address, send_to_running
from phitray.paths import Paths


def test_xdg_entry_is_written_read_back_and_removed(tmp_path: Path) -> None:
    entry = XdgAutostart(["/opt/my venv/bin/python", "-m", "phitray", "run"], config_home=tmp_path)
    assert not entry.status().enabled
    status = entry.enable()
    assert status.enabled and not status.points_elsewhere
    text = entry.path.read_text()
    assert text.startswith("[Desktop Entry]\nType=Application\nName=Phi Tray\n")
    assert 'Exec="/opt/my venv/bin/python" -m phitray run' in text
    if Path("/usr/bin/desktop-file-validate").exists():
        assert subprocess.run(["desktop-file-validate", str(entry.path)], capture_output=True, text=True).stdout == ""
    assert not entry.disable().enabled and not entry.path.exists()


def test_an_entry_that_runs_another_interpreter_is_repaired_on_start(tmp_path: Path) -> None:
    entry = XdgAutostart([sys.executable, "-m", "phitray", "run"], config_home=tmp_path)
    entry.path.parent.mkdir(parents=True)
    entry.path.write_text("[Desktop Entry]\nType=Application\nName=Phi Tray\nExec=/old/venv/bin/python -m phitray run\n")
    assert entry.status().points_elsewhere
    message = check(entry)
    assert message is not None and "/old/venv/bin/python" in message
    assert entry.status().command == desktop_exec([sys.executable, "-m", "phitray", "run"])
    assert check(entry) is None  # nothing more to do


def test_an_agent_started_by_the_installers_launch_script_starts_on_login_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHITRAY_LAUNCH_SCRIPT", raising=False)
    assert launch_command() == [sys.executable, "-m", "phitray", "run"]
    script = tmp_path / "Phi_Tray.launch.pyw"
    monkeypatch.setenv("PHITRAY_LAUNCH_SCRIPT", str(script))
    assert launch_command() == [sys.executable, "-m", "phitray", "run"]  # a script that is gone: the module
    script.write_text("")
    assert launch_command() == [sys.executable, str(script)]


def test_desktop_exec_quotes_what_the_spec_reserves() -> None:
    assert desktop_exec(["/usr/bin/python3", "-m", "phitray"]) == "/usr/bin/python3 -m phitray"
    assert desktop_exec(['/a b/$x"', "100%"]) == '"/a b/\\$x\\"" 100%%'


def test_launch_agent_round_trips_its_plist(tmp_path: Path) -> None:
    agent = LaunchAgent(["/usr/bin/python3", "-m", "phitray", "run"], home=tmp_path)
    assert agent.enable().enabled
    assert agent.status().command == "/usr/bin/python3 -m phitray run"
    assert not agent.disable().enabled


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Run key is exercised under Wine")
def test_on_linux_start_on_login_is_the_xdg_entry_running_this_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("PHITRAY_LAUNCH_SCRIPT", raising=False)
    entry = for_this_platform()
    assert isinstance(entry, XdgAutostart) and entry.path == tmp_path / "autostart" / "phitray.desktop"
    assert entry.expected == desktop_exec([sys.executable, "-m", "phitray", "run"])


def test_startup_approved_bytes_switch_a_run_value_off_only_when_bit_0_of_the_first_byte_is_set() -> None:
    filetime = bytes.fromhex("5c1a3b9e8f2cd901")
    assert not startup_approved(bytes([0x03, 0, 0, 0]) + filetime)  # Task Manager's "Disabled"
    assert not startup_approved(bytes([0x07]) + bytes(11))
    assert not startup_approved(bytes([0x01]))
    assert startup_approved(STARTUP_APPROVED_ON) and STARTUP_APPROVED_ON == bytes([0x02]) + bytes(11)
    assert startup_approved(bytes([0x06]) + bytes(11))
    # No value, an empty one or one of another type: Windows runs the entry.
    assert startup_approved(None) and startup_approved(b"") and startup_approved("3") and startup_approved(3)


def test_an_entry_switched_off_in_windows_settings_says_so_and_is_not_repaired() -> None:
    status = AutostartStatus(False, r"HKCU\Run\Phi Tray", "", "pythonw.exe -m phitray run", turned_off_in=STARTUP_APPS_SETTINGS)
    assert status.describe().startswith("off (disabled in Windows' Startup apps settings")
    assert not status.points_elsewhere


def test_one_lock_per_config_dir_and_messages_reach_the_holder(paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    address = instance_address(paths)
    first = InstanceLock(address)
    assert first.acquire()
    received: list[str] = []
    done = threading.Event()

    def handle(message: str) -> str:
        received.append(message)
        done.set()
        return f"got {message}"

    first.serve(handle)
    try:
        assert not InstanceLock(address).acquire()
        assert send_to_running(address, "show") == "got show"
        assert done.wait(5) and received[-1] == "show"
        other = Paths(paths.config_dir.parent / "other", paths.data_dir, paths.cache_dir, paths.log_dir)
        assert instance_address(other) != address
    finally:
        first.release()
    assert send_to_running(address, "show") is None


def test_a_socket_left_by_a_dead_agent_is_taken_over(paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    address = instance_address(paths)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(address)
    stale.close()  # the file stays, nobody listens: what a killed agent leaves
    assert Path(address).exists()
    lock = InstanceLock(address)
    assert lock.acquire()
    lock.release()
