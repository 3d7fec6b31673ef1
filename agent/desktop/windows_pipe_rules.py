"""What the Windows single-instance pipe is named and who may open it, as plain functions: importable
and tested on every platform (the Win32 calls are in `windows_instance`)."""

from __future__ import annotations

import re

# A SID's string form: "S-1-", the identifier authority, then one or more sub-authorities.
SID_FORM = re.compile(r"S-1-\d+(-\d+)+", re.IGNORECASE)


def pipe_name(sid: str, session: int, tag: str) -> str:
    """The person's SID and logon session in the name: fast user switching and terminal servers run
    several people's agents side by side. A name is no protection (anyone can create any name first);
    the DACL and the client's check of the server's user are."""
    return rf"\\.\pipe\phitray-{sid}-{session}-{tag}"


def mutex_name(pipe: str) -> str:
    return "Local\\" + pipe.rsplit("\\", 1)[-1]  # Local\: this session's namespace


def owner_only_sddl(sid: str) -> str:
    """A security descriptor whose owner is `sid` and whose protected DACL ("P": nothing inherited is
    added) holds one entry, granting `sid` every right (GA): no other user, group or service may open
    the object. ValueError for anything but a SID, which must not bring SDDL of its own."""
    if not SID_FORM.fullmatch(sid):
        raise ValueError(f"not a SID: {sid!r}")
    return f"O:{sid}D:P(A;;GA;;;{sid})"
