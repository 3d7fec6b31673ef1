"""The clipboard holders (agent/desktop/x11_keeper.py) an X11 desktop's close hands the clipboard to, found
and ended the way a person ends them: by copying something else."""

from __future__ import annotations

from pathlib import Path

from helpers.desktop import DesktopSession
from helpers.waiting import until


def holders(session: DesktopSession) -> list[int]:
    """The clipboard holders serving this session's display."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes().split(b"\0") if b"x11_keeper" in command else []
        except OSError:
            continue
        if f"DISPLAY={session.display}".encode() in environment:
            found.append(int(entry.name))
    return found


def end_holders(session: DesktopSession) -> None:
    """Another copy ends a holder, as it does for a person."""
    if holders(session):
        session.set_clipboard("the next copy")
        until(lambda: not holders(session), "the holder to leave", 5)
