"""Putting a result back: offer it, send Ctrl+V to the window it belongs in, wait for the read, restore.

The paste counts as seen only when the target reads the offer after Ctrl+V
(X11 asks which program the request came from; Windows renders on demand for
the target's process): a clipboard manager reading every change must not end
the wait. Nothing is given back before that read, up to a wait that fits the
window (remote desktops and VMs fetch the clipboard over the wire); past it
the person's clipboard comes back and the caller shows the answer instead.
The person's clipboard is given back whatever happens, a failed Ctrl+V too.
"""

from __future__ import annotations

from phitray.desktop import Clipboard, Desktop, Snapshot, WindowTraits
from phitray.jobs.capture import CaptureOptions, wait_for_release
from phitray.jobs.timeline import Timeline

SLOW_PASTE_SECONDS = 6.0  # the paste wait for windows known to be slow (remote desktops, VMs, Word)


def paste_wait(options: CaptureOptions, traits: WindowTraits) -> float:
    """How long the target may take to read the offer before the old clipboard comes back."""
    return max(options.paste_timeout, SLOW_PASTE_SECONDS) if traits.slow_copy else options.paste_timeout


def paste_text(desktop: Desktop, text: str, snapshot: Snapshot, options: CaptureOptions, timeline: Timeline,
               window: int | None = None, html: str | None = None) -> bool:
    """Paste `text` (and `html` beside it, for rich editors) into `window` (already in front), or where the
    keyboard focus is, then restore `snapshot`. True if the paste was seen."""
    clipboard: Clipboard = desktop.clipboard
    window = desktop.focus.current() if window is None else window
    traits = desktop.focus.traits(window)
    offer = clipboard.offer_text(text, html)
    try:
        wait_for_release(desktop.keys, options.release_timeout)
        timeline.mark("paste_sent")
        offer.expect_paste(window)
        desktop.keys.send_paste(traits.terminal)
        taken = offer.wait_taken(paste_wait(options, traits))
        timeline.mark("paste_taken" if taken else "paste_not_seen")
    finally:
        clipboard.restore(snapshot)
        timeline.mark("clipboard_restored")
    return taken
