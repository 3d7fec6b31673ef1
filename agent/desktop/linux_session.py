"""What the kind of Linux session leaves the agent able to do.

On a Wayland session `DISPLAY` is XWayland's, so the X11 adapters start; but X11 key grabs fire
only while an X11 program has the focus, and keys sent through XTEST reach only X11 programs.
Over a native Wayland window a hotkey does nothing, and nothing would say why.
"""

from __future__ import annotations

from collections.abc import Mapping

# A notice shows at most 255 characters (what Windows allows; cut alike everywhere).
WAYLAND_LIMITS = (
    "Wayland session: hotkeys work only while an X11 (XWayland) program has the focus; over Wayland programs "
    "they do nothing. Anywhere: copy the text, then use \"Run on clipboard text\" in the tray menu.")


def is_wayland(environ: Mapping[str, str]) -> bool:
    """A Wayland session, as its environment says (XDG_SESSION_TYPE, or a WAYLAND_DISPLAY to connect to)."""
    return environ.get("XDG_SESSION_TYPE", "").strip().lower() == "wayland" or bool(environ.get("WAYLAND_DISPLAY"))


def session_limits(environ: Mapping[str, str]) -> str:
    """What the agent cannot do in this session, said once at start; "" where it can do everything."""
    return WAYLAND_LIMITS if is_wayland(environ) else ""
