"""The Windows desktop layer where Wine can show it (WINDOWS.md § What a test under Wine can prove):
hotkeys another program holds, stale key state, scan codes, clipboard readers and holders, window
traits. What Wine cannot show is pinned at our own seam in tests/test_windows_rules.py."""

from __future__ import annotations

import ctypes
import queue
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from phitray.app_profiles import parse_apps, profile_for
from phitray.desktop.windows import VK_C, VK_INSERT, KEYEVENTF_EXTENDEDKEY, key_inputs
from phitray.desktop.windows_input import VIRTUAL_KEYS, layout_problem, typed_character, user32 as input_user32
from phitray.desktop.windows_clipboard import SNAPSHOT_CALL_SECONDS, WinClipboard
from phitray.jobs.capture import CaptureOptions, capture_selection
from phitray.jobs.paste import paste_text
from phitray.jobs.timeline import Timeline
from phitray.errors import DesktopError
from phitray.hotkeys import parse_combo

from helpers.wine import Notepad, wait_until, xdo

PEER = Path(__file__).parent.parent / "helpers" / "clipboard_peer.py"
OWN = "the person's own clipboard ✓"


@contextmanager
def peer(*args: str) -> Iterator[subprocess.Popen[str]]:
    """Another program, started and ready (clipboard_peer.py)."""
    process = subprocess.Popen([sys.executable, str(PEER), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first == "ready", f"the peer did not start: {first!r}"
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_combo_another_program_holds_is_reported_taken(desktop: object) -> None:
    with peer("hotkey", "ctrl+alt+f9"):
        desktop.hotkeys.start({parse_combo("ctrl+alt+f9"): lambda: None, parse_combo("ctrl+alt+f10"): lambda: None})  # type: ignore[attr-defined]
        try:
            assert desktop.hotkeys.problems == ["ctrl+alt+f9 is already taken by another program"]  # type: ignore[attr-defined]
        finally:
            desktop.hotkeys.stop()  # type: ignore[attr-defined]


def test_a_hotkey_still_fires_after_a_key_up_that_never_came(desktop: object, notepad: Notepad) -> None:
    """Win+L, UAC or sleep swallow key-ups: a key Windows thinks is still down must not kill the hotkeys."""
    fired: "queue.SimpleQueue[str]" = queue.SimpleQueue()
    desktop.hotkeys.start({parse_combo("ctrl+alt+s"): lambda: fired.put("ctrl+alt+s")})  # type: ignore[attr-defined]
    notepad.focus()
    try:
        desktop.keys._send([(VIRTUAL_KEYS["q"], False), (0xA2, False)])  # type: ignore[attr-defined]  # no key-ups
        time.sleep(0.5)
        xdo("xdotool", "key", "ctrl+alt+s")
        assert fired.get(timeout=5) == "ctrl+alt+s"
    finally:
        desktop.keys._send([(VIRTUAL_KEYS["q"], True), (0xA2, True)])  # type: ignore[attr-defined]
        desktop.hotkeys.stop()  # type: ignore[attr-defined]


def test_every_injected_key_carries_its_scan_code() -> None:
    """Remote desktop and VM clients forward scan codes: an event with none is lost there."""
    copy = key_inputs([(VK_C, False), (VK_C, True)])
    assert copy[0].union.ki.wScan == 0x2E and copy[1].union.ki.wScan == 0x2E  # the C key on every PC keyboard
    insert = key_inputs([(VK_INSERT, False)])[0].union.ki
    assert insert.wScan == 0x52 and insert.dwFlags & KEYEVENTF_EXTENDEDKEY


def test_the_layout_check_reads_the_keyboard_layout() -> None:
    layout = input_user32.GetKeyboardLayout(0)
    assert typed_character(VIRTUAL_KEYS["a"], False, False, layout) == "a"
    assert typed_character(VIRTUAL_KEYS["a"], True, False, layout) == "A"
    # Wine's US layout types nothing for Ctrl+Alt+P; real Polish or Czech layouts do (test_windows_rules.py).
    assert layout_problem(parse_combo("ctrl+alt+p")) == ""


def test_a_clipboard_reader_never_makes_the_paste_look_taken(desktop: object, notepad: Notepad) -> None:
    """A clipboard manager reads every change, the paste offer too: only Notepad's read after Ctrl+V counts."""
    desktop.clipboard.keep_text(OWN)  # type: ignore[attr-defined]
    notepad.write_and_select("selected words")
    options = CaptureOptions(copy_timeout=2.0, paste_timeout=3.0)
    captured = capture_selection(desktop, options, Timeline())  # type: ignore[arg-type]
    with peer("read") as reader:
        window = desktop.focus.current()  # type: ignore[attr-defined]
        assert paste_text(desktop, "the model's answer", captured.snapshot, options, Timeline(), window)  # type: ignore[arg-type]
        wait_until(lambda: notepad.text() == "the model's answer", 10, "the paste")
        assert desktop.clipboard.read_text() == OWN  # type: ignore[attr-defined]
        # The person's text came back, and the restore is kept out of the clipboard history and cloud sync.
        restored = {name for name, _, _ in desktop.clipboard.snapshot().items}  # type: ignore[attr-defined]
        assert {"CanIncludeInClipboardHistory", "CanUploadToCloudClipboard", "Clipboard Viewer Ignore"} <= restored, \
            restored
        reader.kill()
        assert reader.stdout is not None
        reads = reader.stdout.read().splitlines()
    assert "read None" in reads, f"the reader never tried the offer: {reads}"  # it was refused, not answered
    assert "read \"the model's answer\"" not in reads


def test_where_ui_automation_gives_no_selection_the_capture_copies(desktop: object, notepad: Notepad) -> None:
    """Windows reads Notepad's selection through UI Automation (windows_uia.py; the seam is in
    tests/test_capture.py); Wine 8's IUIAutomation.GetFocusedElement is a stub (E_NOTIMPL), which is what an app
    without TextPattern looks like: no answer from there, and the capture copies with Ctrl+C and gives the
    person's clipboard back."""
    desktop.clipboard.keep_text(OWN)  # type: ignore[attr-defined]
    notepad.write_and_select("copied after all")
    assert desktop.clipboard.read_selection(notepad.hwnd) is None  # type: ignore[attr-defined]
    captured = capture_selection(desktop, CaptureOptions(copy_timeout=2.0), Timeline())  # type: ignore[arg-type]
    assert (captured.text, captured.path) == ("copied after all", "copy"), captured
    assert desktop.clipboard.read_text() == OWN  # type: ignore[attr-defined]


def test_what_the_person_keeps_stays_in_their_history_but_never_syncs(desktop: object) -> None:
    desktop.clipboard.keep_text("an answer they copied")  # type: ignore[attr-defined]
    kept = {name for name, _, _ in desktop.clipboard.snapshot().items}  # type: ignore[attr-defined]
    assert "CanUploadToCloudClipboard" in kept and "CanIncludeInClipboardHistory" not in kept, kept


def test_offers_and_restores_tell_clipboard_managers_to_pass_over_them_and_what_is_kept_does_not(
        desktop: object) -> None:
    """Ditto and CLCL skip a change that carries "Clipboard Viewer Ignore"; they look with
    IsClipboardFormatAvailable, which never asks the paste offer for its text."""
    clipboard, user32 = desktop.clipboard, ctypes.WinDLL("user32")  # type: ignore[attr-defined]
    ignore = user32.RegisterClipboardFormatW("Clipboard Viewer Ignore")
    assert ignore
    clipboard.keep_text(OWN)
    assert not user32.IsClipboardFormatAvailable(ignore)  # the person's own copy stays theirs to keep
    snapshot = clipboard.snapshot()
    clipboard.offer_text("the model's answer")
    assert user32.IsClipboardFormatAvailable(ignore)
    clipboard.restore(snapshot)
    assert user32.IsClipboardFormatAvailable(ignore) and clipboard.read_text() == OWN
    clipboard.keep_text(OWN)


def test_one_huge_format_is_left_out_of_the_snapshot_not_copied_whole(desktop: object) -> None:
    """A 70 MB private format beside the text: the snapshot keeps the text and counts the big one out."""
    clipboard = desktop.clipboard  # type: ignore[attr-defined]
    small = ("small text" + "\0").encode("utf-16-le")
    clipboard._call(lambda: clipboard._write([("PhiTrayTestHuge", 0, b"x" * 70_000_000), ("", 13, small)]))
    snapshot = clipboard.snapshot()
    assert len(snapshot.left_out) == 1 and "(too large)" in snapshot.left_out[0], snapshot.describe()
    assert any(fmt == 13 and data.startswith(small) for _, fmt, data in snapshot.items), snapshot.items
    assert all(len(data) < 1_000_000 for _, _, data in snapshot.items)
    clipboard.keep_text(OWN)


def test_a_restore_waits_for_a_program_that_keeps_the_clipboard_open(desktop: object, notepad: Notepad) -> None:
    desktop.clipboard.keep_text(OWN)  # type: ignore[attr-defined]
    snapshot = desktop.clipboard.snapshot()  # type: ignore[attr-defined]
    with peer("hold") as holder:
        desktop.clipboard.keep_text("the model's answer")  # type: ignore[attr-defined]  # the holder opens it now
        time.sleep(0.1)
        started = time.monotonic()
        desktop.clipboard.restore(snapshot)  # type: ignore[attr-defined]
        waited = time.monotonic() - started
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert desktop.clipboard.read_text() == OWN  # type: ignore[attr-defined]
    assert waited > 0.3, f"the clipboard was never busy ({waited:.2f} s): the test proved nothing"


def test_notepad_is_the_persons_window_reachable_and_no_terminal(desktop: object, notepad: Notepad) -> None:
    notepad.focus()
    assert desktop.focus.current() == notepad.hwnd  # type: ignore[attr-defined]
    traits = desktop.focus.traits(notepad.hwnd)  # type: ignore[attr-defined]
    assert (traits.terminal, traits.slow_copy, traits.unreachable) == (False, False, "")
    # Which app it is, for per-app profiles: the program's file name, its window class and title.
    # Wine 8 reads neither the class nor the title of another process's window (Windows does): empty here.
    assert traits.program.lower() == "notepad.exe" and traits.classes in ((), ("Notepad",))
    profile = profile_for(parse_apps([{"program": "notepad"}], "settings.toml")[0], traits.program, traits.classes,
                          traits.title)
    assert profile is not None and profile.name == "notepad"


def test_a_window_that_is_gone_is_not_activated(desktop: object) -> None:
    user32 = ctypes.WinDLL("user32")
    create = user32.CreateWindowExW
    create.restype = ctypes.c_void_p
    create.argtypes = [ctypes.c_uint32, ctypes.c_wchar_p, ctypes.c_wchar_p, ctypes.c_uint32, *[ctypes.c_int] * 4,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    hwnd = create(0, "STATIC", "soon gone", 0x10000000, 10, 10, 100, 40, None, None, None, None)  # WS_VISIBLE
    assert hwnd and desktop.focus.activate(hwnd)  # type: ignore[attr-defined]
    user32.DestroyWindow(ctypes.c_void_p(hwnd))
    assert not desktop.focus.activate(hwnd)  # type: ignore[attr-defined]


def test_a_hung_clipboard_owner_gives_a_message_that_names_it() -> None:
    """A snapshot asks the owner to render its delayed formats; one that hangs must not hang the agent
    silently. A clipboard object of its own: the hung call keeps its thread until the owner dies."""
    clipboard = WinClipboard()
    with peer("hang"):
        started = time.monotonic()
        with pytest.raises(DesktopError) as raised:
            clipboard.snapshot()
        waited = time.monotonic() - started
    assert "python.exe" in str(raised.value) and "not responding" in str(raised.value), raised.value
    assert waited < SNAPSHOT_CALL_SECONDS + 2, f"the snapshot waited {waited:.1f} s"
