"""An agent as far as the single-instance channel goes, run as its own process by the `phitray stop` tests
(on Linux and under Wine): it holds the real instance lock, answers "quit", lets go of the lock (the real
agent does so before its last steps, too), then takes SHUTDOWN seconds to end (a negative number: it never
does), as the real agent's shutdown can take seconds.

    python slow_agent.py CONFIG_DIR SHUTDOWN    # prints "ready" once it serves the channel
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path


def command(config: Path, shutdown: float) -> list[str]:
    """The command line that starts it with this Python."""
    return [sys.executable, str(Path(__file__)), str(config), str(shutdown)]


def main(config: Path, shutdown: float) -> None:
    from phitray.desktop.instance import InstanceLock, instance_address
    from phitray.paths import Paths

    lock = InstanceLock(instance_address(Paths(config, config, config, config)))
    assert lock.acquire()
    asked = threading.Event()

    def answer(message: str) -> str:
        """The channel's "instance" thread: "quit" is taken, as the real agent takes it."""
        if message != "quit":
            return "ok"
        asked.set()
        return "quitting"

    lock.serve(answer)
    print("ready", flush=True)
    asked.wait()
    lock.release()
    time.sleep(shutdown if shutdown >= 0 else 3600)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
