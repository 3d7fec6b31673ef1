"""Putting a result back: offer it, send Ctrl+V to the window it belongs in, wait for the read, restore.

The paste counts as seen only when the target reads the offer (X11 sees the
request; Windows renders on demand). The person's clipboard is given back
whether or not the paste was seen.
"""

from __future__ import annotations

from phitray.desktop import Clipboard, Desktop, Snapshot
from phitray.jobs.capture import CaptureOptions, wait_for_release
from phitray.jobs.timeline import Timeline


def paste_text(desktop: Desktop, text: str, snapshot: Snapshot, options: CaptureOptions, timeline: Timeline,
               window: int | None = None) -> bool:
    """Paste `text` into `window` (already in front), or where the keyboard focus is, then restore
    `snapshot`. True if the paste was seen."""
    clipboard: Clipboard = desktop.clipboard
    window = desktop.focus.current() if window is None else window
    traits = desktop.focus.traits(window)
    offer = clipboard.offer_text(text)
    wait_for_release(desktop.keys, options.release_timeout)
    timeline.mark("paste_sent")
    offer.expect_paste(window)
    desktop.keys.send_paste(traits.terminal)
    taken = offer.wait_taken(options.paste_timeout)
    timeline.mark("paste_taken" if taken else "paste_not_seen")
    clipboard.restore(snapshot)
    timeline.mark("clipboard_restored")
    return taken
