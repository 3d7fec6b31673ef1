"""Records every network call of a Python process, for the privacy tests.

A process that has this folder on PYTHONPATH and PHITRAY_NETWORK_AUDIT set
imports this module at start (site.py) and appends to
$PHITRAY_NETWORK_AUDIT/<pid>.log: one "start" line with its command line,
then one line for each name lookup, and each connect or send to an address
that is not a local (AF_UNIX) socket path. Child processes inherit the
environment, so the model host (multiprocessing spawn) records too.
It only records; the test decides what is allowed.
"""

import os
import sys

_FOLDER = os.environ.get("PHITRAY_NETWORK_AUDIT")
_ADDRESSED = {"socket.connect": 1, "socket.sendto": 1, "socket.sendmsg": 1, "socket.bind": 1}
_LOOKUPS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
            "socket.getnameinfo")


def _record(line: str) -> None:
    with open(os.path.join(_FOLDER or ".", f"{os.getpid()}.log"), "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event in _ADDRESSED:
        address = args[_ADDRESSED[event]]
        # AF_UNIX addresses are paths; None is a send on a socket whose connect was recorded.
        if address is not None and not isinstance(address, (str, bytes)):
            _record(f"{event} {address!r}")
    elif event in _LOOKUPS:
        _record(f"{event} {args[0]!r}")


if _FOLDER:
    _record("start " + " ".join(sys.orig_argv))  # sys.argv is not filled in yet
    sys.addaudithook(_hook)
