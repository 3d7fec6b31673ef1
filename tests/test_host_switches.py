"""Backend and model switches while a job streams, on real model hosts: the controller never leaves two
hosts alive, the running job ends with a message, and the agent answers afterwards."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time

from phitray.actions.library import ActionSet, load_actions
from phitray.backends.chain import ChainOptions
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.host.controller import HostChange, HostController
from phitray.host.standby import NAME as STANDBY
from phitray.paths import Paths

from helpers.scripted import ScriptedDesktop
from test_engine import LONG


def host_processes() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "phitray-model-host"]


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_twenty_switches_while_a_job_streams_leave_one_host_and_a_working_agent(shared_paths: Paths) -> None:
    assert not host_processes(), "another test left a model host running"
    choices = [
        ChainOptions(("openvino-cpu",), "starter", shared_paths.compile_cache_dir, allow_pull=False),
        ChainOptions(("onnx-cpu",), "tiny-phi3", shared_paths.compile_cache_dir, allow_pull=False),
        ChainOptions(("openvino-cpu",), "tiny-phi3", shared_paths.compile_cache_dir, allow_pull=False),
    ]
    changes: list[HostChange] = []
    events: list[JobEvent] = []
    streaming = threading.Event()

    def on_event(event: JobEvent) -> None:
        """Jobs thread."""
        events.append(event)
        if event.kind == "text":
            streaming.set()

    actions = ActionSet({**load_actions(None).actions, LONG.id: LONG}, ())
    desktop = ScriptedDesktop(text="A lighthouse at dusk.", selection=(0, 21))
    engine: JobThread | None = None
    controller = HostController(shared_paths, changes.append, before_switch=lambda: engine and engine.cancel())
    config = JobSettings(actions=actions, capture=CaptureOptions(), output_overrides={LONG.id: "popup"})
    engine = JobThread(desktop.desktop(), controller.current, config, on_event)
    engine.start()
    try:
        controller.switch(choices[0])
        wait_for(lambda: any(c.event.kind == "ready" for c in changes), 60, "the first host")
        assert engine.submit(ActionJob("hotkey", LONG.id))
        assert streaming.wait(30)

        # Around the three choices, ending on the starter (the tiny Phi-3's 256-token context fits no action).
        clicks = [choices[(number + 1) % len(choices)] for number in range(19)] + [choices[0]]

        def tray_clicks() -> None:
            """The tray thread: twenty choices, some while the last one still loads."""
            rng = random.Random(7)
            for options in clicks:
                controller.switch(options)
                time.sleep(rng.uniform(0, 0.3))

        clicker = threading.Thread(target=tray_clicks, name="tray")
        started = time.monotonic()
        clicker.start()
        clicker.join(timeout=30)
        assert not clicker.is_alive(), "a switch waited"
        assert time.monotonic() - started < 15
        wait_for(lambda: not engine.busy, 30, "the streaming job to end")
        last = clicks[-1]
        wait_for(lambda: controller.current() is not None and controller.current().info is not None, 120,  # type: ignore[union-attr]
                 "the last host to be ready")
        current = controller.current()
        assert current is not None and current.info is not None
        assert (current.info.backend_id, current.info.model_id) == (last.chain[0], last.model_id)
        alive = host_processes()
        assert [p.pid for p in alive] == [current.pid], "more than one model host is alive"
        standbys = [p.pid for p in multiprocessing.active_children() if p.name == STANDBY]
        assert len(standbys) <= 1, "a switched-away host's standby is still alive"  # each host's ends with it
        assert controller.hosts_started <= 21
        # The job that streamed ended with a message and changed nothing of the person's.
        job_end = [e for e in events if e.kind in ("delivered", "failed", "notice")]
        assert job_end and job_end[0].kind == "failed", job_end
        assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)
        # Only the current host's events reached the listener after the last switch began.
        generations = [c.generation for c in changes]
        assert generations == sorted(generations)
        ready = [c for c in changes if c.event.kind == "ready"]
        assert ready[-1].generation == controller.generation and ready[-1].event.info == current.info
        # And the agent answers.
        events.clear()
        desktop.selection, desktop.held_polls = (0, 21), 0
        engine.run_job(ActionJob("hotkey", "proofread", output="popup"))
        assert events[-1].kind == "delivered", events[-1]
    finally:
        engine.stop()
        controller.close()
    assert not host_processes()
