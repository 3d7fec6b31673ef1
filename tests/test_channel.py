"""The agent's channel on Linux, against real processes: a program squatting the agent's socket never gets
`phitray status`, `phitray stop` or `phitray run` to run its code, and each says which program it is;
a socket folder another user owns or may open is refused; the agent reads its clients as text.
The Windows pipe's rules (its name, its DACL) are checked here as plain functions; the pipe itself in
tests/windows/test_win_system.py."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.desktop.instance import InstanceLock, instance_address, send_to_running
from phitray.desktop.windows_pipe_rules import mutex_name, owner_only_sddl, pipe_name
from phitray.errors import DesktopError
from phitray.paths import Paths

SQUATTER = Path(__file__).resolve().parent / "helpers" / "squatter.py"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Unix socket's rules")


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


def cli_env(paths: Paths, runtime: Path) -> dict[str, str]:
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PHITRAY_CONFIG_DIR": str(paths.config_dir),
            "PHITRAY_DATA_DIR": str(paths.data_dir), "PHITRAY_CACHE_DIR": str(paths.cache_dir),
            "PHITRAY_LOG_DIR": str(paths.log_dir), "DISPLAY": ""}


def phitray(command: str, paths: Paths, runtime: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phitray", command], env=cli_env(paths, runtime),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


class Squatter:
    """The squatting program, a process of its own (tests/helpers/squatter.py)."""

    def __init__(self, address: str, answer: str, marker: Path, *extra: str) -> None:
        self.process = subprocess.Popen([sys.executable, str(SQUATTER), address, answer, str(marker), *extra],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready", \
            self.process.communicate(timeout=5)

    def stop(self) -> None:
        self.process.kill()
        self.process.communicate()


@pytest.fixture
def squat(paths: Paths, runtime: Path, tmp_path: Path) -> Iterator[tuple[str, Path, list[Squatter]]]:
    """The agent's address, the marker a squatter's code would create, and the squatters started."""
    started: list[Squatter] = []
    yield instance_address(paths), tmp_path / "squatter-code-ran", started
    for squatter in started:
        squatter.stop()


def test_the_pickle_a_squatter_answers_would_run_its_code_if_unpickled(tmp_path: Path) -> None:
    # What the launches below are given: live code, as the unpickling channel once ran it.
    sys.path.insert(0, str(SQUATTER.parent))
    try:
        from squatter import payload
    finally:
        sys.path.remove(str(SQUATTER.parent))
    marker = tmp_path / "ran"
    pickle.loads(payload("pickle", str(marker)))
    assert marker.exists()


@pytest.mark.parametrize("answer, problem", [
    ("pickle", "sent something other than Phi Tray's messages"),
    ("garbage", "sent something other than Phi Tray's messages"),
    ("huge", "sent more than 64 KiB without ending its message"),
    ("silent", "did not answer within 3 seconds"),
])
def test_status_and_stop_never_run_a_squatters_code_and_name_it(
    squat: tuple[str, Path, list[Squatter]], paths: Paths, runtime: Path, answer: str, problem: str
) -> None:
    address, marker, started = squat
    squatter = Squatter(address, answer, marker)
    started.append(squatter)
    for command in ("status", "stop"):
        result = phitray(command, paths, runtime)
        assert result.returncode == 1, result
        sentence = result.stderr.strip()
        assert sentence.count("\n") == 0 and "Traceback" not in sentence, sentence
        assert f"process {squatter.process.pid}" in sentence and problem in sentence, sentence
        assert "end that program" in sentence and address in sentence
    assert not marker.exists()
    assert squatter.process.poll() is None


@pytest.mark.parametrize("hold_lock", [False, True])
def test_run_facing_a_squatter_says_which_program_holds_the_address_and_runs_nothing_of_it(
    squat: tuple[str, Path, list[Squatter]], paths: Paths, runtime: Path, hold_lock: bool
) -> None:
    address, marker, started = squat
    squatter = Squatter(address, "pickle", marker, *(["--hold-lock"] if hold_lock else []))
    started.append(squatter)
    result = phitray("run", paths, runtime)
    assert result.returncode == 1, result
    assert f"process {squatter.process.pid}" in result.stderr and "start Phi Tray again" in result.stderr, result
    assert not marker.exists()
    assert "phitray run did not start" in paths.log_file.read_text(encoding="utf-8")  # for a start with no console


@pytest.mark.skipif(os.geteuid() != 0, reason="another user's listener needs root to make")
def test_a_listener_of_another_user_is_sent_nothing(
    squat: tuple[str, Path, list[Squatter]], paths: Paths, runtime: Path
) -> None:
    address, marker, started = squat
    squatter = Squatter(address, "pickle", marker, "--as-uid", "65534")  # binds as root, listens as nobody
    started.append(squatter)
    with pytest.raises(DesktopError, match=rf"another user \(python[\d.]*, process {squatter.process.pid}\)"):
        send_to_running(address, "status")
    assert not marker.exists()


def test_a_socket_folder_open_to_others_is_refused(paths: Paths, runtime: Path) -> None:
    runtime.chmod(0o755)
    with pytest.raises(DesktopError, match=r"is open to other users \(mode 0755"):
        instance_address(paths)
    result = phitray("status", paths, runtime)
    assert result.returncode == 1 and "open to other users" in result.stderr, result
    runtime.chmod(0o700)
    address = instance_address(paths)
    runtime.chmod(0o770)  # opened up after the address was made: checked again on use
    with pytest.raises(DesktopError, match="open to other users"):
        send_to_running(address, "status")
    with pytest.raises(DesktopError, match="open to other users"):
        InstanceLock(address).acquire()


@pytest.mark.skipif(os.geteuid() != 0, reason="a folder of another user needs root to make")
def test_a_socket_folder_of_another_user_is_refused(paths: Paths, runtime: Path) -> None:
    os.chown(runtime, 65534, 65534)
    with pytest.raises(DesktopError, match=r"belongs to another user \(uid 65534\)"):
        instance_address(paths)


def send_until_closed(client: socket.socket, request: bytes) -> None:
    """A sending thread: the agent may close the connection before it has read everything."""
    try:
        client.sendall(request)
    except OSError:
        pass


def test_the_agent_reads_a_clients_pickle_or_flood_as_text_and_goes_on_answering(
    paths: Paths, runtime: Path, tmp_path: Path
) -> None:
    address = instance_address(paths)
    lock = InstanceLock(address)
    assert lock.acquire()
    assert send_to_running(address, "status") == "starting"  # it answers from the moment it holds the lock
    handled: list[str] = []

    def handle(message: str) -> str:
        handled.append(message)
        return f"got {message}"

    lock.serve(handle)
    marker = tmp_path / "client-code-ran"
    try:
        for request in (pickle.dumps(type("Evil", (), {"__reduce__": lambda self: (open, (str(marker), "w"))})()),
                        b"B" * 1_000_000):
            client = socket.socket(socket.AF_UNIX)
            client.connect(address)
            threading.Thread(target=send_until_closed, args=(client, request), daemon=True).start()
            client.settimeout(10)
            try:
                answer = client.recv(100)
            except ConnectionResetError:  # closed with the flood unread
                answer = b""
            assert answer == b""  # no answer to either
            client.close()
        assert send_to_running(address, "status") == "got status"
        assert handled == ["status"] and not marker.exists()
    finally:
        lock.release()


def test_the_windows_pipe_admits_the_persons_sid_alone() -> None:
    sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
    assert owner_only_sddl(sid) == f"O:{sid}D:P(A;;GA;;;{sid})"
    # Only a SID: nothing that could carry SDDL of its own (another entry, another user's SID in it).
    for wrong in ("", "WD", "S-1-1-0)(A;;GA;;;WD", f"{sid}(A;;GA;;;S-1-5-21-1-2-3-1001)", "S-1-5", "s-1-x-1"):
        with pytest.raises(ValueError, match="not a SID"):
            owner_only_sddl(wrong)
    name = pipe_name(sid, 2, "0badc0de")
    assert name == rf"\\.\pipe\phitray-{sid}-2-0badc0de" and len(name) < 256
    assert mutex_name(name) == rf"Local\phitray-{sid}-2-0badc0de"
    assert pipe_name("S-1-5-21-1-2-3-1001", 2, "0badc0de") != name  # another user: another name
