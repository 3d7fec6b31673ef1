"""Nothing leaves the machine: no network call from the agent, no selected text in its log.

`phitray run` runs on Xvfb with the starter model, and every Python process of
it — the daemon and the model host it spawns — carries the audit hook of
helpers/netaudit/sitecustomize.py, which records each name lookup and each
connect or send to an address that is not a local socket path. The person's
texts carry unique markers that are then looked for in every log file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent, story_action
from helpers.desktop import DesktopSession, open_text_widget, popup_window, wait_gone

pytestmark = pytest.mark.slow

NETAUDIT = Path(__file__).resolve().parents[1] / "helpers" / "netaudit"
TALE = story_action("tale", max_new_tokens=40, hotkey="ctrl+alt+t")


def records(folder: Path) -> dict[str, list[str]]:
    """pid -> the audit lines of that process (the first is its command line)."""
    return {path.stem: path.read_text(encoding="utf-8").splitlines() for path in folder.glob("*.log")}


def test_the_agent_makes_no_network_call_and_logs_no_text(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    audit = tmp_path / "netaudit"
    audit.mkdir()
    paths = replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")
    agent: RunningAgent = start_agent(session, paths, HOTKEY_SETTINGS, {"tale": TALE},
                                      extra_env={"PYTHONPATH": str(NETAUDIT), "PHITRAY_NETWORK_AUDIT": str(audit)})
    widget = open_text_widget(session)
    markers = []
    try:
        # One action of each output: replace, clipboard, popup; and the person's own clipboard text.
        for number, (combo, title) in enumerate((("ctrl+alt+p", "Proofread"), ("ctrl+alt+k", "Concise"),
                                                 ("ctrl+alt+t", "Tale"))):
            selection, own = f"their privat note nr{number}xq7 is hear .", f"my own clipboard cb{number}zq9"
            markers += [f"nr{number}xq7", f"cb{number}zq9"]
            session.set_clipboard(own)
            widget.load(selection)
            record = agent.job_after(lambda combo=combo: session.press(combo))
            assert record.outcome == "done", agent.log()[-2000:]
            if record.output == "popup":  # the tale, or an answer its checks held back: closed as a person would
                popup = popup_window(session, title)
                session.xdotool("key", "Escape")
                wait_gone(session, popup)
        seen = records(audit)
        starts = [lines[0] for lines in seen.values()]
        assert any("phitray run" in line for line in starts), starts
        assert any("multiprocessing" in line for line in starts), f"the model host ran without the audit hook: {starts}"
        calls = {pid: lines[1:] for pid, lines in seen.items() if lines[1:]}
        assert not calls, f"network calls from the agent: {calls}"
        # The same hook sees an explicit pull reach for the (unreachable) hub: the check above can fail.
        pull = agent.command("model", "pull", "phi-3-mini-4k-instruct", "--backend", "openvino-cpu", timeout=120)
        assert pull.returncode != 0
        reached = [line for lines in records(audit).values() for line in lines[1:]]
        assert any("socket.connect" in line and "127.0.0.1" in line for line in reached), (pull.stdout, reached)
    finally:
        widget.close()
        assert agent.stop() == 0, agent.output()
    logs = "".join(path.read_text(encoding="utf-8") for path in paths.log_dir.glob("phitray.log*"))
    assert "phitray.jobrecord: {\"job\": 3," in logs
    leaked = [marker for marker in markers if marker in logs]
    assert not leaked, f"selected or clipboard text in the log: {leaked}"
