"""The X11 adapters on their own, on a private Xvfb: key grabs, the synthetic-key guard, the release wait,
the clipboard owner's snapshot and restore with several formats."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from helpers.desktop import DesktopSession, missing_tools, open_text_widget, start_session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    if missing_tools():
        pytest.fail(f"missing desktop tools {missing_tools()}: run scripts/desktop-deps.sh --test")
    desktop = start_session(tmp_path_factory.mktemp("x11"), tray=False)
    yield desktop
    desktop.stop()


def test_the_agents_own_ctrl_c_never_completes_a_hotkey_the_person_holds(session: DesktopSession, x11: object) -> None:
    from phitray.hotkeys import parse_combo

    fired: list[str] = []
    x11.hotkeys.start({parse_combo("ctrl+alt+c"): lambda: fired.append("c")})  # type: ignore[attr-defined]
    session.xdotool("keydown", "alt")
    x11.keys.send_copy()  # type: ignore[attr-defined]
    time.sleep(0.3)
    session.xdotool("keyup", "alt")
    assert fired == []
    time.sleep(0.2)  # after the guard's tail, the person's own combo counts
    session.xdotool("key", "ctrl+alt+c")
    deadline = time.monotonic() + 3
    while not fired and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fired == ["c"]
    assert session.keys_down() == []


def test_the_release_wait_holds_while_a_key_is_down_and_ends_at_keyup(session: DesktopSession, x11: object) -> None:
    from phitray.jobs.capture import wait_for_release

    session.xdotool("keydown", "ctrl")
    assert x11.keys.modifiers_held() == ("ctrl",)  # type: ignore[attr-defined]
    ended = threading.Event()
    waiter = threading.Thread(target=lambda: (wait_for_release(x11.keys, 5.0), ended.set()))  # type: ignore[attr-defined]
    waiter.start()
    time.sleep(0.3)
    assert not ended.is_set()
    released_at = time.monotonic()
    session.xdotool("keyup", "ctrl")
    assert ended.wait(2)
    assert time.monotonic() - released_at < 0.5
    waiter.join()


def test_the_release_wait_lets_go_of_stuck_modifiers_after_its_timeout(session: DesktopSession, x11: object) -> None:
    from phitray.jobs.capture import wait_for_release

    session.xdotool("keydown", "shift")
    assert not wait_for_release(x11.keys, 0.2)  # type: ignore[attr-defined]
    assert session.keys_down() == []


def test_a_taken_combo_is_reported_not_fatal(session: DesktopSession, x11: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from phitray.desktop.x11 import SyntheticGuard, X11Hotkeys
    from phitray.hotkeys import parse_combo

    x11.hotkeys.start({parse_combo("ctrl+alt+t"): lambda: None})  # type: ignore[attr-defined]
    other = X11Hotkeys(SyntheticGuard(), session.display)
    other.start({parse_combo("ctrl+alt+t"): lambda: None, parse_combo("ctrl+alt+u"): lambda: None})
    assert other.problems == ["ctrl+alt+t is already taken by another program"]
    other.stop()


def test_snapshot_and_restore_keep_every_format_and_the_paste_is_seen(session: DesktopSession, x11: object) -> None:
    widget = open_text_widget(session, "editor")
    try:
        session.set_clipboard("<i>formatted</i>", target="text/html")
        clipboard = x11.clipboard  # type: ignore[attr-defined]
        snapshot = clipboard.snapshot()
        assert "text/html" in [item.target for item in snapshot.items]
        widget.fill("select me")
        widget.select_all()
        mark = clipboard.change_mark()
        x11.keys.send_copy()  # type: ignore[attr-defined]
        assert clipboard.wait_for_change(mark, 1.0)
        assert clipboard.read_text() == "select me"
        assert clipboard.read_selection() == "select me"  # PRIMARY, without any copy
        offer = clipboard.offer_text("pasted ✓ 😀")
        offer.expect_paste(int(widget.window))  # only the target's read after Ctrl+V is the paste
        x11.keys.send_paste()  # type: ignore[attr-defined]
        assert offer.wait_taken(2.0)
        clipboard.restore(snapshot)
        assert widget.wait_text(lambda text: text != "select me") == "pasted ✓ 😀"
        assert session.run("xclip", "-o", "-selection", "clipboard", "-t", "text/html") == "<i>formatted</i>"
        big = "large " * 200_000  # 1.2 MB: more than one X request, so INCR both ways
        session.set_clipboard(big)
        snapshot = clipboard.snapshot()
        clipboard.offer_text("x")
        clipboard.restore(snapshot)
        assert session.clipboard() == big
    finally:
        widget.close()
