"""The X11 clipboard against other real programs on a private Xvfb: nothing of the person's lost, no one
else's read taken for the paste, nothing of theirs in clipboard histories.

The other programs are xclip, the Tk editor (helpers/textwidget.py) and helpers/x11_peer.py: a reader of
every new owner (as Klipper, CopyQ and GPaste are), a SAVE_TARGETS clipboard manager, a window that reads
the clipboard two seconds after Ctrl+V (as a remote desktop does), and an owner of a 100 MB selection.
The quitting tests run `phitray run` itself and stop it as a person would.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phitray.desktop import Desktop
from phitray.errors import Notice, NothingSelected
from phitray.jobs.capture import CaptureOptions, capture_selection
from phitray.jobs.paste import SLOW_PASTE_SECONDS, paste_text
from phitray.jobs.timeline import Timeline
from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, start_agent
from helpers.desktop import DesktopSession, open_text_widget
from helpers.waiting import until
from helpers.x11_holders import end_holders, holders

pytestmark = pytest.mark.slow
PEER = Path(__file__).parent / "helpers" / "x11_peer.py"
HINT = "x-kde-passwordManagerHint"
OPTIONS = CaptureOptions(paste_timeout=1.5)


class Peer:
    """One x11_peer.py process and the JSON lines it logs."""

    def __init__(self, session: DesktopSession, mode: str, *args: str) -> None:
        self.log_path = session.folder / f"peer-{mode}-{time.monotonic_ns()}.log"
        self.process = session.spawn([sys.executable, str(PEER), mode, str(self.log_path), *args], f"peer-{mode}")
        self.first("ready")

    def lines(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text(encoding="utf-8").splitlines() if line]

    def first(self, key: str, timeout: float = 15, where: Callable[[dict[str, Any]], bool] = lambda _: True) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if key in line and where(line):
                    return line[key]
            assert self.process.poll() is None, f"the {PEER.name} peer exited: {self.lines()}"
            time.sleep(0.02)
        raise AssertionError(f"the peer never logged {key!r}: {self.lines()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


def _targets(session: DesktopSession, selection: str = "clipboard") -> list[str]:
    return session.run("xclip", "-o", "-selection", selection, "-t", "TARGETS", check=False, timeout=5).split()


# --- the paste is the target's read --------------------------------------------------------


def test_a_reader_of_every_new_owner_neither_ends_the_paste_nor_gets_the_old_clipboard_pasted(
        session: DesktopSession, x11: Desktop) -> None:
    reader = Peer(session, "reader")
    target = Peer(session, "target", "busyeditor", "0.3")  # a busy application: its read comes 300 ms after Ctrl+V
    try:
        window = int(target.first("window"))
        session.xdotool("windowactivate", "--sync", str(window))
        session.set_clipboard("the person's old clipboard")
        reader.first("read", where=lambda line: line["read"] == "the person's old clipboard")
        snapshot = x11.clipboard.snapshot()
        timeline = Timeline()
        assert paste_text(x11, "the answer ✓", snapshot, OPTIONS, timeline, window)
        # The reader did read the offer, before Ctrl+V was even sent: that read did not end the wait.
        reader.first("read", where=lambda line: line["read"] == "the answer ✓")
        assert target.first("pasted", timeout=5) == "the answer ✓"
        assert session.clipboard() == "the person's old clipboard"
        assert timeline.marks["paste_taken"] - timeline.marks["paste_sent"] >= 0.3
    finally:
        reader.stop()
        target.stop()


def test_the_tk_editor_gets_the_answer_with_a_reader_of_every_owner_running(session: DesktopSession,
                                                                             x11: Desktop) -> None:
    editor = open_text_widget(session, "editor-reader")
    reader = Peer(session, "reader")
    try:
        session.set_clipboard("the person's old clipboard")
        editor.load("select me")
        assert paste_text(x11, "the answer ✓", x11.clipboard.snapshot(), OPTIONS, Timeline(), int(editor.window))
        assert editor.wait_text(lambda text: text != "select me", 5) == "the answer ✓"
        assert session.clipboard() == "the person's old clipboard"
    finally:
        reader.stop()
        editor.close()


def test_a_slow_window_reading_two_seconds_after_ctrl_v_gets_the_answer(session: DesktopSession, x11: Desktop) -> None:
    target = Peer(session, "target", "xfreerdp", "2.0")  # an RDP client: its clipboard goes over the wire
    try:
        window = int(target.first("window"))
        session.xdotool("windowactivate", "--sync", str(window))
        assert x11.focus.traits(window).slow_copy
        session.set_clipboard("the person's old clipboard")
        snapshot = x11.clipboard.snapshot()
        started = time.monotonic()
        assert paste_text(x11, "the late answer", snapshot, OPTIONS, Timeline(), window)
        assert 2.0 <= time.monotonic() - started < SLOW_PASTE_SECONDS
        assert target.first("pasted", timeout=5) == "the late answer"
        assert session.clipboard() == "the person's old clipboard"
    finally:
        target.stop()


def test_an_ordinary_window_that_reads_too_late_is_not_counted_as_pasted(session: DesktopSession, x11: Desktop) -> None:
    """Past the wait the person's clipboard comes back and paste_text says so: the jobs layer shows the answer."""
    target = Peer(session, "target", "plaineditor", "2.0")
    try:
        window = int(target.first("window"))
        session.xdotool("windowactivate", "--sync", str(window))
        assert not x11.focus.traits(window).slow_copy
        session.set_clipboard("the person's old clipboard")
        assert not paste_text(x11, "the late answer", x11.clipboard.snapshot(), OPTIONS, Timeline(), window)
        assert session.clipboard() == "the person's old clipboard"
    finally:
        target.stop()


# --- out of histories ------------------------------------------------------------------


def test_every_offer_and_give_back_carries_the_kde_hint_and_kept_text_does_not(
        session: DesktopSession, x11: Desktop) -> None:
    reader = Peer(session, "reader")
    try:
        def seen(count: int) -> list[tuple[str, bool]]:
            """What the reader, as a clipboard manager, saw at each owner change: the text, and the hint or not."""
            until(lambda: len([line for line in reader.lines() if "read" in line]) >= count, "the reader", 5)
            return [(line["read"], HINT in line["targets"]) for line in reader.lines() if "read" in line]

        session.set_clipboard("the person's own")
        seen(1)
        snapshot = x11.clipboard.snapshot()
        x11.clipboard.offer_text("an offer")
        assert HINT in _targets(session)
        assert session.run("xclip", "-o", "-selection", "clipboard", "-t", HINT) == "secret"
        seen(2)
        x11.clipboard.restore(snapshot)
        assert HINT in _targets(session)
        assert session.clipboard() == "the person's own"
        seen(3)
        x11.clipboard.keep_text("the person asked to keep this")
        assert HINT not in _targets(session)
        assert x11.clipboard.read_text(10) == "the person "  # its own text, one past the cap, no round trip
        assert seen(4) == [("the person's own", False), ("an offer", True), ("the person's own", True),
                           ("the person asked to keep this", False)]
    finally:
        reader.stop()


def test_a_capture_from_primary_leaves_the_clipboard_owner_and_its_changes_alone(
        session: DesktopSession, x11: Desktop) -> None:
    from Xlib import display as xdisplay

    editor = open_text_widget(session, "editor-primary")
    try:
        session.set_clipboard("the clipboard stays")
        editor.load("the selected words", before="some ", after=" and more")
        connection = xdisplay.Display(session.display)
        owner_before = connection.get_selection_owner(connection.get_atom("CLIPBOARD")).id
        mark = x11.clipboard.change_mark()
        captured = capture_selection(x11, CaptureOptions(), Timeline())
        assert (captured.text, captured.path, captured.snapshot) == ("the selected words", "primary", None)
        time.sleep(0.2)  # an owner change would reach the clipboard's XFixes watch within milliseconds
        assert x11.clipboard.change_mark() == mark
        assert connection.get_selection_owner(connection.get_atom("CLIPBOARD")).id == owner_before
        connection.close()
        assert session.clipboard() == "the clipboard stays"
        assert editor.text() == "some the selected words and more"
    finally:
        editor.close()


def test_primary_held_by_another_program_is_not_the_selection(session: DesktopSession, x11: Desktop) -> None:
    editor = open_text_widget(session, "editor-other")
    try:
        editor.fill("nothing selected here")
        session.xdotool("key", "End")
        session.run("xclip", "-i", "-selection", "primary", input_text="someone else's selection")
        until(lambda: session.clipboard("primary") == "someone else's selection", "xclip on PRIMARY", 5)
        editor.focus()
        with pytest.raises(NothingSelected):
            capture_selection(x11, CaptureOptions(copy_timeout=0.4), Timeline())
        # The setting that takes PRIMARY from any program still does.
        assert capture_selection(x11, CaptureOptions(use_primary=True), Timeline()).text == "someone else's selection"
    finally:
        editor.close()


# --- bounded reads ---------------------------------------------------------------------


def test_a_100_mb_selection_is_read_only_up_to_the_cap(session: DesktopSession, x11: Desktop) -> None:
    owner = Peer(session, "owner", "PRIMARY", "UTF8_STRING", "100")
    try:
        cap = 200_000
        started = time.monotonic()
        text = x11.clipboard.read_selection(None, cap)
        assert text is not None and len(text) == cap + 1 and text.startswith("the quick brown fox")
        assert time.monotonic() - started < 5
        time.sleep(0.3)  # the owner would go on sending if the read had not stopped
        assert max(line["sent"] for line in owner.lines() if "sent" in line) <= 4 * (cap + 1) + 64 * 1024
        with pytest.raises(Notice, match="longer than 200,000 characters"):
            capture_selection(x11, CaptureOptions(use_primary=True), Timeline(), max_characters=cap)
    finally:
        owner.stop()


def test_a_clipboard_format_over_the_cap_is_not_read_and_is_said_once(session: DesktopSession) -> None:
    from phitray.desktop.x11_clipboard import X11Clipboard

    owner = Peer(session, "owner", "CLIPBOARD", "image/png", "100")
    notices: list[str] = []
    clipboard = X11Clipboard(session.display, notify=notices.append)
    try:
        first, second = clipboard.snapshot(), clipboard.snapshot()
        assert first.is_empty and first.left_out and "image/png (100.0 MB+" in first.left_out[0]
        assert second.left_out == first.left_out
        assert len(notices) == 1 and "image/png" in notices[0]
        assert not [line for line in owner.lines() if line.get("sent")]  # announced as 100 MB, never fetched
    finally:
        clipboard.close()
        owner.stop()


# --- the clipboard outlives the agent --------------------------------------------------


def test_closing_hands_every_format_to_a_holder_that_leaves_at_the_next_copy(
        session: DesktopSession, x11: Desktop) -> None:
    session.set_clipboard("<b>my precious clipboard</b>", target="text/html")
    snapshot = x11.clipboard.snapshot()
    x11.clipboard.offer_text("an answer")
    x11.clipboard.restore(snapshot)
    x11.clipboard.close()
    assert session.run("xclip", "-o", "-selection", "clipboard", "-t", "text/html") == "<b>my precious clipboard</b>"
    assert len(holders(session)) == 1
    session.set_clipboard("the person copies something else")
    until(lambda: not holders(session), "the holder to leave", 5)


def test_a_clipboard_manager_that_never_answers_costs_two_seconds_and_the_holder_keeps_the_clipboard(
        session: DesktopSession, x11: Desktop) -> None:
    from phitray.desktop.x11_keeper import MANAGER_SECONDS

    hung = Peer(session, "hung-manager")
    try:
        session.set_clipboard("my precious clipboard")
        x11.clipboard.restore(x11.clipboard.snapshot())  # the agent owns it, as after every job
        started = time.monotonic()
        x11.clipboard.close()
        assert MANAGER_SECONDS <= time.monotonic() - started < MANAGER_SECONDS + 4
        assert hung.first("ignored") == "SAVE_TARGETS"
        assert session.clipboard() == "my precious clipboard" and len(holders(session)) == 1
    finally:
        hung.stop()


def test_a_holder_that_cannot_start_or_an_x_server_that_died_does_not_hold_up_quitting(
        session: DesktopSession, x11: Desktop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import socket

    from phitray.desktop.x11_clipboard import X11Clipboard

    session.set_clipboard("my precious clipboard")
    x11.clipboard.restore(x11.clipboard.snapshot())
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    started = time.monotonic()
    x11.clipboard.close()
    assert time.monotonic() - started < 2 and not holders(session)
    # The X connection breaks (the server died, the session ended) while the agent owns the clipboard.
    clipboard = X11Clipboard(session.display)
    clipboard.keep_text("owned when the connection breaks")
    clipboard._display.display.socket.shutdown(socket.SHUT_RDWR)
    started = time.monotonic()
    clipboard.close()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("manager", [False, True], ids=["holder", "clipboard-manager"])
def test_quitting_after_a_picker_job_leaves_the_persons_clipboard(
        session: DesktopSession, agent_paths: Paths, tmp_path: Path, manager: bool) -> None:
    paths = Paths(config_dir=tmp_path / "config", data_dir=agent_paths.data_dir, cache_dir=agent_paths.cache_dir,
                  log_dir=tmp_path / "log")
    keeper = Peer(session, "manager") if manager else None
    editor = open_text_widget(session, f"editor-quit-{manager}")
    # An edit whose answer is always pasted, whatever the starter says: the paste is what makes the agent the
    # clipboard's owner until it quits.
    paths.user_actions_dir.mkdir(parents=True, exist_ok=True)
    (paths.user_actions_dir / "pasted.toml").write_text(
        'id = "pasted"\ntitle = "Pasted"\noutput = "replace"\nmax_new_tokens = 20\n'
        'prompt = """Proofread the text between <text> and </text>.\n\n$text"""\n\n'
        '[checks]\nsame_language = false\nno_loop = false\nno_prompt_echo = false\n', encoding="utf-8")
    agent = start_agent(session, paths, HOTKEY_SETTINGS)
    try:
        editor.fill("Fix this sentence please.")
        editor.select_all()
        session.set_clipboard("my precious clipboard")
        jobs = len(agent.jobs())
        # As a quick typist does: the picker is not on screen yet, and the keys must reach it, not the editor.
        session.xdotool("key", "ctrl+alt+space", "sleep", "0.05", "type", "--delay", "30", "pasted")
        session.xdotool("key", "Return")
        picked = agent.wait_job(jobs + 2)
        assert (agent.wait_job(jobs + 1).capture, picked.outcome, picked.output) == ("primary", "done", "replace"), \
            agent.log()[-2000:]
        assert agent.stop() == 0, agent.output()
        assert session.clipboard() == "my precious clipboard"
        if keeper is not None:
            assert "UTF8_STRING" in keeper.first("saved")
            assert not holders(session)
        else:
            assert len(holders(session)) == 1
    finally:
        agent.stop()
        editor.close()
        if keeper is not None:
            keeper.stop()
        end_holders(session)


def test_holders_left_behind_by_the_tests_are_none(session: DesktopSession) -> None:
    assert holders(session) == [], os.listdir(session.folder)
