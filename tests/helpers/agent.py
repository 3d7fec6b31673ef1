"""`phitray run` as its own process on a test desktop, and what its log says about each job."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from phitray.paths import Paths

from helpers.agentlog import AgentLog
from helpers.desktop import DesktopSession
from helpers.env import environment_for

# The agent on the starter model alone: what every end-to-end test and the benchmark start from.
STARTER_SETTINGS = """
[engine]
chain = ["openvino-cpu"]
model = "starter"
allow_pull = false
"""
# Plus two built-in actions on hotkeys: proofread replaces the selection, concise leaves its result on the clipboard.
HOTKEY_SETTINGS = STARTER_SETTINGS + """
[hotkeys.actions]
proofread = "ctrl+alt+p"
concise = "ctrl+alt+k"

[output.actions]
concise = "clipboard"
"""
@dataclass
class RunningAgent(AgentLog):
    process: subprocess.Popen[bytes]
    paths: Paths
    env: dict[str, str]
    folder: Path

    @property
    def log_file(self) -> Path:
        return self.paths.log_file

    def output(self) -> str:
        return (self.folder / "agent.out").read_text(errors="replace")

    def command(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Another `phitray` command in the same environment (a second launch, `stop`, `autostart`)."""
        with open(self.folder / "command.out", "w+") as out:
            result = subprocess.run([sys.executable, "-m", "phitray", *args], env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
            out.seek(0)
            return subprocess.CompletedProcess(result.args, result.returncode, out.read(), "")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.command("stop")
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def story_action(action_id: str = "story", output: str = "popup", max_new_tokens: int = 300,
                 hotkey: str | None = None) -> str:
    """An action file whose answer runs long on the starter model: for streaming, cancelling, killing."""
    return "\n".join([
        f'id = "{action_id}"',
        f'title = "{action_id.capitalize()}"',
        f'output = "{output}"',
        f"max_new_tokens = {max_new_tokens}",
        *([f'hotkey = "{hotkey}"'] if hotkey else []),
        'prompt = """Write a very long story that begins with the text between <text> and </text>.',
        "",
        '$text"""',
        "",
    ])


def start_agent(session: DesktopSession, paths: Paths, settings: str, actions: dict[str, str] | None = None,
                ready_timeout: float | None = 90, extra_env: dict[str, str] | None = None) -> RunningAgent:
    """Write the settings and action files, start `phitray run`, wait until its model is loaded (unless None)."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(settings, encoding="utf-8")
    paths.user_actions_dir.mkdir(exist_ok=True)
    for name, text in (actions or {}).items():
        (paths.user_actions_dir / f"{name}.toml").write_text(text, encoding="utf-8")
    folder = paths.config_dir.parent
    env = environment_for(paths, XDG_CONFIG_HOME=str(folder / "xdg-config"), XDG_RUNTIME_DIR=str(folder / "runtime"),
                          PYTHONUNBUFFERED="1", **{k: session.env[k] for k in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")},
                          **(extra_env or {}))
    (folder / "runtime").mkdir(mode=0o700, exist_ok=True)
    out = open(folder / "agent.out", "wb")
    # Output to a file: xclip and friends keep inherited pipes open (FACTS.md).
    process = subprocess.Popen([sys.executable, "-m", "phitray", "run"], env=env, stdin=subprocess.DEVNULL,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    agent = RunningAgent(process, paths, env, folder)
    if ready_timeout is not None:
        agent.wait_milestone("model-ready", ready_timeout)
    return agent


def strict_action(hotkey: str | None = None) -> str:
    """An edit whose similarity check no answer can pass (any change fails it): the starter's answer to it
    is always flagged, whatever it says."""
    return "\n".join([
        'id = "strict"',
        'title = "Strict"',
        'output = "replace"',
        "max_new_tokens = 30",
        *([f'hotkey = "{hotkey}"'] if hotkey else []),
        'prompt = """Rewrite the text between <text> and </text> in other words.',
        "",
        '$text"""',
        "",
        "[checks]",
        "close_to_input = 1.0",
        "",
    ])
