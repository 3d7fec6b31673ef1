"""The endpoint's bearer token: made once, kept in the config folder, readable by the person alone.

On POSIX the file is created with mode 0600 (and put back to it if someone
widened it); on Windows the config folder is under the person's own
%LOCALAPPDATA%, which only they and the system can read.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from phitray import errors

log = logging.getLogger(__name__)
TOKEN_BYTES = 32
MIN_TOKEN_CHARACTERS = 32  # a file holding less than this is not a token the agent made: a new one replaces it


def read_or_create(path: Path) -> str:
    """The token in `path`, made first if there is none (or the file holds no token). Raises ConfigError
    when the folder cannot be written."""
    token = _read(path)
    if token is not None:
        return token
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.write(descriptor, f"{token}\n".encode("ascii"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except OSError as error:
        raise errors.ConfigError(f"{path}: the endpoint's token cannot be written ({error.strerror or error}).") \
            from error
    log.info("made a new endpoint token in %s", path)
    return token


def existing(path: Path) -> str | None:
    """The token in `path`, or None while none was made (nothing is written). Raises ConfigError."""
    return _read(path)


def _read(path: Path) -> str | None:
    try:
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)  # another tool widened it: the token is the person's alone again
            log.warning("%s was readable by others; it is the person's alone again", path)
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise errors.ConfigError(f"{path}: the endpoint's token cannot be read ({error.strerror or error}).") \
            from error
    if len(text) < MIN_TOKEN_CHARACTERS or not text.isascii() or not text.replace("-", "").replace("_", "").isalnum():
        return None
    return text


def matches(given: str, token: str) -> bool:
    """Whether `given` is the token, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("ascii"))
