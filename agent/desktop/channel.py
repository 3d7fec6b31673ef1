"""The agent's channel: what a later launch and the running agent say to each other, as bytes.

One JSON object on one line each way — `{"ask": "status"}`, then `{"answer": "…"}` — of at most
MAX_LINE_BYTES. What the other end sends is only ever read as UTF-8 JSON text, never unpickled, so
a program squatting the agent's address can make a launch refuse it, never run its code.

The transports (`linux_instance`, `windows_instance`) hand over a `Stream` that also says who is at
the other end (`Peer`, from the operating system, not from the bytes). A peer that is not the
person's own, or that answers in anything but these lines, is refused in one sentence that names it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from phitray.errors import DesktopError

MAX_LINE_BYTES = 64 * 1024  # a status is a few lines; a squatter's flood stops here
TIMEOUT_SECONDS = 3.0
Field = Literal["ask", "answer"]


@dataclass(frozen=True)
class Peer:
    """The process at the other end, as the operating system tells it."""

    pid: int | None  # None where the system does not say
    program: str  # its executable's name, or "" where the system does not say
    same_user: bool  # runs as the person (False when the system cannot tell)

    def describe(self) -> str:
        if self.pid is None:
            return self.program or "a program the system does not name"
        return f"{self.program or 'a program'}, process {self.pid}"


class Stream(Protocol):
    """One connection, either end. Any one thread at a time."""

    @property
    def peer(self) -> Peer: ...

    def send(self, data: bytes) -> None: ...  # all of it, or OSError (TimeoutError after TIMEOUT_SECONDS)

    # The next bytes the other end sent, at most `limit`; b"" once it closed; TimeoutError past `deadline`
    # (time.monotonic()).
    def receive(self, limit: int, deadline: float) -> bytes: ...

    def close(self) -> None: ...


class Listener(Protocol):
    """The running agent's end of the address."""

    def accept(self) -> Stream | None: ...  # the next connection; None once closed. The "instance" thread

    def close(self) -> None: ...  # any thread; wakes a waiting accept()


class Claim(Protocol):
    """The single-instance lock, held while the agent runs."""

    def release(self) -> None: ...


def encode(field: Field, text: str) -> bytes:
    line = json.dumps({field: text}).encode("utf-8") + b"\n"  # json escapes every newline inside `text`
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"a message of {len(line)} bytes is over the channel's {MAX_LINE_BYTES}")
    return line


def read_message(stream: Stream, field: Field) -> str:
    """The text of the one line the other end sends. ValueError (its message says what was wrong, to
    follow "it …") when that is not a line of ours; TimeoutError when none comes in time."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    received = b""
    while b"\n" not in received:
        if len(received) >= MAX_LINE_BYTES:
            raise ValueError(f"sent more than {MAX_LINE_BYTES // 1024} KiB without ending its message")
        try:
            chunk = stream.receive(MAX_LINE_BYTES - len(received), deadline)
        except TimeoutError:
            if received:  # bytes with no line end: a pickle, say, sent whole
                raise ValueError("sent something other than Phi Tray's messages") from None
            raise
        if not chunk:
            raise ValueError("closed the connection before its message ended" if received
                             else "closed the connection without a word")
        received += chunk
    line = received.split(b"\n", 1)[0]
    try:
        message = json.loads(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        raise ValueError("sent something other than Phi Tray's messages") from None
    if not isinstance(message, dict) or set(message) != {field} or not isinstance(message[field], str):
        raise ValueError("sent something other than Phi Tray's messages")
    return message[field]


def exchange(stream: Stream, address: str, message: str) -> str:
    """Send `message` to the agent at the other end of `stream` and return its answer; a peer that is
    not the person's Phi Tray is refused with a DesktopError saying which program it is."""
    if not stream.peer.same_user:
        raise held_by_another_user(address, stream.peer)
    try:
        stream.send(encode("ask", message))
        return read_message(stream, "answer")
    except TimeoutError:
        problem = f"did not answer within {TIMEOUT_SECONDS:g} seconds"
    except ValueError as error:
        problem = str(error)
    except OSError as error:
        problem = f"broke the connection ({error.strerror or error})"
    raise DesktopError(
        f"Another program ({stream.peer.describe()}) holds Phi Tray's address {address} and {problem}, "
        "so Phi Tray ignored it: end that program and start Phi Tray again.")


def held_by_another_user(address: str, peer: Peer | None = None) -> DesktopError:
    """What a launch says when another user's program holds the agent's address (`peer` where the
    system tells who)."""
    who = f" ({peer.describe()})" if peer is not None else ""
    return DesktopError(f"A program of another user{who} holds Phi Tray's address {address}, so Phi Tray sent it "
                        "nothing: end that program (or sign that user out) and start Phi Tray again.")
