"""Per-app profiles on a real X desktop (Xvfb, openbox): three editor windows of different programs by WM_CLASS,
one hotkey bound through the X11 adapter, the jobs thread on a scripted model host. The same key press
replaces the selection in one window, answers in a popup for another, and in a window of a password manager
(WM_CLASS keepassxc, off by the built-in profile) sends nothing at all: the person's clipboard keeps its
owner and the window its text. The agent's own windows are known by their process. What the scripted
desktop shows of the same is test_app_profiles.py."""

from __future__ import annotations

import os
import threading
import time
import tkinter
import tomllib
from collections.abc import Iterator
from dataclasses import replace

import pytest

from phitray.actions.checks import Checks
from phitray.actions.library import ActionSet, load_actions
from phitray.app_profiles import OWN_WINDOWS, AppProfile, profile_for
from phitray.host.scripted import ScriptedHost
from phitray.hotkeys import parse_combo
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.record import JobRecord
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, Idle, JobEvent, JobSettings
from phitray.settings import parse_settings

from helpers.desktop import DesktopSession, TextWidget, missing_tools, open_text_widget, start_session

pytestmark = pytest.mark.slow

SETTINGS = """\
[[apps]]
name = "Chat"
class = "chatwidget"
[apps.actions.proofread]
output = "popup"

[[apps]]
name = "Mail"
class = "mailwidget"
[apps.actions.proofread]
tone = "formal"
"""
TEXT = "i has went to the store yesterday."
FIXED = "I went to the store yesterday."


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    if missing_tools():
        pytest.fail(f"missing desktop tools {missing_tools()}: run scripts/desktop-deps.sh --test")
    desktop = start_session(tmp_path_factory.mktemp("profiles"), tray=False)
    yield desktop
    desktop.stop()


class Agent:
    """The X11 desktop adapter, the jobs thread and one bound hotkey, as the daemon wires them."""

    def __init__(self, session: DesktopSession) -> None:
        from phitray.desktop.x11 import open_desktop

        builtin = load_actions(None)
        lenient = replace(builtin.get("proofread"), checks=Checks(close_to_input=0.01, same_language=False))
        loaded = parse_settings(tomllib.loads(SETTINGS), "settings.toml")
        assert not loaded.problems
        self.host = ScriptedHost(lambda request: FIXED)
        self.desktop = open_desktop()
        self.idle = threading.Event()
        self.events: list[JobEvent] = []
        config = JobSettings(actions=ActionSet({**builtin.actions, "proofread": lenient}, ()),
                             capture=CaptureOptions(copy_timeout=1.0), profiles=loaded.settings.apps)
        self.jobs = JobThread(self.desktop, lambda: self.host, config, self._on_event)
        self.jobs.start()
        refused = self.desktop.hotkeys.start({parse_combo("ctrl+alt+p"): self._pressed})
        assert refused == []

    def _pressed(self) -> None:
        """The hotkey listener's thread: submit, as bindings.hotkey_callback does."""
        self.jobs.submit(ActionJob("hotkey", "proofread"))

    def _on_event(self, event: JobEvent) -> None:
        """The jobs thread."""
        self.events.append(event)
        if isinstance(event, Idle):
            self.idle.set()

    def press(self, session: DesktopSession) -> JobRecord:
        """The hotkey, as the person presses it; the job's record once the jobs thread is idle again."""
        self.idle.clear()
        session.press("ctrl+alt+p")
        assert self.idle.wait(15), "the job did not end"
        assert self.jobs.last_record is not None
        return self.jobs.last_record

    def close(self) -> None:
        self.jobs.stop()
        self.desktop.close()


@pytest.fixture(scope="module")
def agent(session: DesktopSession) -> Iterator[Agent]:
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = session.display
    running = Agent(session)
    yield running
    running.close()
    if saved is None:
        del os.environ["DISPLAY"]
    else:
        os.environ["DISPLAY"] = saved


@pytest.fixture(scope="module")
def windows(session: DesktopSession) -> Iterator[dict[str, TextWidget]]:
    opened = {name: open_text_widget(session, name) for name in ("chatwidget", "mailwidget", "keepassxc")}
    yield opened
    for widget in opened.values():
        widget.close()


def clipboard_owner(session: DesktopSession) -> int:
    from Xlib import display

    connection = display.Display(session.display)
    try:
        owner = connection.get_selection_owner(connection.get_atom("CLIPBOARD"))
        return int(getattr(owner, "id", owner))
    finally:
        connection.close()


def test_the_x11_traits_name_the_program_the_class_and_the_title(
        session: DesktopSession, agent: Agent, windows: dict[str, TextWidget]) -> None:
    widget = windows["mailwidget"]
    traits = agent.desktop.focus.traits(int(widget.window))
    assert traits.classes == ("mailwidget", "mailwidget") and traits.title == "mailwidget"
    assert traits.program == os.path.basename(os.readlink(f"/proc/{widget.process.pid}/exe"))


def test_one_hotkey_replaces_in_one_app_and_answers_in_a_popup_in_another(
        session: DesktopSession, agent: Agent, windows: dict[str, TextWidget]) -> None:
    windows["mailwidget"].load(TEXT, before="Dear Sam, ", after=" Bye.")
    record = agent.press(session)
    assert (record.outcome, record.output, record.profile) == ("done", "replace", "Mail")
    assert windows["mailwidget"].wait_text(lambda text: FIXED in text) == f"Dear Sam, {FIXED} Bye."
    system = agent.host.requests[-1].system or ""
    assert system.endswith("Write in a formal tone.")

    windows["chatwidget"].load(TEXT)
    record = agent.press(session)
    assert (record.outcome, record.output, record.profile) == ("done", "popup", "Chat")
    assert agent.events[-2].kind == "delivered" and agent.events[-2].text == FIXED  # type: ignore[union-attr]
    time.sleep(0.3)  # a paste would have landed by now: the popup's answer never reaches the window
    assert windows["chatwidget"].text() == TEXT
    assert "formal tone" not in (agent.host.requests[-1].system or "")


def test_a_password_manager_gets_a_notice_and_no_key(
        session: DesktopSession, agent: Agent, windows: dict[str, TextWidget]) -> None:
    widget = windows["keepassxc"]
    widget.load("hunter2")
    session.set_clipboard("the person's clipboard")
    owner, asked = clipboard_owner(session), len(agent.host.requests)
    record = agent.press(session)
    assert (record.outcome, record.profile) == ("AppOff", "KeePassXC")
    # Not even its PRIMARY selection was read (that needs no key): nothing was captured at all.
    assert not {"snapshot_taken", "modifiers_released", "text_captured"} & set(record.timings)
    notice = agent.events[-2]
    assert notice.kind == "notice" and notice.message.startswith("Phi Tray is off in KeePassXC")  # type: ignore[union-attr]
    # A Ctrl+C would have made the editor the clipboard's owner, and the agent's restore the agent.
    assert clipboard_owner(session) == owner and session.clipboard() == "the person's clipboard"
    assert widget.text() == "hunter2" and len(agent.host.requests) == asked
    seen = agent.jobs.apps.recent()[0]  # the Apps tab lists it first, to turn it on there if wanted
    assert (seen.app.window_class, seen.profile, seen.enabled) == ("keepassxc", "KeePassXC", False)


def test_the_agents_own_windows_are_known_by_their_process(tk_display: DesktopSession) -> None:
    """Tk names only its root window by the agent's class: the popups and the settings window are known as the
    agent's by the process that made them, and are off whatever the person's entries say."""
    from phitray.desktop.x11 import X11Focus

    root = tkinter.Tk(screenName=tk_display.display, className="phitray")
    editor = open_text_widget(tk_display, "someeditor")
    try:
        popup = tkinter.Toplevel(root)
        popup.title("Phi Tray popup")
        root.update()
        focus = X11Focus(tk_display.display)
        for window in (root.winfo_id(), popup.winfo_id()):
            traits = focus.traits(window)
            assert traits.own and profile_for(loaded_apps(), traits.program, traits.classes, traits.title,
                                              traits.own) is OWN_WINDOWS
        assert not focus.traits(int(editor.window)).own
    finally:
        editor.close()
        root.destroy()


def loaded_apps() -> tuple[AppProfile, ...]:
    """A person's entry that would take every window: the agent's own stay off all the same."""
    return parse_settings(tomllib.loads('[[apps]]\ntitle = "*"\n'), "settings.toml").settings.apps
