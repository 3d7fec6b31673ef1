"""Taking the selected text: the sequence, once for every platform.

Capture: note the focused window. Where the window in front holds the PRIMARY
selection (X11), that is the selection: read it, and the clipboard is never
touched, so no clipboard history sees it. Otherwise snapshot the clipboard
(while the person may still hold the hotkey), wait until the hotkey's
modifiers are let go (a held Alt or Shift turns Ctrl+C into another shortcut
in GTK and Tk), send Ctrl+C and wait for the clipboard to change. No change in
time means nothing is selected: the clipboard then still holds older content,
which is never used. The snapshot goes back right after the copy, so the
person's clipboard is theirs again while the model works. Either read stops
one character past the engine's limit: a longer selection is said, not read.

Putting a result back is `paste.py`; the job's moments are `timeline.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from typing import Literal

from phitray.actions.markup import MAX_HTML_CHARS
from phitray.actions.runner import DEFAULT_MAX_CHARACTERS
from phitray.app_profiles import AppProfile
from phitray.desktop import Clipboard, Desktop, Focus, Keys, Snapshot, WindowTraits
from phitray.errors import Notice, NothingSelected, OutOfReach
from phitray.jobs.apps import App
from phitray.jobs.timeline import Timeline

POLL_SECONDS = 0.005  # only while a job waits for key-ups, never when idle
SLOW_COPY_SECONDS = 2.5  # the copy wait for windows known to be slow (Word, remote desktops)
MAX_HTML_BYTES = 4 * MAX_HTML_CHARS  # larger HTML is not read: the action works on the text


@dataclass(frozen=True)
class CaptureOptions:
    copy_timeout: float = 0.6
    release_timeout: float = 2.0
    paste_timeout: float = 1.5
    use_primary: bool = False  # X11: take PRIMARY whichever program holds it (otherwise only the front window's)


CapturePath = Literal["primary", "copy"]
# The window's profile from its traits (jobs/apps.py), asked before any key is sent; raises AppOff.
Resolve = Callable[[WindowTraits], AppProfile | None]


@dataclass(frozen=True)
class Captured:
    text: str
    snapshot: Snapshot | None  # the person's clipboard before the copy, already restored; None: never touched
    window: int | None  # where the selection was, for a later paste
    path: CapturePath = "copy"  # read where it is (X11's PRIMARY, Windows' UI Automation), or copied with Ctrl+C
    html: str | None = None  # the HTML a rich editor offered beside the text (bold, links, lists…), if any
    app: App = App()  # the window's program, never its title
    profile: AppProfile | None = None  # its per-app profile, resolved once for the job (and the picker's choice)


def wait_for_release(keys: Keys, timeout: float) -> bool:
    """True once no key is held; after `timeout`, release the modifiers ourselves and return False.

    Every key, not only the modifiers: on X11 the hotkey's own key keeps the
    keyboard grabbed by the agent until it is let go, and a Ctrl+C sent before
    that would come back to the agent instead of reaching the application.
    """
    deadline = time.monotonic() + timeout
    while keys.any_key_held():
        if time.monotonic() >= deadline:
            keys.release_modifiers()
            return False
        time.sleep(POLL_SECONDS)
    return True


def capture_selection(desktop: Desktop, options: CaptureOptions, timeline: Timeline, hold_keys: bool = False,
                      max_characters: int = DEFAULT_MAX_CHARACTERS, resolve: Resolve | None = None,
                      want_html: bool = False) -> Captured:
    """The selected text. With `hold_keys` (for the picker) the keyboard is the agent's from the start
    (as far as the platform allows before the copy) until the picker releases it, unless the capture fails.
    `resolve` gives the window's profile first: an app with Phi Tray off gets no key, not even the hold.
    `want_html`: the selection's formatting will be kept, so it is taken where its HTML comes with it."""
    keys = desktop.keys
    window = desktop.focus.current()
    traits = desktop.focus.traits(window)
    profile = resolve(traits) if resolve is not None else None
    if hold_keys:
        keys.hold_keyboard()
    try:
        captured = replace(_capture(desktop, window, traits, options, timeline, max_characters, want_html),
                           app=App.of(traits),
                           profile=profile)
    except BaseException:
        if hold_keys:
            keys.release_keyboard()
        raise
    if len(captured.text) > max_characters:
        if hold_keys:
            keys.release_keyboard()
        raise Notice(f"The selection is longer than {max_characters:,} characters: Phi Tray read that much, left "
                     "the rest and changed nothing. Select less, or raise engine.max_characters in the settings.")
    return captured


def bring_to_front(focus: Focus, window: int) -> bool:
    """True once `window` is in front: the keys the agent sends go to whichever window is."""
    return focus.in_front(window) or focus.activate(window)


def _capture(desktop: Desktop, window: int | None, traits: WindowTraits, options: CaptureOptions, timeline: Timeline,
             max_characters: int, want_html: bool = False) -> Captured:
    clipboard, keys = desktop.clipboard, desktop.keys
    if traits.unreachable:
        raise OutOfReach(traits.unreachable)
    # The front window's own selection; with no window known, only when the settings take any program's.
    if (window is not None or options.use_primary) and (not want_html or clipboard.selection_has_html()):
        primary = clipboard.read_selection(None if options.use_primary else window, max_characters)
        if primary and primary.strip():
            timeline.mark("modifiers_released")  # nothing waits on the keys: no key is sent
            timeline.mark("text_captured")
            return Captured(primary, None, window, "primary", clipboard.read_html(True, MAX_HTML_BYTES))
    snapshot = clipboard.snapshot()
    timeline.mark("snapshot_taken")
    wait_for_release(keys, options.release_timeout)
    timeline.mark("modifiers_released")
    # Ctrl+C goes to whatever is in front when it is sent. From the tray, the taskbar and the tray's
    # own window came to the front after the person's: bring theirs back, at the last moment.
    if window is not None and not bring_to_front(desktop.focus, window):
        clipboard.restore(snapshot)
        raise OutOfReach("The window with your selection did not come back to the front; click into it and "
                         "press the hotkey.")
    mark = clipboard.change_mark()
    keys.send_copy(traits.terminal)
    if traits.slow_copy:
        options = replace(options, copy_timeout=max(options.copy_timeout, SLOW_COPY_SECONDS))
    return _copied(clipboard, snapshot, window, mark, options, timeline, max_characters)


def _copied(clipboard: Clipboard, snapshot: Snapshot, window: int | None, mark: int, options: CaptureOptions,
            timeline: Timeline, max_characters: int) -> Captured:
    if not clipboard.wait_for_change(mark, options.copy_timeout):
        raise NothingSelected(
            f"No text is selected (nothing was copied within {options.copy_timeout * 1000:.0f} ms). "
            "Select some text, then press the hotkey again."
        )
    html = None
    try:
        text = clipboard.read_text(max_characters)
        if text is not None and len(text) <= max_characters:
            html = clipboard.read_html(max_bytes=MAX_HTML_BYTES)
    finally:
        clipboard.restore(snapshot)
        timeline.mark("clipboard_restored_after_copy")
    timeline.mark("text_captured")
    if text is None:
        raise NothingSelected("The selection is not text (an image or a file?); Phi Tray works on text.")
    return Captured(text, snapshot, window, html=html)
