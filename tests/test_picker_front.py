"""A picker Windows never lets to the front is closed with a notice, not left behind another window.

The real daemon on the session's X display with a scripted desktop: its keyboard hold reports, as the
Windows hold does after its claim on the front runs out, that the picker never got there.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from phitray.host.scripted import ScriptedHost
from phitray.jobs.types import CaptureJob
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.ui.notice_window import NoticeWindow

from helpers.daemon import private_paths, running_daemon
from helpers.desktop import DesktopSession

SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False, picker_hotkey="ctrl+alt+space")


def pump_until(root: object, condition: object, seconds: float = 10) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        root.update()  # type: ignore[attr-defined]
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("refused", [True, False])
def test_a_picker_that_never_gets_the_front_closes_and_says_so(
    refused: bool, tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = ScriptedHost(["unused"])  # a loaded model: the capture runs only then
    with running_daemon(private_paths(shared_paths, tmp_path, monkeypatch, tk_display), SETTINGS, host) as running:
        daemon, desktop = running.daemon, running.desktop
        desktop.text, desktop.selection = "a sentence the person selected", (0, 30)
        desktop.picker_front_refused = refused
        daemon.submit(CaptureJob("hotkey"))
        assert pump_until(daemon.root, lambda: "release keyboard" in desktop.steps), desktop.steps
        if refused:
            assert pump_until(daemon.root, lambda: daemon.windows.picker is None), "the picker stayed open"
            notice = daemon.notices.window
            assert isinstance(notice, NoticeWindow) and notice.showing
            assert notice._label is not None and "ctrl+alt+space" in str(notice._label.cget("text"))
        else:
            pump_until(daemon.root, lambda: False, 0.5)
            assert daemon.windows.picker is not None, "a picker in front was closed"
            assert daemon.notices.window is None
