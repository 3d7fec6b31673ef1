"""Writing a file whole or not at all: the one way the agent writes a file.

`write_file` writes a temporary file beside the one it replaces, flushes it to
the disk, moves it over the old one and flushes the folder, so a crash, a full
disk or a killed process leaves the old file or the new one, never part of
either. A symbolic link stays a link: the file it points to is written. A
replaced file keeps its permissions; a new one gets the umask's. Any failure
raises OSError, with the old file as it was and no temporary left behind.

Text the person edits may start with a UTF-8 byte-order mark (Notepad's old
habit); readers strip it (`decode_text`), and a writer that keeps the person's
file as it was puts it back (`encode_text`).
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from pathlib import Path

BOM = "\ufeff"
# Windows refuses to replace a file another program holds open (a virus scanner, an indexer, an editor)
# with ERROR_ACCESS_DENIED or ERROR_SHARING_VIOLATION; such holds last moments, so the move is tried again.
HELD_ERRORS = (5, 32)
HELD_RETRIES = (0.05, 0.1, 0.2, 0.4)


def decode_text(data: bytes) -> tuple[str, bool]:
    """The UTF-8 text of a file and whether it started with a byte-order mark (UnicodeDecodeError if not UTF-8)."""
    text = data.decode("utf-8")
    return (text[1:], True) if text.startswith(BOM) else (text, False)


def encode_text(text: str, bom: bool = False) -> bytes:
    return ((BOM if bom else "") + text).encode("utf-8")


def write_text(path: Path, text: str, bom: bool = False, private: bool = False) -> Path:
    """`write_file` for UTF-8 text, line ends as given."""
    return write_file(path, encode_text(text, bom), private)


def write_file(path: Path, data: bytes, private: bool = False) -> Path:
    """Replace the file at `path` (or the file its link points to) with `data`, durably; returns the path written.
    `private`: readable and writable by the person alone (0600 where POSIX modes apply), from its first byte."""
    target = Path(os.path.realpath(path))
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    if private:
        mode = 0o600
    temporary, handle = _temporary_beside(target, 0o600 if private else 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            os.fsync(handle)
        finally:
            os.close(handle)
        if mode is not None:
            os.chmod(temporary, mode)
        _replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_folder(folder)
    return target


def _temporary_beside(target: Path, mode: int = 0o666) -> tuple[Path, int]:
    """A new hidden file in the target's folder (same file system, so the move is atomic), opened for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = target.with_name(f".{target.name[:180]}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue


def _replace(temporary: Path, target: Path) -> None:
    for pause in (*HELD_RETRIES, None):
        try:
            os.replace(temporary, target)
            return
        except PermissionError as error:
            if pause is None or getattr(error, "winerror", None) not in HELD_ERRORS:
                raise
            time.sleep(pause)


def _sync_folder(folder: Path) -> None:
    """Make the move itself durable where a folder can be opened (not on Windows). Some file systems refuse a
    folder's fsync; the file is in place by then either way."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
