"""Where a model host restart's time goes: SIGKILL the idle host, time each step until it is ready again.

    python bench/host_restart.py [--kills 5] [--model starter] [--backend openvino-cpu] [--no-standby-too] [--cold]

A `ModelHost` (the daemon's side, as `phitray run` uses it) on the test store's starter model. Each
kill is timed from the signal to the host's own messages as the supervisor receives them:
  detected   the kill → the supervisor's "crashed" event (the pipe's EOF);
  to trying  → the new host names its backend: a spawn and the host's imports, or a standby's order;
  probe      → "loading …": the backend module, openvino's import, its probe;
  construct  → "warming up": LLMPipeline (tokenizer, model read, CPU compile);
  warm-up    → Ready: the first one-token generate.
A proofread-sized answer after each restart keeps crashes from counting "in a row". Kills alternate
between a host with its warm standby process and one without (`standby=False`), in the same run, for
the ratio; the standby's resident memory is read from /proc. A standby that loads the model in advance
(host/standby.py: on the CPU, where a copy fits) is waited for before each kill; `--cold` says no memory
is free, for a standby with the libraries only.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.models import store_with_test_models  # noqa: E402
from helpers.proc import rss_kb  # noqa: E402
from phitray.backends.base import Request  # noqa: E402
from phitray.backends.chain import ChainOptions  # noqa: E402
from phitray.desktop import system  # noqa: E402
from phitray.host.client import HostEvent, ModelHost  # noqa: E402
from phitray.paths import Paths  # noqa: E402

STEPS = ("detected", "to trying", "probe", "construct", "warm-up")


class Clock:
    """The host's events with the time each reached the supervisor."""

    def __init__(self) -> None:
        self.events: list[tuple[float, HostEvent]] = []
        self.changed = threading.Condition()

    def __call__(self, event: HostEvent) -> None:
        """Called on the host's supervisor thread."""
        with self.changed:
            self.events.append((time.perf_counter(), event))
            self.changed.notify_all()

    def wait_ready(self, after: int, timeout: float = 60) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: any(e.kind == "ready" for _, e in self.events[after:]), timeout):
                raise TimeoutError("the host did not come back")


def steps(killed: float, events: list[tuple[float, HostEvent]]) -> dict[str, float]:
    """Seconds of each step from the kill, by the first event that ends it."""
    def at(test) -> float:  # type: ignore[no-untyped-def]
        return next(t for t, e in events if test(e))

    marks = [killed, at(lambda e: e.kind == "crashed"), at(lambda e: e.kind == "trying"),
             at(lambda e: e.kind == "status" and e.text.startswith("loading")),
             at(lambda e: e.kind == "status" and e.text == "warming up"), at(lambda e: e.kind == "ready")]
    row = {name: b - a for name, a, b in zip(STEPS, marks, marks[1:])}
    row["total"] = marks[-1] - killed
    return row


def restarts(host: ModelHost, clock: Clock, kills: int, preloading: bool,
             standby_rss: list[tuple[int, ...]]) -> list[dict[str, float]]:
    """`kills` timed restarts; the standby's memory, as it is when the host is killed, is added to `standby_rss`."""
    rows = []
    for _ in range(kills):
        time.sleep(1.0)  # an idle host, and a standby done with its imports
        deadline = time.monotonic() + 60
        while host.standby is not None and preloading and not host.standby.preloaded() and time.monotonic() < deadline:
            time.sleep(0.05)  # the model loaded in advance: the agent's state once it has been up a few seconds
        if host.standby is not None and (pid := host.standby.pid) is not None:
            standby_rss.append((rss_kb(pid), *memory_kb(pid, "Pss", "Private_Clean", "Private_Dirty")))
        after = len(clock.events)
        killed = time.perf_counter()
        os.kill(host.pid or 0, signal.SIGKILL)
        clock.wait_ready(after)
        rows.append(steps(killed, clock.events[after:]))
        host.generate(Request("Fix: teh cat sat on teh mat.", max_new_tokens=16)).text()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5, help="restarts to time, per variant")
    parser.add_argument("--model", default="starter")
    parser.add_argument("--backend", default="openvino-cpu")
    parser.add_argument("--no-standby-too", action="store_true",
                        help="also time hosts without a standby, alternating, for the ratio")
    parser.add_argument("--cold", action="store_true", help="no memory free: a standby never holds the model")
    args = parser.parse_args()
    if args.cold:
        system.memory_available = lambda: 0
    scratch = Path(tempfile.mkdtemp(prefix="phitray-restart-"))
    paths = Paths(config_dir=scratch / "config", data_dir=store_with_test_models(), cache_dir=REPO / ".cache" / "bench",
                  log_dir=scratch / "log")
    options = ChainOptions((args.backend,), args.model, paths.cache_dir, allow_pull=False, fallback_model=None)
    variants = [True, False] if args.no_standby_too else [True]
    clocks = {standby: Clock() for standby in variants}
    hosts = {standby: ModelHost(options, paths, clocks[standby], max_restarts=3, standby=standby)
             for standby in variants}
    for host in hosts.values():
        if host.standby is not None:
            host.standby.preload_after = 1.0  # not the agent's wait after a start: every kill here follows one
    rows: dict[bool, list[dict[str, float]]] = {standby: [] for standby in variants}
    standby_rss = []
    try:
        for standby in variants:
            hosts[standby].start(timeout=120)
        for _ in range(args.kills):
            for standby in variants:  # alternating: both see the same machine
                rows[standby] += restarts(hosts[standby], clocks[standby], 1, not args.cold, standby_rss)
    finally:
        for host in hosts.values():
            host.close()
    print(f"{args.model} on {args.backend}, {args.kills} kills per variant, {os.cpu_count()} cores; seconds, "
          "median (max)")
    for standby in variants:
        name = "with standby" if standby else "no standby"
        cells = "  ".join(f"{step} {statistics.median(r[step] for r in rows[standby]):.3f} "
                          f"({max(r[step] for r in rows[standby]):.3f})" for step in (*STEPS, "total"))
        print(f"  {name:12}  {cells}")
    if len(variants) == 2:
        ratio = statistics.median(r["total"] for r in rows[True]) / statistics.median(r["total"] for r in rows[False])
        print(f"  with ÷ without standby: {ratio:.2f}")
    if standby_rss:
        rss, pss, clean, dirty = (statistics.median(row[i] for row in standby_rss) / 1024 for i in range(4))
        print(f"  standby process: RSS {rss:.0f} MB, PSS {pss:.0f} MB, private {clean + dirty:.0f} MB "
              "(the rest: shared with the host: libraries, and the model file it maps)")


def memory_kb(pid: int, *fields: str) -> tuple[int, ...]:
    """Fields of /proc/<pid>/smaps_rollup, in kB."""
    values = dict(line.split(":") for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return tuple(int(values[field].split()[0]) for field in fields)


if __name__ == "__main__":
    main()
