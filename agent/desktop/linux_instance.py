"""Linux and the other Unix desktops: the single-instance address is a Unix socket in a private
(0700) folder; the socket itself is the lock."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

assert sys.platform != "win32"  # tells type checkers for Windows to stop here

FAMILY = "AF_UNIX"


def address(tag: str) -> str:
    base = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(tempfile.gettempdir(), f"phitray-{os.getuid()}")
    folder = Path(base)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; set XDG_RUNTIME_DIR.")
    return str(folder / f"phitray-{tag}.sock")


class Claim:
    """Nothing beyond the socket: binding it is the lock."""

    def release(self) -> None:
        pass


def claim(socket_path: str) -> Claim | None:
    return Claim()


def remove_leftover(socket_path: str) -> bool:
    """Remove the socket file a listener leaves behind (an agent that died, or this one closing)."""
    Path(socket_path).unlink(missing_ok=True)
    return True
