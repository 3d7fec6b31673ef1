"""Start on login in the registry, the single-instance pipe and its security, the engine on the Windows wheels."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import sys
import threading
import winreg
from ctypes import wintypes
from multiprocessing.connection import Listener
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.desktop.autostart import RUN_KEY, STARTUP_APPROVED_KEY, STARTUP_APPROVED_ON, check
from phitray.desktop.windows_autostart import WindowsRunKey
from phitray.backends.chain import ChainOptions, survey
from phitray.backends.registry import DEFAULT_CHAIN, OPT_IN
from phitray.backends.store import ModelStore
from phitray.desktop.instance import InstanceLock, instance_address, send_to_running
from phitray.desktop.windows_instance import (
    ERROR_ALREADY_EXISTS, INVALID_HANDLE_VALUE, OPEN_EXISTING, kernel32, own_sid,
)
from phitray.desktop.windows_pipe_rules import mutex_name
from phitray.errors import DesktopError
from phitray.paths import Paths
from phitray.host.client import ModelHost

from helpers import slow_agent
from helpers.wine import wait_until

READ_CONTROL = 0x00020000  # enough to read an object's security descriptor

def test_the_run_value_is_written_read_back_repaired_and_removed() -> None:
    entry = WindowsRunKey([sys.executable, "-m", "phitray", "run"], value_name="Phi Tray test")
    assert not entry.status().enabled
    status = entry.enable()
    assert status.enabled and status.command == status.expected and "-m phitray run" in status.command
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, "Phi Tray test", 0, winreg.REG_SZ, r'"C:\old\python.exe" -m phitray run')
    assert entry.status().points_elsewhere
    assert "old" in (check(entry) or "")
    assert entry.status().command == entry.expected
    assert not entry.disable().enabled


def registry_value(key_path: str, name: str) -> object:
    """The value under HKCU, or None when it (or its key) does not exist."""
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path) as key:
            return winreg.QueryValueEx(key, name)[0]
    except FileNotFoundError:
        return None


def test_a_run_value_switched_off_in_windows_startup_settings_is_off_until_enabled_again() -> None:
    name = "Phi Tray approval test"
    entry = WindowsRunKey([sys.executable, "-m", "phitray", "run"], value_name=name)
    assert entry.enable().enabled
    assert registry_value(STARTUP_APPROVED_KEY, name) == STARTUP_APPROVED_ON
    # What Task Manager's "Disable" writes: 0x03, three zero bytes, the FILETIME of the change.
    switched_off = bytes([0x03, 0, 0, 0]) + bytes.fromhex("5c1a3b9e8f2cd901")
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, STARTUP_APPROVED_KEY) as key:
        winreg.SetValueEx(key, name, 0, winreg.REG_BINARY, switched_off)
    status = entry.status()
    assert not status.enabled and "Startup apps settings" in status.describe()
    assert check(entry) is None  # the person's switch is not flipped back on a start
    assert registry_value(STARTUP_APPROVED_KEY, name) == switched_off
    assert registry_value(RUN_KEY, name) == entry.expected
    status = entry.enable()
    assert status.enabled and status.command == entry.expected
    assert registry_value(STARTUP_APPROVED_KEY, name) == STARTUP_APPROVED_ON
    assert not entry.disable().enabled
    assert registry_value(RUN_KEY, name) is None and registry_value(STARTUP_APPROVED_KEY, name) is None


def test_a_second_instance_is_refused_over_the_named_pipe(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    address = instance_address(paths)
    assert address.startswith(f"\\\\.\\pipe\\phitray-{own_sid()}-")
    first = InstanceLock(address)
    assert first.acquire()
    assert send_to_running(address, "show") == "starting"  # it answers from the moment it holds the lock
    first.serve(lambda message: f"got {message}")
    try:
        assert not InstanceLock(address).acquire()
        assert send_to_running(address, "show") == "got show"
    finally:
        first.release()
    assert send_to_running(address, "show") is None


def security_descriptor(handle: int) -> str:
    """The owner and DACL of a kernel object, in SDDL."""
    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    advapi32.GetSecurityInfo.argtypes = [wintypes.HANDLE, ctypes.c_int, wintypes.DWORD, wintypes.LPVOID,
                                         wintypes.LPVOID, wintypes.LPVOID, wintypes.LPVOID, ctypes.POINTER(wintypes.LPVOID)]
    advapi32.GetSecurityInfo.restype = wintypes.DWORD
    advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW.argtypes = [
        wintypes.LPVOID, wintypes.DWORD, wintypes.DWORD, ctypes.POINTER(wintypes.LPWSTR), wintypes.LPVOID]
    descriptor, text = wintypes.LPVOID(), wintypes.LPWSTR()
    owner_and_dacl = 0x1 | 0x4  # OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION
    assert advapi32.GetSecurityInfo(handle, 6, owner_and_dacl, None, None, None, None, ctypes.byref(descriptor)) == 0
    assert advapi32.ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, 1, owner_and_dacl,
                                                                          ctypes.byref(text), None)
    return str(text.value)


def test_the_pipe_and_its_lock_admit_the_persons_sid_alone(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    address = instance_address(paths)
    lock = InstanceLock(address)
    assert lock.acquire()
    one_entry_for_the_person = re.compile(rf"O:{own_sid()}D:P\(A;;[A-Z0-9x]+;;;{own_sid()}\)", re.IGNORECASE)
    try:
        assert kernel32.WaitNamedPipeW(address, 5000)
        pipe = kernel32.CreateFileW(address, READ_CONTROL, 0, None, OPEN_EXISTING, 0, None)
        assert pipe not in (None, INVALID_HANDLE_VALUE), ctypes.get_last_error()
        try:
            assert one_entry_for_the_person.fullmatch(security_descriptor(pipe))
        finally:
            kernel32.CloseHandle(pipe)
        mutex = kernel32.CreateMutexW(None, False, mutex_name(address))
        assert mutex and ctypes.get_last_error() == ERROR_ALREADY_EXISTS
        try:
            assert one_entry_for_the_person.fullmatch(security_descriptor(mutex))
        finally:
            kernel32.CloseHandle(mutex)
    finally:
        lock.release()


def test_a_pipe_squatter_that_answers_a_pickle_is_named_and_never_unpickled(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    address = instance_address(paths)
    marker = tmp_path / "squatter-code-ran"

    class CreatesMarker:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (open, (str(marker), "w"))

    # multiprocessing's pipe, with no security descriptor of its own, answering as the old channel read.
    squatter = Listener(address, family="AF_PIPE")

    def answer() -> None:
        """The squatter's thread."""
        while True:
            try:
                connection = squatter.accept()
            except OSError:
                return
            connection.send(CreatesMarker())

    threading.Thread(target=answer, daemon=True).start()
    try:
        expected = rf"Another program \(python(w)?\.exe, process {os.getpid()}\) holds Phi Tray's address"
        with pytest.raises(DesktopError, match=expected):
            send_to_running(address, "status")
        with pytest.raises(DesktopError, match=expected):
            InstanceLock(address).acquire()
        assert not marker.exists()
    finally:
        squatter.close()


def paths_for(data: Path, tmp_path: Path) -> Paths:
    return Paths(tmp_path / "config", data, tmp_path / "cache", tmp_path / "log")


def test_the_chain_reports_npu_and_directml_absent_with_their_reasons(test_data: Path, tmp_path: Path) -> None:
    paths = paths_for(test_data, tmp_path)
    decisions = {d.backend_id: d for d in survey(ChainOptions(DEFAULT_CHAIN, "starter", paths.compile_cache_dir, allow_pull=False),
                                                  ModelStore(paths.models_dir), extra=OPT_IN)}
    for backend_id in ("openvino-npu", "directml", "npu-legacy"):
        print(backend_id, decisions[backend_id].outcome, decisions[backend_id].reason)
        assert decisions[backend_id].outcome != "chosen" and decisions[backend_id].reason
    assert decisions["openvino-cpu"].outcome == "chosen"


def test_openvino_genai_runs_the_starter_model_on_the_cpu(test_data: Path, tmp_path: Path) -> None:
    paths = paths_for(test_data, tmp_path)
    options = ChainOptions(("openvino-cpu",), "starter", paths.compile_cache_dir, allow_pull=False)
    with ModelHost(options, paths) as host:
        info = host.start(timeout=300)
        assert (info.backend_id, info.device) == ("openvino-cpu", "CPU")
        answer = run_action(host, load_actions(None).get("proofread"), "i has went to the store.").text
        print("openvino-cpu proofread:", answer)
        assert answer.strip()


def test_a_standby_loads_the_starter_in_advance_and_a_killed_host_is_replaced_by_it(test_data: Path,
                                                                                  tmp_path: Path) -> None:
    paths = paths_for(test_data, tmp_path)
    options = ChainOptions(("openvino-cpu",), "starter", paths.compile_cache_dir, allow_pull=False)
    with ModelHost(options, paths, standby=True) as host:
        assert host.standby is not None
        host.standby.preload_after = 0.5
        host.start(timeout=300)
        wait_until(host.standby.preloaded, 120, "the standby to load the model in advance")
        standby = host.standby.pid
        os.kill(host.pid or 0, signal.SIGTERM)  # TerminateProcess: as a crash ends it
        wait_until(lambda: host.pid == standby and host.info is not None, 60, "the standby to take over")
        assert run_action(host, load_actions(None).get("proofread"), "i has went to the store.").text.strip()


# onnxruntime-genai itself (the onnx-cpu backend) is not run here: under Wine 8.0 its og.Model() hangs
# after "Failed to create DXGI factory." in nearly every attempt (it loaded once in a fresh CI run).
# What Wine can show is the onnxruntime wheel running the same tiny Phi-3 graph the backend loads.
def test_the_memory_free_is_read_for_a_standby_to_hold_a_model_copy_in() -> None:
    from phitray.desktop.system import memory_available

    free = memory_available()  # GlobalMemoryStatusEx's ullAvailPhys
    assert free is not None and 64 << 20 < free < 1 << 50


def test_onnxruntime_runs_the_tiny_phi3_graph_on_the_cpu(test_data: Path) -> None:
    import numpy
    import onnxruntime

    model = ModelStore(test_data / "models").resolve("tiny-phi3", "onnx-cpu").path
    session = onnxruntime.InferenceSession(str(model / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": numpy.array([[1, 2, 3]], dtype=numpy.int64),
             "attention_mask": numpy.ones((1, 3), dtype=numpy.int64)}
    decoder = json.loads((model / "genai_config.json").read_text())["model"]["decoder"]
    for spec in session.get_inputs():
        if spec.name.startswith("past_key_values"):  # [batch, kv heads, past length, head size]: an empty past
            shape = (1, decoder["num_key_value_heads"], 0, decoder["head_size"])
            feeds[spec.name] = numpy.zeros(shape, dtype=numpy.float32)
    logits = session.run(["logits"], feeds)[0]
    assert logits.shape[:2] == (1, 3) and numpy.isfinite(logits).all()


@pytest.mark.parametrize("shutdown", [2.5, -1])
def test_stop_waits_for_the_agents_process_through_the_pipes_server_pid(tmp_path: Path, shutdown: float) -> None:
    """What the uninstaller relies on: `phitray stop` returns once the agent's process has ended (False when it
    would not end in time), the pid coming from GetNamedPipeServerProcessId."""
    import subprocess
    import time

    from phitray.desktop.instance import stop_running

    config = tmp_path / "config"
    agent = subprocess.Popen(slow_agent.command(config, shutdown), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert agent.stdout is not None and agent.stdout.readline().strip() == "ready"
        started = time.monotonic()
        stopped = stop_running(instance_address(Paths(config, config, config, config)), 1.5 if shutdown < 0 else 20)
        took = time.monotonic() - started
        if shutdown < 0:
            assert stopped is False and agent.poll() is None and took < 5
        else:
            assert stopped is True and took >= shutdown and agent.wait(timeout=1) == 0
    finally:
        agent.kill()
        agent.wait()


PERSON = "Håkan 張"  # a profile path's person's name that is not ASCII (onnxruntime-genai#1262, openvino#25715)


# The onnx-cpu backend takes the same path (backends/native_path.py) but cannot run here: og.Model() hangs
# under Wine 8.0 (above). Its rule is tested on Linux (tests/test_native_path.py).
@pytest.mark.parametrize("backend, model", [("openvino-cpu", "starter")])
def test_a_model_in_a_folder_with_a_non_ascii_name_loads_and_answers(
    test_data: Path, tmp_path: Path, backend: str, model: str
) -> None:
    """"No Unicode translation.": OpenVINO GenAI turns the path into the ANSI code page, which cannot spell 張."""
    import shutil

    data = tmp_path / PERSON / "data"
    shutil.copytree(test_data / "models" / model, data / "models" / model)
    paths = Paths(tmp_path / PERSON / "config", data, tmp_path / PERSON / "cache", tmp_path / PERSON / "log")
    with ModelHost(ChainOptions((backend,), model, paths.compile_cache_dir, allow_pull=False), paths) as host:
        info = host.start(timeout=240)
        assert info.backend_id == backend, info
        answer = run_action(host, load_actions(None).get("proofread"), "i has went to the store.").text
        print(backend, "in", data, "answered", repr(answer))
        assert answer.strip()
