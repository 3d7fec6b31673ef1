"""Terminals on X11 never get Ctrl+C or Ctrl+V: a real xterm runs a script that traps SIGINT and reads
what is typed into it, the real agent runs beside it, and the test drives both with clicks and keys.

In xterm Ctrl+C (and Ctrl+Shift+C) interrupts the running program, and Ctrl+V (and Ctrl+Shift+V) makes
the shell take the next key literally. The agent reads a terminal's selection from PRIMARY and pastes
with Shift+Insert, its answer on PRIMARY for that paste only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.desktop.x11_terminals import TERMINAL_CLASSES, is_terminal, terminal_names
from phitray.host.client import ModelHost
from phitray.paths import Paths
from phitray.settings import parse_settings

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent
from helpers.desktop import DesktopSession, popup_window

LINE = "i has went to the store yesterday and buyed three apple."
# A terminal program the agent does not know, named in the settings as the person's own.
OWN_TERMINAL = "PhitrayTestTerm"
SETTINGS = HOTKEY_SETTINGS + f"""
[desktop]
terminals = ["{OWN_TERMINAL}"]
"""
# Says it is ready, prints the line to select, then records every line typed in and every SIGINT.
SCRIPT = """trap 'echo INTERRUPTED >> "$1"' INT
printf '%s\\n' "$2"
echo READY >> "$1"
while true; do
    if IFS= read -r line; then printf 'GOT:%s\\n' "$line" >> "$1"; fi
done
"""


# --- the rules, without a desktop ----------------------------------------------------------


def test_known_terminals_match_either_part_of_wm_class_and_the_persons_own_count_too() -> None:
    assert is_terminal(("xterm", "xterm"), frozenset()) and is_terminal(("gnome-terminal-server", "gnome-terminal"),
                                                                        frozenset())
    assert not is_terminal(("gedit", "org.gnome.gedit"), frozenset()) and not is_terminal((), frozenset())
    assert is_terminal(("myterm", "MyTerm".lower()), terminal_names(("MyTerm",)))
    assert all(name == name.lower() for name in TERMINAL_CLASSES)


@pytest.mark.parametrize("value, problem", [
    (3, "must be a list of window class names, not int"),
    ([""], "'' is not a window class name"),
    (["ok", 5], "'5' is not a window class name"),
    (["bad\x00name"], "is not a window class name"),
    (["x" * 300], "is not a window class name"),
    ({"a": 1}, "must be a list of window class names, not dict"),
])
def test_a_bad_terminals_setting_is_reported_and_the_default_kept(value: object, problem: str) -> None:
    loaded = parse_settings({"desktop": {"terminals": value}}, "settings.toml")
    assert loaded.settings.terminals == ()
    assert len(loaded.problems) == 1 and problem in str(loaded.problems[0])
    assert "using the default (none)" in str(loaded.problems[0])


def test_the_terminals_setting_takes_a_name_or_a_list_trimmed_once_each() -> None:
    assert parse_settings({"desktop": {"terminals": " foot "}}, "s").settings.terminals == ("foot",)
    loaded = parse_settings({"desktop": {"terminals": ["MyTerm", "myterm ", "MyTerm"]}}, "s")
    assert loaded.settings.terminals == ("MyTerm", "myterm") and loaded.problems == ()


# --- a real xterm beside the real agent ------------------------------------------------------


@dataclass
class Terminal:
    session: DesktopSession
    process: subprocess.Popen[bytes]
    window: str
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines() if self.log.exists() else []

    def typed(self) -> list[str]:
        return [line[4:] for line in self.lines() if line.startswith("GOT:")]

    def select_first_line(self) -> None:
        """A triple click on the line the script printed, as a person selects it (the terminal takes PRIMARY)."""
        self.session.xdotool("mousemove", "--window", self.window, "40", "8", "click", "--repeat", "3",
                             "--delay", "80", "1")
        deadline = time.monotonic() + 5
        while self.session.clipboard("primary").strip() != LINE:
            assert time.monotonic() < deadline, "the terminal did not select its line"
            time.sleep(0.05)

    def wait_typed(self, count: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.typed()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.typed()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)


def open_terminal(session: DesktopSession, folder: Path, name: str, *xterm_options: str) -> Terminal:
    if shutil.which("xterm") is None:
        pytest.fail("xterm is missing: run scripts/desktop-deps.sh --test")
    script, log = folder / f"{name}.sh", folder / f"{name}.log"
    script.write_text(SCRIPT, encoding="utf-8")
    log.unlink(missing_ok=True)
    process = session.spawn(["xterm", *xterm_options, "-title", name, "-geometry", "90x12+60+80",
                             "-e", "bash", str(script), str(log), LINE], name)
    deadline = time.monotonic() + 15
    while "READY" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline and process.poll() is None, "xterm did not start its script"
        time.sleep(0.05)
    window = session.xdotool("search", "--sync", "--name", f"^{name}$").split()[0]
    session.xdotool("windowactivate", "--sync", window)
    return Terminal(session, process, window, log)


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    running = start_agent(session, agent_paths, SETTINGS)
    yield running
    assert running.stop() == 0, running.output()


@pytest.fixture(scope="module")
def answer(agent: RunningAgent, starter_host: ModelHost) -> str:
    """What the agent must paste for the selected line (a triple click takes its newline): greedy, the same text."""
    action = load_actions(agent.paths.user_actions_dir).get("proofread")
    text = run_action(starter_host, action, LINE + "\n").text
    assert text.strip() and text.strip() != LINE
    return text


@pytest.fixture
def terminal(session: DesktopSession, agent: RunningAgent, tmp_path: Path) -> Iterator[Terminal]:
    opened = open_terminal(session, tmp_path, "term")
    yield opened
    opened.close()


@pytest.mark.slow
def test_a_hotkey_over_a_terminal_interrupts_nothing_and_its_answer_is_typed_in(
    session: DesktopSession, agent: RunningAgent, terminal: Terminal, answer: str
) -> None:
    session.set_clipboard("the person's clipboard")
    terminal.select_first_line()
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
    assert record.outcome == "done", agent.log()[-2000:]
    assert "paste_taken" in record.timings and "clipboard_restored_after_copy" not in record.timings
    assert terminal.wait_typed(1) == answer.strip("\n").splitlines()
    assert "INTERRUPTED" not in terminal.lines()
    assert session.clipboard() == "the person's clipboard"
    assert session.clipboard("primary") == "", "the agent kept PRIMARY after the paste"
    assert session.keys_down() == []


@pytest.mark.slow
def test_the_picker_over_a_terminal_takes_what_is_typed_and_the_shell_gets_only_the_answer(
    session: DesktopSession, agent: RunningAgent, terminal: Terminal, answer: str
) -> None:
    terminal.select_first_line()
    jobs_before = len(agent.jobs())
    # A quick typist: the filter typed 50 ms after the hotkey, before the picker shows.
    session.xdotool("key", "ctrl+alt+space", "sleep", "0.05", "type", "--delay", "30", "proof")
    session.xdotool("key", "Return")
    capture, action = agent.wait_job(jobs_before + 1), agent.wait_job(jobs_before + 2)
    assert (capture.outcome, action.action_id, action.outcome) == ("done", "proofread", "done"), agent.log()[-2000:]
    assert terminal.wait_typed(1) == answer.strip("\n").splitlines()
    assert "INTERRUPTED" not in terminal.lines()


@pytest.mark.slow
def test_with_nothing_selected_in_a_terminal_no_key_is_sent_and_older_text_is_not_used(
    session: DesktopSession, agent: RunningAgent, terminal: Terminal
) -> None:
    session.run("xclip", "-i", "-selection", "primary", input_text="a selection left in another program")
    session.xdotool("windowactivate", "--sync", terminal.window)
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
    assert record.outcome == "NothingSelected"
    assert popup_window(session, "No text is selected")  # the agent's notice window, by the pointer
    time.sleep(0.5)
    assert terminal.lines() == ["READY"], "the terminal got a key"


@pytest.mark.slow
def test_a_terminal_named_in_the_settings_is_treated_as_one(
    session: DesktopSession, agent: RunningAgent, tmp_path: Path, answer: str
) -> None:
    # Renamed, xterm is a program the agent does not know: only `[desktop] terminals` says what it is.
    own = open_terminal(session, tmp_path, "own", "-name", "phitray-test-term", "-class", OWN_TERMINAL)
    try:
        own.select_first_line()
        record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
        assert record.outcome == "done", agent.log()[-2000:]
        assert own.wait_typed(1) == answer.strip("\n").splitlines()
        assert "INTERRUPTED" not in own.lines()
    finally:
        own.close()


@pytest.mark.slow
def test_the_x11_traits_know_a_terminal_by_wm_class(session: DesktopSession, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", session.display)
    from phitray.desktop.x11 import X11Focus

    focus = X11Focus()
    known = open_terminal(session, tmp_path, "known")
    own = open_terminal(session, tmp_path, "renamed", "-name", "phitray-test-term", "-class", OWN_TERMINAL)
    try:
        assert focus.traits(int(known.window, 0)).terminal
        assert not focus.traits(int(own.window, 0)).terminal
        focus.set_terminals((OWN_TERMINAL,))
        assert focus.traits(int(own.window, 0)).terminal
        assert not focus.traits(None).terminal
    finally:
        own.close()
        known.close()
