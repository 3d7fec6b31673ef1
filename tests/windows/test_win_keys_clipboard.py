"""Hotkeys, key state, and capture/paste in a Win32 edit control, through the project's Windows adapters."""

from __future__ import annotations

import queue
import threading
import time

from phitray.jobs.capture import CaptureOptions, capture_selection, wait_for_release
from phitray.jobs.paste import paste_text
from phitray.jobs.timeline import Timeline
from phitray.desktop.windows import VK_LCONTROL
from phitray.desktop.snapshot import ClipboardSnapshot
from phitray.desktop.windows_clipboard import WinClipboard, WinFormat
from phitray.hotkeys import parse_combo

from helpers.wine import Notepad, wait_until, xdo

VK_MENU_LEFT, VK_S = 0xA4, 0x53


def test_a_combo_typed_on_the_x_side_reaches_the_hotkey_queue(desktop: object, notepad: Notepad) -> None:
    fired: "queue.SimpleQueue[str]" = queue.SimpleQueue()
    desktop.hotkeys.start({parse_combo("ctrl+alt+s"): lambda: fired.put("ctrl+alt+s")})  # type: ignore[attr-defined]
    try:
        notepad.focus()
        xdo("xdotool", "key", "ctrl+alt+s")
        assert fired.get(timeout=5) == "ctrl+alt+s"
        # The agent's own keys never re-enter it: the same combo sent through SendInput.
        desktop.keys.send_chord([VK_LCONTROL, VK_MENU_LEFT], VK_S)  # type: ignore[attr-defined]
        time.sleep(0.5)
        assert fired.empty()
    finally:
        desktop.hotkeys.stop()  # type: ignore[attr-defined]


def test_the_release_wait_follows_getasynckeystate(desktop: object, notepad: Notepad) -> None:
    notepad.focus()
    xdo("xdotool", "keydown", "ctrl")
    try:
        wait_until(lambda: desktop.keys.modifiers_held() == ("ctrl",), 5, "Ctrl to be seen held")  # type: ignore[attr-defined]
        ended = threading.Event()
        threading.Thread(target=lambda: (wait_for_release(desktop.keys, 10.0), ended.set()), daemon=True).start()  # type: ignore[attr-defined]
        time.sleep(0.5)
        assert not ended.is_set(), "the wait ended while Ctrl was still down"
    finally:
        xdo("xdotool", "keyup", "ctrl")
    assert ended.wait(3)
    assert desktop.keys.modifiers_held() == ()  # type: ignore[attr-defined]


def test_a_bound_hotkeys_key_counts_as_held_and_a_key_no_hotkey_uses_does_not(desktop: object, notepad: Notepad) -> None:
    """The release wait asks only the modifiers and the bound keys (windows_rules.keys_to_wait_for), so a key
    that reads as held for good (a Japanese keyboard's IME mode key) cannot stall every capture."""
    desktop.hotkeys.start({parse_combo("ctrl+alt+s"): lambda: None})  # type: ignore[attr-defined]
    notepad.focus()
    try:
        xdo("xdotool", "keydown", "s")
        wait_until(lambda: desktop.keys.any_key_held(), 5, "S, a bound hotkey's key, to count as held")  # type: ignore[attr-defined]
        xdo("xdotool", "keyup", "s")
        wait_until(lambda: not desktop.keys.any_key_held(), 5, "S to be seen let go")  # type: ignore[attr-defined]
        xdo("xdotool", "keydown", "q")
        time.sleep(0.3)
        assert not desktop.keys.any_key_held()  # type: ignore[attr-defined]
    finally:
        xdo("xdotool", "keyup", "s", "keyup", "q")
        desktop.hotkeys.stop()  # type: ignore[attr-defined]
        notepad.write_and_select("")


def test_capture_and_paste_in_notepad_give_back_every_clipboard_format(desktop: object, notepad: Notepad) -> None:
    other_program = WinClipboard()  # another owner, as a person's clipboard has
    html = b"Version:0.9\r\nStartHTML:0000000105\r\nEndHTML:0000000150\r\n<html><b>bold</b></html>"
    dib = bytes(40) + bytes(range(48))  # a header-sized block and pixels: the bytes only have to come back
    before = ClipboardSnapshot((WinFormat("", 13, "the person's clipboard ✓\0".encode("utf-16-le")),
                                WinFormat("HTML Format", 0, html), WinFormat("", 8, dib)))
    other_program.restore(before)
    seeded = _formats(other_program)
    assert set(seeded) == {("", 13), ("HTML Format", 0), ("", 8)}

    notepad.focus()
    xdo("xdotool", "key", "ctrl+a", "BackSpace")
    xdo("xdotool", "type", "--delay", "20", "selected words")
    wait_until(lambda: notepad.text() == "selected words", 10, "the typing")
    xdo("xdotool", "key", "ctrl+a")
    options = CaptureOptions(copy_timeout=2.0, paste_timeout=2.0)
    timeline = Timeline()
    captured = capture_selection(desktop, options, timeline)  # type: ignore[arg-type]
    assert captured.text == "selected words"
    assert _formats(other_program) == seeded  # given back right after the copy
    taken = paste_text(desktop, "the model's answer", captured.snapshot, options, timeline)  # type: ignore[arg-type]
    wait_until(lambda: notepad.text() == "the model's answer", 10, "the paste")
    assert taken, "the paste was not seen through delayed rendering"
    assert _formats(other_program) == seeded
    print("timeline", timeline.milliseconds())
    other_program.close()


def _formats(clipboard: WinClipboard) -> dict[tuple[str, int], bytes]:
    """The seeded formats as the clipboard holds them now: Unicode text, HTML, DIB (not the synthesized ones)."""
    found = {(name, 0 if name else fmt): data for name, fmt, data in clipboard.snapshot().items}
    return {key: data for key, data in found.items() if key in (("", 13), ("HTML Format", 0), ("", 8))}
