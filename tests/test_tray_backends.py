"""`phitray run` where pystray falls back from gtk: without PyGObject it gets the xorg backend, whose
window title is latin-1 (the tooltip's "—" once killed the agent at start). The agent must start, say
in its log which backend it got and what that lacks, and serve hotkeys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, start_agent
from helpers.desktop import DesktopSession, open_text_widget

pytestmark = pytest.mark.slow

NO_PYGOBJECT = Path(__file__).resolve().parent / "helpers" / "nogi"


def test_without_pygobject_the_agent_starts_on_xorg_and_serves_a_hotkey(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    paths = replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")
    agent = start_agent(session, paths, HOTKEY_SETTINGS, extra_env={"PYTHONPATH": str(NO_PYGOBJECT)})
    widget = open_text_widget(session)
    try:
        agent.wait_log(r"tray: pystray's xorg backend \(no menu")
        assert "PyGObject is not installed" in agent.log()
        widget.fill("their going too the park tomorow.")
        widget.select_all()
        record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
        assert record.outcome == "done", agent.log()[-2000:]
        assert widget.wait_text(lambda text: text != "their going too the park tomorow.")
    finally:
        widget.close()
        assert agent.stop() == 0, agent.output()
    assert "Traceback" not in agent.output(), agent.output()
