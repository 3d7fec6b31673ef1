"""The tray's "About this PC…" in the real daemon on the session's display (helpers/daemon.py): the device
survey's findings for every backend (a child process, as in the settings window), the backend and model in
use, the catalog's models that would run here with the installed ones marked, and the last `phitray bench`."""

from __future__ import annotations

import json
import time
import tkinter
from collections.abc import Callable
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, STARTER_MODEL
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.ui.about_window import AboutWindow

from helpers.daemon import private_paths, running_daemon
from helpers.desktop import DesktopSession, missing_tools
from helpers.settings_tabs import in_child
from helpers.tray_notes import menu_widths

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")
BENCH = {"model": "starter", "at": 1_790_000_000, "runs": 3, "max_new_tokens": 64, "backends": [
    {"backend_id": "openvino-cpu", "device": "CPU", "model_id": "starter", "first_load_seconds": 2.25,
     "cached_load_seconds": 0.75, "ttft_short_ms": 41.0, "ttft_long_ms": 380.0, "long_prompt_tokens": 1000,
     "tokens_per_second": 123.4, "overhead_ms": 1.5, "error": ""}]}


def pump_until(root: tkinter.Tk, done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        root.update()
        time.sleep(0.05)
    assert done(), "not reached in time"


def test_the_tray_menu_offers_about_this_pc(tk_display: DesktopSession) -> None:
    labels = [label for label, _ in in_child(menu_widths, tk_display.display, ())]
    assert labels.index("About this PC…") > labels.index("Open log")


def test_about_this_pc_shows_the_survey_the_model_in_use_what_fits_and_the_last_bench(
    tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = private_paths(shared_paths, tmp_path, monkeypatch, tk_display)
    paths.bench_dir.mkdir(parents=True)
    (paths.bench_dir / "last.json").write_text(json.dumps(BENCH))
    settings = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False)
    with running_daemon(paths, settings) as running:
        daemon = running.daemon
        daemon.update_state(host="ready", host_status="openvino-cpu · CPU · starter")
        daemon.commands.about_pc()  # what the tray's entry calls
        pump_until(daemon.root, lambda: daemon.commands._about is not None, 10)
        window = daemon.commands._about
        assert isinstance(window, AboutWindow)
        shown = window.text.get("1.0", "end")
        assert "In use: openvino-cpu · CPU · starter" in shown  # at once; the survey's lines follow
        assert "tokens/s" in shown and "123.4 tokens/s" in shown and "380 ms after 1000 tokens" in shown
        pump_until(daemon.root, lambda: window.decisions is not None, 150)
        shown = window.text.get("1.0", "end")
        assert "openvino-cpu: can run here — chosen" in shown, shown
        assert "directml: cannot run here" in shown, shown  # no DirectML on Linux
        fits = shown.split("would run here:")[1].split("Last bench:")[0]
        assert f"{CATALOG[STARTER_MODEL].title}: " in fits and "openvino-cpu (installed)" in fits, fits
        assert CATALOG[DEFAULT_MODEL].title in fits, fits  # Phi-3 has a CPU build: it fits, not yet installed
        daemon.commands.about_pc()  # a second choice brings the same window back
        daemon.root.update()
        assert daemon.commands._about is window and window.exists()
        window.close()
