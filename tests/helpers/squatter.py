"""A program that squats the agent's Unix socket, run as a process of its own by tests/test_channel.py.

    python squatter.py SOCKET ANSWER MARKER [--hold-lock] [--as-uid UID]

ANSWER is what it sends every connection: "pickle" (a pickle whose loading creates MARKER: what a
launch that unpickles runs), "garbage", "huge" (10 MB with no line end), or "silent" (nothing, the
connection held open). --hold-lock also takes the agent's lock file; --as-uid binds as this user,
then becomes UID before it listens (the kernel then reports UID as the listener). Prints "ready"
once it listens.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pickle
import socket
import sys
import threading
import time


class CreatesMarker:
    """Unpickled, it opens (creates) the marker file: the code a squatter gets run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def payload(answer: str, marker: str) -> bytes:
    if answer == "pickle":
        return pickle.dumps(CreatesMarker(marker)) + b"\n"
    if answer == "garbage":
        return b"\x80\x04\x95 not a line of Phi Tray's \xff\xfe\n"
    if answer == "huge":
        return b"A" * 10_000_000
    return b""


def answer_one(connection: socket.socket, data: bytes) -> None:
    """One connection's thread: read a little, send the answer, hold the connection a while."""
    try:
        connection.settimeout(1.0)
        try:
            connection.recv(4096)
        except OSError:
            pass
        connection.settimeout(30)
        if data:
            connection.sendall(data)
        time.sleep(30)  # "silent" holds it open; the others leave the reader to stop reading
    except OSError:
        pass
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("answer", choices=("pickle", "garbage", "huge", "silent"))
    parser.add_argument("marker")
    parser.add_argument("--hold-lock", action="store_true")
    parser.add_argument("--as-uid", type=int)
    args = parser.parse_args()
    if args.hold_lock:
        lock = os.open(f"{args.socket}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(args.socket)
    if args.as_uid is not None:
        os.setuid(args.as_uid)
    listening.listen(8)
    data = payload(args.answer, args.marker)
    print("ready", flush=True)
    while True:
        connection, _ = listening.accept()
        threading.Thread(target=answer_one, args=(connection, data), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
