"""The first run: the decisions (plain functions), the background download against the stand-in hub,
and the real agent on Xvfb starting on the starter, showing the download in its tray and switching."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.app import firstrun
from phitray.app.firstrun import BackgroundDownload, DownloadOutcome, Said, StartPlan
from phitray.app.view import AgentState, tray_view
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, PHI3_DRAFT_MODEL, STARTER_MODEL
from phitray.backends.chain import Decision
from phitray.backends.download_meter import DownloadStatus
from phitray.backends.store import InstalledModel, ModelStore
from phitray.paths import Paths
from phitray.settings import Settings

from helpers.agent import start_agent
from helpers.desktop import DesktopSession
from helpers.fake_hub import FakeHub, repo_of_folder

OV_SOURCE = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]
ONNX_SOURCE = CATALOG[DEFAULT_MODEL].sources["onnx-cpu"]


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
    notice, said = firstrun.outcome_notice(offline, firstrun.read_said(marker))
    assert notice.startswith("Cannot reach the model hub at X.") and "starter" in notice
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
    done = DownloadOutcome("installed", DEFAULT_MODEL, "openvino-cpu")
    assert firstrun.should_switch(done, STARTER_MODEL, DEFAULT_MODEL)
    assert not firstrun.should_switch(done, "tiny-phi3", DEFAULT_MODEL)  # picked from the tray meanwhile
    assert not firstrun.should_switch(done, STARTER_MODEL, "tiny-phi3")  # changed in the settings window
    assert not firstrun.should_switch(replace(done, kind="offline"), STARTER_MODEL, DEFAULT_MODEL)


def test_the_tray_status_and_tooltip_carry_the_download() -> None:
    state = AgentState(host="ready", host_status="openvino-cpu · CPU · starter",
                       download="downloading phi-3-mini-4k-instruct: 1.2 of 2.3 MB, 0.5 MB/s")
    assert tray_view(state).status == \
        "openvino-cpu · CPU · starter · downloading phi-3-mini-4k-instruct: 1.2 of 2.3 MB, 0.5 MB/s"
    assert tray_view(replace(state, download="")).status == "openvino-cpu · CPU · starter"


# --- the background download against the stand-in hub -----------------------------------------


class Watcher:
    """Collects a download's callbacks with the thread each came on."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, DownloadStatus]] = []
        self.outcomes: list[tuple[str, DownloadOutcome]] = []
        self.done = threading.Event()

    def progress(self, status: DownloadStatus) -> None:
        self.statuses.append((threading.current_thread().name, status))

    def finished(self, outcome: DownloadOutcome) -> None:
        self.outcomes.append((threading.current_thread().name, outcome))
        self.done.set()


def onnx_repo(tiny_phi3: Path, padding: int = 0) -> dict[str, dict[str, bytes]]:
    extra = {f"{ONNX_SOURCE.subfolder}/padding.bin": bytes(padding)} if padding else {}
    return {ONNX_SOURCE.repo_id: repo_of_folder(tiny_phi3 / "onnx-int4", ONNX_SOURCE.subfolder, extra)}


def test_a_background_download_reports_on_its_thread_and_ends_verified(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = Watcher()
    store = ModelStore(paths.models_dir)
    with FakeHub(onnx_repo(tiny_phi3, padding=3 * 1024 * 1024)) as hub:
        hub.bytes_per_second = 4 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        BackgroundDownload(store, DEFAULT_MODEL, "onnx-cpu", watcher.progress, watcher.finished).start()
        assert watcher.done.wait(60)
    [(thread, outcome)] = watcher.outcomes
    assert (thread, outcome.kind) == ("first-run-download", "installed")
    assert {name for name, _ in watcher.statuses} == {"first-run-download"}
    done = [status.done_bytes for _, status in watcher.statuses]
    assert done == sorted(done) and len(done) >= 2
    assert watcher.statuses[-1][1].fraction == 1.0
    assert store.find(DEFAULT_MODEL, "onnx-cpu") is not None


def test_a_background_download_cancelled_leaves_nothing(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = Watcher()
    store = ModelStore(paths.models_dir)
    with FakeHub(onnx_repo(tiny_phi3, padding=8 * 1024 * 1024)) as hub:
        hub.bytes_per_second = 2 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        download = BackgroundDownload(store, DEFAULT_MODEL, "onnx-cpu", watcher.progress, watcher.finished)
        download.start()
        deadline = time.monotonic() + 30
        while not any(status.done_bytes for _, status in watcher.statuses) and time.monotonic() < deadline:
            time.sleep(0.05)
        download.cancel(wait_seconds=10)  # as quitting does
        assert not download.thread.is_alive()
    assert [outcome.kind for _, outcome in watcher.outcomes] == ["cancelled"]
    assert store.installed() == []
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()


def test_a_background_download_without_a_hub_says_offline(paths: Paths) -> None:
    watcher = Watcher()
    BackgroundDownload(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", watcher.progress,
                       watcher.finished).start()
    assert watcher.done.wait(30)
    [(_, outcome)] = watcher.outcomes
    assert outcome.kind == "offline" and outcome.message.startswith("Cannot reach the model hub")


# --- the real agent on Xvfb ----------------------------------------------------------------------

FIRST_RUN_SETTINGS = """
[engine]
chain = ["openvino-cpu"]
"""


def fresh_paths(shared_paths: Paths, folder: Path) -> Paths:
    """Private locations whose store holds only the starter (linked from the shared store, read-only)."""
    paths = Paths(config_dir=folder / "config", data_dir=folder / "data", cache_dir=folder / "cache",
                  log_dir=folder / "log")
    paths.models_dir.mkdir(parents=True)
    (paths.models_dir / STARTER_MODEL).symlink_to(shared_paths.models_dir / STARTER_MODEL, target_is_directory=True)
    return paths


def tray_tooltip(session: DesktopSession) -> str:
    """The tray icon's text as a screen reader gets it: pystray's gtk backend sets it as the title of
    the icon's window (GtkStatusIcon's title), which is what this reads."""
    for window in session.run("xdotool", "search", "--name", "^Phi Tray", check=False).split():
        name = session.run("xdotool", "getwindowname", window, check=False).strip()
        if name.startswith("Phi Tray — "):
            return name
    return ""


def wait_tooltip(session: DesktopSession, pattern: str, timeout: float) -> list[str]:
    """Every tooltip seen until one matches `pattern`; fails with them if none does in time."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tooltip = tray_tooltip(session)
        if tooltip and (not seen or seen[-1] != tooltip):
            seen.append(tooltip)
        if re.search(pattern, tooltip):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"no tooltip matched {pattern!r}; seen: {seen}")


@pytest.mark.slow
def test_the_agent_starts_on_the_starter_shows_the_download_and_switches(
    session: DesktopSession, shared_paths: Paths, tiny_phi3: Path, tmp_path: Path
) -> None:
    paths = fresh_paths(shared_paths, tmp_path)
    padding = {"padding.bin": bytes(6 * 1024 * 1024)}  # a download long enough to watch (about 4 s)
    with FakeHub({OV_SOURCE.repo_id: repo_of_folder(tiny_phi3 / "openvino-int4", extra=padding)}) as hub:
        hub.bytes_per_second = 1_500_000
        agent = start_agent(session, paths, FIRST_RUN_SETTINGS, ready_timeout=None,
                            extra_env={"HF_ENDPOINT": hub.url})
        try:
            agent.wait_log(r"model ready .*model_id='starter'", 90)
            assert session.wait_notification("ctrl+alt+space", 10), session.notifications()
            seen = wait_tooltip(session, rf"starter · downloading {DEFAULT_MODEL}: [0-9.]+ of [0-9.]+ MB, ", 30)
            seen += wait_tooltip(session, rf"^Phi Tray — openvino-cpu · CPU · {DEFAULT_MODEL}$", 90)
            agent.wait_log(rf"model ready .*model_id='{DEFAULT_MODEL}'", 10)
            assert session.wait_notification(f"{DEFAULT_MODEL} is downloaded; switching to it.", 10)
        finally:
            assert agent.stop() == 0, agent.output()
    amounts = [float(m.group(1)) for text in seen if (m := re.search(r": ([0-9.]+) of ", text))]
    assert len(amounts) >= 2 and amounts == sorted(amounts), seen
    assert ModelStore(paths.models_dir).find(DEFAULT_MODEL, "openvino-cpu") is not None
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()
    assert "Traceback" not in agent.output(), agent.output()


@pytest.mark.slow
def test_without_the_hub_it_stays_on_the_starter_and_says_so_once(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    paths = fresh_paths(shared_paths, tmp_path)
    said_before = session.notifications().count("Cannot reach the model hub")
    welcomed_before = session.notifications().count("while it downloads")
    for start in range(2):
        agent = start_agent(session, paths, FIRST_RUN_SETTINGS, ready_timeout=None)
        try:
            agent.wait_log(r"model ready .*model_id='starter'", 90)
            agent.wait_log(r"first run: download of .* ended: offline", 30)
            if start == 0:
                assert session.wait_notification("Cannot reach the model hub", 10), session.notifications()
            else:
                time.sleep(1)  # time enough for a notice that should not come
            wait_tooltip(session, "^Phi Tray — openvino-cpu · CPU · starter$", 10)
        finally:
            assert agent.stop() == 0, agent.output()
        assert "switching" not in agent.log()
    assert session.notifications().count("Cannot reach the model hub") == said_before + 1
    assert session.notifications().count("while it downloads") == welcomed_before + 1
    assert ModelStore(paths.models_dir).find(DEFAULT_MODEL, "openvino-cpu") is None
