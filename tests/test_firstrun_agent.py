"""The first run of the real agent on Xvfb: it starts on the starter, shows the download of Phi-3 from the
stand-in hub in its tray and switches to it; without the hub it says so once; a download quit or stopped
from the tray leaves nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, STARTER_MODEL
from phitray.backends.store import ModelStore
from phitray.paths import Paths

from helpers.agent import RunningAgent, start_agent
from helpers.desktop import DesktopSession, tray_icon_position
from helpers.fake_hub import FakeHub, repo_of_folder

OV_SOURCE = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]

FIRST_RUN_SETTINGS = """
[engine]
chain = ["openvino-cpu"]
"""


def first_run(session: DesktopSession, paths: Paths, hub: FakeHub | None = None) -> RunningAgent:
    """The agent started on `paths` as on a first run, downloading from `hub` (none: the hub cannot be reached)."""
    return start_agent(session, paths, FIRST_RUN_SETTINGS, ready_timeout=None,
                       extra_env={"HF_ENDPOINT": hub.url} if hub is not None else None)


def fresh_paths(shared_paths: Paths, folder: Path) -> Paths:
    """Private locations whose store holds only the starter (linked from the shared store, read-only)."""
    paths = Paths(config_dir=folder / "config", data_dir=folder / "data", cache_dir=folder / "cache",
                  log_dir=folder / "log")
    paths.models_dir.mkdir(parents=True)
    (paths.models_dir / STARTER_MODEL).symlink_to(shared_paths.models_dir / STARTER_MODEL, target_is_directory=True)
    return paths


def tray_tooltip(session: DesktopSession) -> str:
    """The tray icon's text after "Phi Tray — ", as a person hovering it (gtk) or a screen reader reads it.

    pystray sets it as the name of the icon's window: GtkStatusIcon's title in UTF-8 under the gtk
    backend, a latin-1 window name under xorg (where the tray writes "-" for "—"). Read with Xlib,
    which decodes either.
    """
    from Xlib import display as xdisplay

    screen = xdisplay.Display(session.display)
    try:
        for window in session.run("xdotool", "search", "--name", "^Phi Tray", check=False).split():
            resource = screen.create_resource_object("window", int(window))
            try:
                name = (resource.get_full_text_property(screen.intern_atom("_NET_WM_NAME"))
                        or resource.get_wm_name() or "")
            except Exception:  # the window went between the search and the read
                continue
            for prefix in ("Phi Tray — ", "Phi Tray - "):
                if name.startswith(prefix):
                    return name[len(prefix):]
        return ""
    finally:
        screen.close()


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
        agent = first_run(session, paths, hub)
        try:
            agent.wait_milestone("model-ready", 90, model_id="starter")
            assert session.wait_notification("ctrl+alt+space", 10), session.notifications()
            seen = wait_tooltip(session, rf"starter · downloading {DEFAULT_MODEL}: [0-9.]+ of [0-9.]+ MB, ", 30)
            seen += wait_tooltip(session, rf"^openvino-cpu · CPU · {DEFAULT_MODEL}$", 90)
            agent.wait_milestone("download-ended", 10, model_id=DEFAULT_MODEL, backend_id="openvino-cpu",
                                 outcome="installed", by="first-run")
            agent.wait_milestone("model-ready", 10, model_id=DEFAULT_MODEL)
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
        agent = first_run(session, paths)
        try:
            # Both starts write to the same log: the second waits for the second of each line.
            agent.wait_milestone("model-ready", 90, count=start + 1, model_id="starter")
            agent.wait_milestone("download-ended", 30, count=start + 1, model_id=DEFAULT_MODEL, outcome="offline",
                                 by="first-run")
            if start == 0:
                assert session.wait_notification("Cannot reach the model hub", 10), session.notifications()
            else:
                time.sleep(1)  # time enough for a notice that should not come
            wait_tooltip(session, "^openvino-cpu · CPU · starter$", 10)
        finally:
            assert agent.stop() == 0, agent.output()
        assert "switching" not in agent.log()
    assert session.notifications().count("Cannot reach the model hub") == said_before + 1
    assert session.notifications().count("while it downloads") == welcomed_before + 1
    assert ModelStore(paths.models_dir).find(DEFAULT_MODEL, "openvino-cpu") is None


def slow_hub(tiny_phi3: Path) -> FakeHub:
    """The stand-in hub serving the tiny Phi-3 as the catalog's OpenVINO repository, slowly (about 12 s)."""
    hub = FakeHub({OV_SOURCE.repo_id: repo_of_folder(tiny_phi3 / "openvino-int4",
                                                     extra={"padding.bin": bytes(6 * 1024 * 1024)})})
    hub.bytes_per_second = 600_000
    return hub


def nothing_of_phi3_left(paths: Paths) -> None:
    assert ModelStore(paths.models_dir).find(DEFAULT_MODEL, "openvino-cpu") is None
    assert not (paths.models_dir / DEFAULT_MODEL).exists()
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()


@pytest.mark.slow
def test_quitting_during_the_download_leaves_nothing_and_the_next_start_downloads_again(
    session: DesktopSession, shared_paths: Paths, tiny_phi3: Path, tmp_path: Path
) -> None:
    paths = fresh_paths(shared_paths, tmp_path)
    with slow_hub(tiny_phi3) as hub:
        agent = first_run(session, paths, hub)
        try:
            wait_tooltip(session, rf"downloading {DEFAULT_MODEL}: [1-9][0-9.]* of ", 60)
        finally:
            assert agent.stop() == 0, agent.output()
        assert [m["outcome"] for m in agent.milestones("download-ended", by="first-run")] == ["cancelled"]
        nothing_of_phi3_left(paths)
        again = first_run(session, paths, hub)
        try:
            again.wait_milestone("download-ended", 60, model_id=DEFAULT_MODEL, backend_id="openvino-cpu",
                                 outcome="installed", by="first-run")
            again.wait_milestone("model-ready", 60, model_id=DEFAULT_MODEL)
        finally:
            assert again.stop() == 0, again.output()


@pytest.mark.slow
def test_stop_downloading_from_the_tray_menu_keeps_nothing_and_is_not_undone_by_a_restart(
    session: DesktopSession, shared_paths: Paths, tiny_phi3: Path, tmp_path: Path
) -> None:
    paths = fresh_paths(shared_paths, tmp_path)
    with slow_hub(tiny_phi3) as hub:
        agent = first_run(session, paths, hub)
        try:
            wait_tooltip(session, rf"downloading {DEFAULT_MODEL}: [1-9][0-9.]* of ", 60)
            x, y = tray_icon_position(session, tmp_path, "ready")
            session.xdotool("mousemove", str(x), str(y), "click", "3")
            time.sleep(0.8)
            # The status line is not an item one can pick: the first that is, is "Stop downloading".
            for key in ("Down", "Return"):
                session.xdotool("key", key)
                time.sleep(0.15)

            agent.wait_milestone("download-ended", 20, model_id=DEFAULT_MODEL, outcome="stopped", by="first-run")
            assert session.wait_notification(f"Stopped downloading {DEFAULT_MODEL}", 10)
            wait_tooltip(session, "^openvino-cpu · CPU · starter$", 10)
        finally:
            assert agent.stop() == 0, agent.output()
        nothing_of_phi3_left(paths)
        gets_before = sum(n for request, n in hub.requests.items() if request.startswith("GET"))
        again = first_run(session, paths, hub)
        try:
            again.wait_milestone("model-ready", 90, count=2, model_id="starter")  # the log holds both starts
            time.sleep(2)  # time enough for a download that should not start
        finally:
            assert again.stop() == 0, again.output()
        assert sum(n for request, n in hub.requests.items() if request.startswith("GET")) == gets_before
        assert len(again.milestones("download-ended")) == 1
