"""The model host's failure paths, on real processes: crashes while loading, exits mid-answer, closing
under a running request. Each once ended in a hang or a give-up."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from phitray.actions.library import ActionSet, load_actions
from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.errors import HostGone
from phitray.host.client import HostEvent, ModelHost
from phitray.paths import Paths

from helpers.scripted import ScriptedDesktop
from test_engine import LONG

TINY = "tiny-phi3"
STORY = Request("Write a long story about a lighthouse.", max_new_tokens=400)


def options(paths: Paths, chain: tuple[str, ...] = ("openvino-cpu",), model: str = TINY) -> ChainOptions:
    return ChainOptions(chain, model, paths.compile_cache_dir, allow_pull=False, fallback_model=None)


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
