"""Every kind of broken file at once: each is named with its problem, and everything else keeps working.

One config folder holds a settings file with wrong types and an unknown
table (saved with a byte-order mark, as Notepad did), and action files that are
malformed TOML, not UTF-8, have an unknown field, use a placeholder with no
default, or take a hotkey another action has, beside a good one with a
byte-order mark; the model store holds the starter beside a model cut short and a model
whose manifest is garbage. `phitray run` starts on Xvfb with all of it, and
the CLI is asked about it. Nothing the person wrote is changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from phitray.backends.store import ModelStore
from phitray.paths import Paths

from helpers.agent import STARTER_SETTINGS, start_agent
from helpers.desktop import DesktopSession, open_text_widget

pytestmark = pytest.mark.slow

SETTINGS = """\ufeff
[engine]
chain = ["openvino-cpu"]
model = "starter"
allow_pull = "yes please"
max_characters = -3

[capture]
timeout_ms = "soon"

[hotkeys]
picker = "ctrl+alt+space+x"

[colours]
tray = "red"
"""
GOOD = '''
id = "shout"
title = "Shout"
output = "replace"
max_new_tokens = 16
hotkey = "ctrl+alt+g"
prompt = "Proofread the text between <text> and </text>.\\n\\n$text"
'''
ACTION_FILES: dict[str, bytes] = {
    "good.toml": GOOD.encode(),
    "bom.toml": '\ufeffid = "marked"\ntitle = "Marked"\nprompt = "$text"\n'.encode(),
    "broken.toml": b'id = "broken"\ntitle = "Broken\nprompt = "$text"\n',
    "latin1.toml": 'id = "latin"\ntitle = "Caf\u00e9"\nprompt = "$text"\n'.encode("latin-1"),
    "extra-field.toml": b'id = "extra"\ntitle = "Extra"\nprompt = "$text"\ncolour = "red"\n',
    "no-default.toml": b'id = "toned"\ntitle = "Toned"\nprompt = "In a $tone tone: $text"\n',
    "first-d.toml": b'id = "first"\ntitle = "First"\nprompt = "$text"\nhotkey = "ctrl+alt+d"\n',
    "second-d.toml": b'id = "second"\ntitle = "Second"\nprompt = "$text"\nhotkey = "ctrl+alt+d"\n',
}
# (where, what) every problem must be reported with, in the log and by the CLI.
SETTINGS_PROBLEMS = [("engine.allow_pull", ""), ("engine.max_characters", ""), ("capture.timeout_ms", ""),
                     ("hotkeys.picker", ""), ("[colours]", "unknown section")]
ACTION_PROBLEMS = [("broken.toml", ""), ("latin1.toml", "UTF-8"), ("extra-field.toml", "colour"),
                   ("no-default.toml", "tone"), ("second-d.toml", "ctrl+alt+d")]


def private_store(shared: Paths, data: Path) -> tuple[Path, Path]:
    """The starter (linked, read-only) beside two broken models; returns (cut-short file, garbage manifest)."""
    models = data / "models"
    shared_store = ModelStore(shared.models_dir)
    starter = shared_store.find("starter", "openvino-cpu")
    tiny = shared_store.find("tiny-phi3", "openvino-cpu")
    assert starter is not None and tiny is not None
    (models / "starter").mkdir(parents=True)
    (models / "starter" / starter.folder.name).symlink_to(starter.folder)
    cut = models / "tiny-phi3" / tiny.folder.name
    shutil.copytree(tiny.folder, cut)
    weights = cut / "openvino_model.bin"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    garbage = models / "half-done" / "openvino-int4"
    garbage.mkdir(parents=True)
    (garbage / "phitray-model.json").write_text("{ not json", encoding="utf-8")
    return weights, garbage / "phitray-model.json"


def test_every_broken_file_is_named_and_the_rest_keeps_working(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    cut, garbage = private_store(shared_paths, paths.data_dir)
    paths.user_actions_dir.mkdir(parents=True)
    for name, content in ACTION_FILES.items():
        (paths.user_actions_dir / name).write_bytes(content)
    agent = start_agent(session, paths, SETTINGS)
    written = {path: path.read_bytes() for path in [paths.settings_file, *paths.user_actions_dir.iterdir()]}
    try:
        # One notification, naming the first problem and pointing at the log for the others.
        assert session.wait_notification("more in the log"), session.notifications()[-2000:]
        log = agent.log()
        for where, what in SETTINGS_PROBLEMS + ACTION_PROBLEMS:
            assert any(where in line and what in line for line in log.splitlines()), f"{where} {what!r} not in the log"
        assert "first-d.toml" in log  # a hotkey taken twice names both files
        # The good action still runs from its hotkey, on the model the broken ones sit beside.
        widget = open_text_widget(session)
        widget.load("she dont like apples .")  # the starter's answer to it passes the default checks
        assert agent.job_after(lambda: session.press("ctrl+alt+g")).outcome == "done", agent.log()[-2000:]
        assert widget.wait_text(lambda text: text != "she dont like apples .", 5) != "she dont like apples ."
        widget.close()
        # The CLI says the same, file by file.
        check = agent.command("actions", "check")
        assert check.returncode == 1
        for where, what in ACTION_PROBLEMS:
            assert any(where in line and what in line for line in check.stdout.splitlines()), check.stdout
        assert "bom.toml" not in check.stdout and "marked" in agent.command("actions", "list").stdout
        listed = agent.command("model", "list")
        assert listed.returncode == 0 and "starter" in listed.stdout
        assert f"openvino_model.bin is {cut.stat().st_size} bytes" in listed.stdout, listed.stdout
        assert str(garbage) in listed.stdout, listed.stdout
        # Asked for the damaged model, `ask` names the file, then answers from the starter.
        asked = agent.command("ask", "--backend", "openvino-cpu", "--model", "tiny-phi3", "--no-pull",
                              "--max-new-tokens", "8", "Say hi.")
        assert asked.returncode == 0, asked.stdout
        assert f"damaged: openvino_model.bin is {cut.stat().st_size} bytes" in asked.stdout, asked.stdout
        assert "falling back to the starter model" in asked.stdout
    finally:
        assert agent.stop() == 0, agent.output()
    assert {path: path.read_bytes() for path in written} == written, "a file of the person's was rewritten"


def test_no_model_at_all_is_said_and_the_agent_stays_up(session: DesktopSession, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "empty-data", tmp_path / "cache", tmp_path / "log")
    agent = start_agent(session, paths, STARTER_SETTINGS, ready_timeout=None)  # no model installed, no pulls
    try:
        agent.wait_milestone("model-failed", 60)
        assert session.wait_notification("No model could be loaded"), session.notifications()[-2000:]
        status = agent.command("status").stdout
        assert "error" in status and "starter is not installed" in status, status
        assert agent.process.poll() is None
        assert "Traceback" not in agent.log() + agent.output()
    finally:
        assert agent.stop() == 0, agent.output()
