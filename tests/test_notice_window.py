"""The agent's notice window (agent/ui/notice_window.py) on a real X desktop: it shows near the pointer, the
person's editor keeps the keyboard (typing goes on into it), a new notice takes the old one's place, and it
goes away by itself. tests/windows/test_win_ui.py shows the same with Notepad under Wine."""

from __future__ import annotations

import time
import tkinter
from collections.abc import Iterator

import pytest

from helpers.desktop import DesktopSession, TextWidget, missing_tools, open_text_widget
from phitray.ui.notice_window import BASE_MS, LONGEST_MS, NoticeWindow, showing_ms, title_for

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")


def test_a_notice_is_named_by_its_first_line_cut_to_fit() -> None:
    assert title_for("No text is selected.\nSelect some text first.") == "Phi Tray — No text is selected."
    long = title_for("x" * 500)
    assert long.endswith("…") and len(long) == len("Phi Tray — ") + 120


def test_a_notice_stays_long_enough_to_read_and_not_for_ever() -> None:
    assert showing_ms("Busy.") == BASE_MS + 5 * 45
    assert showing_ms("x" * 100) > showing_ms("x" * 10)
    assert showing_ms("x" * 100_000) == LONGEST_MS


@pytest.fixture(scope="module")
def desktop(tk_display: DesktopSession) -> Iterator[tuple[DesktopSession, TextWidget, tkinter.Tk]]:
    """The session's display for Tk in the test process (conftest.tk_display), and an editor on it."""
    editor = open_text_widget(tk_display)
    root = tkinter.Tk(screenName=tk_display.display)
    root.withdraw()
    yield tk_display, editor, root
    root.destroy()
    editor.close()


def pump(root: tkinter.Tk, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)


def notice_windows(session: DesktopSession, words: str = "") -> list[str]:
    """The notice windows showing (whose first line begins with `words`)."""
    return session.run("xdotool", "search", "--onlyvisible", "--name", f"^Phi Tray .* {words}", check=False).split()


def test_the_notice_shows_near_the_pointer_and_the_editor_keeps_the_keyboard(
    desktop: tuple[DesktopSession, TextWidget, tkinter.Tk]
) -> None:
    session, editor, root = desktop
    editor.fill("before ")
    session.xdotool("mousemove", "400", "300")
    notice = NoticeWindow(root)
    notice.show("No text is selected: select some text first, then press the hotkey.")
    pump(root, 1.0)
    shown = notice_windows(session, "No text is selected")
    assert len(shown) == 1
    geometry = session.xdotool("getwindowgeometry", shown[0])
    x, y = (int(n) for n in geometry.split("Position: ")[1].split(" ")[0].split(","))
    assert 400 < x < 460 and 300 < y < 360, geometry  # below and right of the pointer
    assert session.xdotool("getwindowfocus").strip() == editor.window
    session.xdotool("type", "--delay", "20", "after")  # the person types on, into their document
    pump(root, 0.5)
    assert editor.wait_text(lambda text: text == "before after", 5) == "before after"
    notice.show("Still working on the last action.")  # the next one takes its place
    pump(root, 0.5)
    assert notice_windows(session, "Still working") == shown
    assert notice_windows(session, "No text") == []
    notice.close()
    pump(root, 0.5)
    assert notice_windows(session) == []


def test_a_notice_goes_away_by_itself(desktop: tuple[DesktopSession, TextWidget, tkinter.Tk],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    session, _, root = desktop
    monkeypatch.setattr("phitray.ui.notice_window.BASE_MS", 300)
    monkeypatch.setattr("phitray.ui.notice_window.PER_CHARACTER_MS", 0)
    notice = NoticeWindow(root)
    notice.show("Cancelled.")
    pump(root, 0.2)
    assert notice.showing and notice_windows(session)
    pump(root, 1.0)
    assert notice_windows(session) == []


def test_a_notice_the_window_cannot_show_goes_to_the_fallback(
    desktop: tuple[DesktopSession, TextWidget, tkinter.Tk]
) -> None:
    session, _, _ = desktop
    gone = tkinter.Tk(screenName=session.display)
    said: list[tuple[str, str]] = []
    notice = NoticeWindow(gone, lambda message, title: said.append((message, title)))
    gone.destroy()  # Tk is gone (the agent quitting): the window cannot be made
    notice.show("The result is on the clipboard.", "delivered", "Concise")
    assert said == [("The result is on the clipboard.", "Phi Tray: Concise")]
