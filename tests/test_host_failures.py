"""The model host's failure paths, on real processes: crashes while loading, exits mid-answer, closing
under a running request, a cancel the backend ignores, a load that never ends, a lost device. Each once
ended in a hang or a give-up. The misbehaving backend is the real one inside the real host, wrapped by
helpers/faults/sitecustomize.py (armed through the environment the host inherits)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.backends.base import device_lost
from phitray.errors import Cancelled, DeviceLost, HostCrashed, HostGone, NoBackendLoaded
from phitray.host import generation
from phitray.host.client import HostEvent, ModelHost
from phitray.paths import Paths

from helpers.scripted import ScriptedDesktop
from test_engine import LONG

TINY = "tiny-phi3"
STORY = Request("Write a long story about a lighthouse.", max_new_tokens=400)
FAULTS = Path(__file__).resolve().parent / "helpers" / "faults"
# What the libraries say when the device goes away, word for word (backends/base.py names the sources).
NPU_LOST = ("Exception from src\\inference\\src\\cpp\\infer_request.cpp:245:\nException from src\\plugins\\intel_npu"
            "\\src\\utils\\src\\zero\\zero_wrappers.cpp:182:\nL0 zeCommandQueueExecuteCommandLists result: "
            "ZE_RESULT_ERROR_DEVICE_LOST, code 0x70000001 - device hung, reset, was removed, or driver update occurred")
DIRECTML_LOST = ("D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\dml\\DmlExecutionProvider\\src\\"
                 "DmlCommittedResourceAllocator.cpp(22)\\onnxruntime.dll!00007FFB881D2D01: (caller: 00007FFB881B4E70) "
                 "Exception(7) tid(cf0) 887A0005 The GPU device instance has been suspended. Use "
                 "GetDeviceRemovedReason to determine the appropriate action.")
DIRECTML_HUNG = ("D:\\a\\_work\\1\\s\\onnxruntime\\core\\providers\\dml\\DmlExecutionProvider\\src\\"
                 "DmlGraphFusionHelper.cpp(1078)\\onnxruntime.dll!00007FFABA30B0B1: (caller: 00007FFABA30B740) "
                 "Exception(3) tid(5a68) 887A0006 The GPU will not respond to more commands, most likely because of an "
                 "invalid command passed by the calling application.")
GPU_LOST = "Exception from src/inference/src/cpp/infer_request.cpp:223:\n[GPU] clFinish, error code: -5"


def options(paths: Paths, chain: tuple[str, ...] = ("openvino-cpu",), model: str = TINY,
            load_seconds: tuple[tuple[str, float], ...] = ()) -> ChainOptions:
    return ChainOptions(chain, model, paths.compile_cache_dir, allow_pull=False, fallback_model=None,
                        load_seconds=load_seconds)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Arm helpers/faults in the model hosts this test starts: `faults("hang-load", error=...)`."""
    def arm(which: str = "", error: str = NPU_LOST, backend: str = "openvino-cpu") -> None:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH")) if p))
        monkeypatch.setenv("PHITRAY_FAULTS", which)
        monkeypatch.setenv("PHITRAY_FAULT_BACKEND", backend)
        monkeypatch.setenv("PHITRAY_FAULT_ERROR", error)
    return arm


def ends_within(seconds: float, call):  # type: ignore[no-untyped-def]
    """`call()` on a thread of its own: its value, or its error raised here; fails if it still waits after
    `seconds` (a deadline that broke must fail the test, not hang it)."""
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:
            outcome.append((False, error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still waiting after {seconds} s"
    ok, value = outcome[0]
    if not ok:
        raise value  # type: ignore[misc]
    return value


class Timed(list):  # type: ignore[type-arg]
    """An event sink keeping (monotonic time, kind, text); called on the supervisor thread."""

    def __call__(self, event: HostEvent) -> None:
        self.append((time.monotonic(), event.kind, event.text))

    def texts(self, kind: str) -> list[str]:
        return [text for _, k, text in self if k == kind]


class KillWhileLoading:
    """An event sink that SIGKILLs the host as soon as it names `backend` as the one it loads.

    Called on the supervisor thread, as every host event is; the kill lands
    while the host probes or loads, which is where a driver fault would.
    """

    def __init__(self, backend: str, times: int) -> None:
        self.backend, self.left = backend, times
        self.host: ModelHost | None = None
        self.events: list[HostEvent] = []
        self.kills = 0

    def __call__(self, event: HostEvent) -> None:
        self.events.append(event)
        if event.kind == "trying" and self.backend in event.text and self.left > 0 and self.host and self.host.pid:
            self.left -= 1
            self.kills += 1
            os.kill(self.host.pid, signal.SIGKILL)


def test_a_host_killed_once_while_loading_restarts_and_gets_ready(shared_paths: Paths) -> None:
    sink = KillWhileLoading("openvino-cpu", times=1)
    host = ModelHost(options(shared_paths), shared_paths, sink)
    sink.host = host
    with host:
        host.launch()
        info = host.wait_ready(timeout=60)
        assert info.backend_id == "openvino-cpu" and sink.kills == 1
        assert host.generate(Request("Hi", max_new_tokens=8)).text()
    assert [e.kind for e in sink.events].count("crashed") == 1


def test_a_backend_that_crashes_every_load_is_passed_over_with_the_reason(shared_paths: Paths) -> None:
    sink = KillWhileLoading("openvino-cpu", times=100)
    host = ModelHost(options(shared_paths, ("openvino-cpu", "onnx-cpu")), shared_paths, sink, max_restarts=2)
    sink.host = host
    with host:
        host.launch()
        info = host.wait_ready(timeout=120)
        assert info.backend_id == "onnx-cpu"
        assert sink.kills == 2
        assert host.generate(Request("Hi", max_new_tokens=8)).text()
        decisions = {d.backend_id: d for d in host.decisions}
        assert decisions["openvino-cpu"].outcome == "skipped"
        assert "crashed 2 times in a row while loading it" in decisions["openvino-cpu"].reason
        assert host.skipped == (("openvino-cpu", decisions["openvino-cpu"].reason),)
    fallback = [e.text for e in sink.events if e.kind == "fallback"]
    assert fallback == ["openvino-cpu keeps crashing while loading the model; trying onnx-cpu"]


def test_closing_a_host_fails_the_request_it_streams_at_once(shared_paths: Paths) -> None:
    host = ModelHost(options(shared_paths), shared_paths)
    host.start(timeout=60)
    generation = host.generate(STORY)
    outcome: list[BaseException | str] = []
    first_chunk = threading.Event()

    def consume() -> None:
        """The reader, on its own thread: it must not wait forever once the host is gone."""
        try:
            for _ in generation:
                first_chunk.set()
            outcome.append("finished")
        except BaseException as error:
            outcome.append(error)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    assert first_chunk.wait(30)
    host.close()
    reader.join(timeout=15)
    assert not reader.is_alive(), "the reader still waits on a closed host"
    assert outcome and (outcome[0] == "finished" or isinstance(outcome[0], HostGone)), outcome
    assert not host.alive


@pytest.mark.slow
def test_a_host_that_exits_mid_answer_ends_the_job_with_a_notice_and_the_next_job_works(
    shared_paths: Paths,
) -> None:
    with ModelHost(options(shared_paths, model="starter"), shared_paths) as host:
        host.start(timeout=60)
        actions = ActionSet({**load_actions(None).actions, LONG.id: LONG}, ())
        desktop = ScriptedDesktop(text="A lighthouse at dusk.", selection=(0, 21))
        events: list[JobEvent] = []
        exited: list[float] = []

        def on_event(event: JobEvent) -> None:
            """Jobs thread: after the third streamed piece the host exits (SIGTERM), before Finished."""
            events.append(event)
            if event.kind == "text" and not exited and len([e for e in events if e.kind == "text"]) == 3:
                exited.append(time.monotonic())
                os.kill(host.pid or 0, signal.SIGTERM)

        config = JobSettings(actions=actions, capture=CaptureOptions(), output_overrides={LONG.id: "popup"})
        engine = JobThread(desktop.desktop(), lambda: host, config, on_event)
        engine.run_job(ActionJob("hotkey", LONG.id))
        ended = time.monotonic()
        assert exited, "the answer ended before three pieces streamed"
        assert events[-1].kind == "failed" and "clipboard are as they were" in events[-1].message, events[-1]
        assert ended - exited[0] < 10
        assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)
        host.wait_ready(60)
        desktop = ScriptedDesktop(text="their going home.", selection=(0, 17))
        events.clear()
        engine = JobThread(desktop.desktop(), lambda: host, config, events.append)
        engine.run_job(ActionJob("hotkey", "proofread"))
        assert events[-1].kind == "delivered", events[-1]


def test_a_cancel_the_backend_ignores_ends_the_host_after_3_s_and_it_restarts(shared_paths: Paths, faults) -> None:
    faults()
    events = Timed()
    with ModelHost(options(shared_paths), shared_paths, events) as host:
        host.start(timeout=60)
        hung = host.pid
        streamed = host.generate(Request("HANG while you answer", max_new_tokens=50))
        pieces = iter(streamed)
        assert next(pieces) == "Once"
        asked = time.monotonic()
        threading.Thread(target=streamed.cancel).start()  # from another thread, as the cancel hotkey's
        with pytest.raises(Cancelled, match="did not stop within 3 s"):
            ends_within(10, lambda: next(pieces))
        ended = time.monotonic() - asked
        assert generation.CANCEL_SECONDS <= ended < generation.CANCEL_SECONDS + 1.5, ended
        host.wait_ready(timeout=60)
        assert host.pid != hung and not _alive(hung)
        assert host.generate(Request("Hi", max_new_tokens=8)).text()
    assert events.texts("crashed") == ["the model host stopped (it did not stop within 3 s of a cancel); restart 1"]


def test_a_backend_that_hangs_before_its_first_word_is_ended_by_the_cancel_too(shared_paths: Paths, faults) -> None:
    faults()
    with ModelHost(options(shared_paths), shared_paths) as host:
        host.start(timeout=60)
        streamed = host.generate(Request("HANG-BEFORE anything", max_new_tokens=50))
        threading.Timer(0.5, streamed.cancel).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            ends_within(10, streamed.text)
        assert time.monotonic() - started < 0.5 + generation.CANCEL_SECONDS + 1.5


def test_a_silent_host_is_ended_without_a_cancel(shared_paths: Paths, faults, monkeypatch: pytest.MonkeyPatch) -> None:
    faults()
    monkeypatch.setattr(generation, "SILENT_SECONDS", 2.0)
    with ModelHost(options(shared_paths), shared_paths) as host:
        host.start(timeout=60)
        hung = host.pid
        started = time.monotonic()
        with pytest.raises(HostCrashed, match="stopped answering for 2 s"):
            ends_within(10, host.generate(Request("HANG-BEFORE anything", max_new_tokens=50)).text)
        assert 2.0 <= time.monotonic() - started < 3.5
        host.wait_ready(timeout=60)
        assert host.pid != hung and host.generate(Request("Hi", max_new_tokens=8)).text()


def test_the_job_of_a_hung_cancel_ends_with_its_message_within_3_s(shared_paths: Paths, faults) -> None:
    faults()
    with ModelHost(options(shared_paths), shared_paths) as host:
        host.start(timeout=60)
        text = "HANG on this sentence."
        desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
        events: list[JobEvent] = []
        started = threading.Event()

        def on_event(event: JobEvent) -> None:
            """Jobs thread."""
            events.append(event)
            if event.kind == "started":
                started.set()

        fix = read_action('id = "fix"\ntitle = "Fix"\noutput = "popup"\nprompt = "Fix:\\n$text"\nmax_new_tokens = 24\n', "t")
        config = JobSettings(actions=ActionSet({"fix": fix}, ()), capture=CaptureOptions())
        engine = JobThread(desktop.desktop(), lambda: host, config, on_event)
        engine.start()
        try:
            assert engine.submit(ActionJob("hotkey", "fix"))
            assert started.wait(30)
            time.sleep(0.5)  # the model is on it (and hung)
            asked = time.monotonic()
            assert engine.cancel()
            deadline = asked + generation.CANCEL_SECONDS + 5
            while not any(e.kind == "idle" for e in events) and time.monotonic() < deadline:
                time.sleep(0.02)
            ended = time.monotonic() - asked
        finally:
            engine.stop()
        failed = [e for e in events if e.kind == "failed"]
        assert failed and failed[0].message == "Cancelled. Your text and clipboard are as they were.", events
        assert ended < generation.CANCEL_SECONDS + 1.5, ended
        assert engine.last_record is not None and engine.last_record.outcome == "Cancelled"
        assert desktop.text == text and desktop.clipboard == ("the person's clipboard",)
        host.wait_ready(60)
        assert host.generate(Request("Hi", max_new_tokens=8)).text()


def test_a_load_past_its_deadline_passes_the_backend_over_with_the_reason(shared_paths: Paths, faults) -> None:
    faults("hang-load")
    events = Timed()
    chain = ("openvino-cpu", "onnx-cpu")
    with ModelHost(options(shared_paths, chain, load_seconds=(("openvino-cpu", 3.0),)), shared_paths, events) as host:
        host.launch()
        assert host.wait_ready(timeout=60).backend_id == "onnx-cpu"
        skipped = {d.backend_id: d for d in host.decisions}["openvino-cpu"]
        assert (skipped.outcome, skipped.reason) == ("skipped", "it did not load within 3 s")
        assert host.skipped == (("openvino-cpu", "it did not load within 3 s"),)
    assert events.texts("fallback") == ["openvino-cpu did not load within 3 s; trying onnx-cpu"]
    assert events.texts("crashed") == []  # passed over at once, not restarted on it
    tried = next(at for at, kind, text in events if kind == "trying")
    fell_back = next(at for at, kind, _ in events if kind == "fallback")
    assert 3.0 <= fell_back - tried < 4.5


def test_a_load_past_its_deadline_with_no_backend_left_is_a_load_failure(shared_paths: Paths, faults) -> None:
    faults("hang-load")
    with ModelHost(options(shared_paths, load_seconds=(("openvino-cpu", 2.0),)), shared_paths) as host:
        with pytest.raises(NoBackendLoaded, match="openvino-cpu did not load within 2 s, and no backend is left"):
            host.start(timeout=30)


def test_a_lost_device_restarts_the_host_and_a_second_loss_in_a_row_passes_the_backend_over(
        shared_paths: Paths, faults) -> None:
    faults()
    events = Timed()
    with ModelHost(options(shared_paths, ("openvino-cpu", "onnx-cpu")), shared_paths, events) as host:
        host.start(timeout=60)
        for round_ in range(2):  # lost after answers: restarted on the same backend, each time
            host.generate(Request("Hi", max_new_tokens=4)).text()
            first = host.pid
            with pytest.raises(DeviceLost, match="ZE_RESULT_ERROR_DEVICE_LOST, code 0x70000001") as lost:
                host.generate(Request("LOSE it", max_new_tokens=20)).text()
            assert "driver reset, update or resume" in str(lost.value)
            assert host.wait_ready(timeout=60).backend_id == "openvino-cpu" and host.pid != first
        with pytest.raises(DeviceLost):  # lost again before the restarted host answered anything
            host.generate(Request("LOSE it", max_new_tokens=20)).text()
        assert host.wait_ready(timeout=60).backend_id == "onnx-cpu"
        assert host.skipped == (("openvino-cpu", "it lost its device 2 times in a row"),)
        assert host.generate(Request("Hi", max_new_tokens=4)).text()
    assert len(events.texts("crashed")) == 2 and all("lost its CPU" in text for text in events.texts("crashed"))
    assert events.texts("fallback") == ["openvino-cpu keeps losing its device; trying onnx-cpu"]


@pytest.mark.parametrize("error", [DIRECTML_LOST, DIRECTML_HUNG, GPU_LOST])
def test_the_windows_and_gpu_texts_of_a_lost_device_restart_the_host(shared_paths: Paths, faults, error: str) -> None:
    faults(error=error)
    with ModelHost(options(shared_paths), shared_paths) as host:
        host.start(timeout=60)
        first = host.pid
        with pytest.raises(DeviceLost):
            host.generate(Request("LOSE it", max_new_tokens=20)).text()
        assert host.wait_ready(timeout=60) and host.pid != first


@pytest.mark.parametrize("text, said", [
    (NPU_LOST, "ZE_RESULT_ERROR_DEVICE_LOST, code 0x70000001 - device hung, reset, was removed, or driver update "
               "occurred"),
    (DIRECTML_LOST, "887A0005 The GPU device instance has been suspended. Use GetDeviceRemovedReason to determine "
                    "the appropriate action."),
    (DIRECTML_HUNG, "887A0006 The GPU will not respond to more commands, most likely because of an invalid command "
                    "passed by the calling application."),
    ("HRESULT: [0x887A0005], Module: [Vortice.DXGI], ApiCode: [DXGI_ERROR_DEVICE_REMOVED/DeviceRemoved]",
     "0x887A0005], Module: [Vortice.DXGI], ApiCode: [DXGI_ERROR_DEVICE_REMOVED/DeviceRemoved]"),
    ("zeEventHostSynchronize(ev, timeout) command failed with code 1879048193",
     "failed with code 1879048193"),
    (GPU_LOST, "[GPU] clFinish, error code: -5"),
    ("[GPU] CL_OUT_OF_RESOURCES exception.\n\tDue to a driver bug, any subsequent OpenCL API call may cause the "
     "application to hang", None),  # a real shortage, the device still there
    ("The prompt is 5000 tokens but phi-3 on openvino-npu takes at most 3072", None),
    ("Exception(1) tid(ae54) 80070057 The parameter is incorrect.", None),
    ("input 887A00051 bytes", None),
])
def test_device_lost_is_read_from_the_libraries_own_words(text: str, said: str | None) -> None:
    assert device_lost(RuntimeError(text)) == said


def _alive(pid: int | None) -> bool:
    try:
        os.kill(pid or 0, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
