"""`phitray bench`: how fast this PC runs the installed model, backend by backend, measured as the agent runs it.

For each backend this machine can run that has the model installed: the first
load (a model host started on an empty compile cache of the bench's own, so the
person's cache is left alone), the cached load (a second host on that cache),
time to first token at a short prompt and at a 1,000-token one, tokens/s, and
the agent's own overhead (time to first token as the caller sees it, less the
model host's own). Medians of `--runs`. A table, a chart (PNG) and `--json`;
the last result is kept in the cache folder (`Paths.bench_dir`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phitray.cli.common import say
from phitray.files import write_text
from phitray.paths import Paths

if TYPE_CHECKING:
    from phitray.backends.chain import ChainOptions
    from phitray.host.client import ModelHost

SHORT_PROMPT = "Say hello in one sentence."
ANSWER_PROMPT = "Write a short paragraph about why owls hunt at night."
LONG_TOKENS = 1000
FILLER = ("The river rose slowly through the night, and by morning the low fields were under water. Farmers moved "
          "their animals to the hills while the ferry kept running until noon. ")
LOAD_TIMEOUT_SECONDS = 900.0  # a first NPU compile takes minutes


@dataclass(frozen=True)
class BackendResult:
    backend_id: str
    device: str
    model_id: str
    first_load_seconds: float
    cached_load_seconds: float
    ttft_short_ms: float
    ttft_long_ms: float
    long_prompt_tokens: int
    tokens_per_second: float
    overhead_ms: float  # the caller's time to first token less the model host's own
    error: str = ""


def _start(options: ChainOptions, paths: Paths) -> tuple[ModelHost, float]:
    from phitray.host.client import ModelHost

    began = time.perf_counter()
    host = ModelHost(options, paths, max_restarts=1)
    try:
        host.start(LOAD_TIMEOUT_SECONDS)
    except BaseException:
        host.close()
        raise
    return host, time.perf_counter() - began


def _timed(host: ModelHost, prompt: str, max_new_tokens: int) -> tuple[float, float, float]:
    """(the caller's TTFT, the host's TTFT, the host's tokens/s) of one greedy answer."""
    from phitray.backends.base import Request

    asked = time.perf_counter()
    first = 0.0
    generation = host.generate(Request(prompt, max_new_tokens=max_new_tokens))
    for _ in generation:
        first = first or time.perf_counter()
    stats = generation.stats
    assert stats is not None
    return (first or time.perf_counter()) - asked, stats.ttft_seconds, stats.tokens_per_second


def _long_prompt(host: ModelHost) -> tuple[str, int]:
    """About LONG_TOKENS tokens of plain prose, fewer where the backend takes fewer (the NPU's prompt window)."""
    info = host.info
    assert info is not None
    target = min(LONG_TOKENS, info.max_prompt_tokens - 64, info.context_length - 64)
    per_filler = max(1, host.count_tokens(FILLER))
    text = FILLER * max(1, target // per_filler)
    return text, host.count_tokens(text)


def bench_backend(backend_id: str, model_id: str, paths: Paths, runs: int, max_new_tokens: int) -> BackendResult:
    from phitray.backends.chain import ChainOptions

    scratch = Path(tempfile.mkdtemp(prefix="phitray-bench-"))
    options = ChainOptions(chain=(backend_id,), model_id=model_id, cache_dir=scratch / "compiled", allow_pull=False,
                           fallback_model=None)
    try:
        host, first_load = _start(options, paths)
        try:
            info = host.info
            assert info is not None
            _timed(host, "Hi", 2)  # the first request pays for what the load left to it
            short = [_timed(host, SHORT_PROMPT, 8) for _ in range(runs)]
            long_text, long_tokens = _long_prompt(host)
            long = [_timed(host, long_text, 4)[0] for _ in range(runs)]
            answers = [_timed(host, ANSWER_PROMPT, max_new_tokens)[2] for _ in range(runs)]
        finally:
            host.close()
        cached, cached_load = _start(options, paths)
        cached.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BackendResult(
        backend_id, info.device, model_id, round(first_load, 2), round(cached_load, 2),
        round(statistics.median(caller for caller, _, _ in short) * 1000, 1),
        round(statistics.median(long) * 1000, 1), long_tokens, round(statistics.median(answers), 1),
        round(statistics.median((caller - own) * 1000 for caller, own, _ in short), 1))


def runnable_backends(model_id: str, paths: Paths, wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    """(backend, why not) for every backend asked for: why not is "" where this PC runs it with the model installed."""
    from phitray.backends.chain import ChainOptions, survey
    from phitray.backends.store import ModelStore

    store = ModelStore(paths.models_dir)
    options = ChainOptions(chain=wanted, model_id=model_id, cache_dir=paths.compile_cache_dir, allow_pull=False)
    rows = []
    for decision in survey(options, store):
        if not (decision.installed and decision.device_present):
            rows.append((decision.backend_id, decision.reason or "cannot run here"))
        elif store.find(model_id, decision.backend_id) is None:
            rows.append((decision.backend_id, f"{model_id} is not installed for it"))
        else:
            rows.append((decision.backend_id, ""))
    return rows


def table(results: list[BackendResult]) -> str:
    lines = [f"{'backend':<14}{'device':<10}{'first load':>11}{'cached':>9}{'TTFT short':>12}{'TTFT 1k':>10}"
             f"{'tokens/s':>10}{'overhead':>10}"]
    for r in results:
        if r.error:
            lines.append(f"{r.backend_id:<14}failed: {r.error}")
            continue
        lines.append(f"{r.backend_id:<14}{r.device[:9]:<10}{r.first_load_seconds:>10.1f}s{r.cached_load_seconds:>8.1f}s"
                     f"{r.ttft_short_ms:>10.0f}ms{r.ttft_long_ms:>8.0f}ms{r.tokens_per_second:>10.1f}"
                     f"{r.overhead_ms:>8.1f}ms")
    return "\n".join(lines)


def cmd_bench(args: argparse.Namespace, paths: Paths) -> int:
    from phitray.backends.registry import BACKEND_IDS, parse_chain
    from phitray.cli.bench_chart import bar_chart
    from phitray.errors import PhiTrayError
    from phitray.settings import load_settings

    model_id = args.model or load_settings(paths.settings_file).settings.model_id
    wanted = parse_chain(args.backend) if args.backend else BACKEND_IDS
    results: list[BackendResult] = []
    for backend_id, why_not in runnable_backends(model_id, paths, wanted):
        if why_not:
            if not args.json:
                say(f"{backend_id}: skipped, {why_not}")
            continue
        if not args.json:
            say(f"{backend_id}: measuring {model_id}…")
        try:
            results.append(bench_backend(backend_id, model_id, paths, args.runs, args.max_new_tokens))
        except PhiTrayError as error:
            results.append(BackendResult(backend_id, "", model_id, 0, 0, 0, 0, 0, 0, 0, str(error)))
    if not results:
        say(f"no backend here runs {model_id}: `phitray devices --model {model_id}` says why.")
        return 1
    measured = {"model": model_id, "at": round(time.time()), "runs": args.runs, "max_new_tokens": args.max_new_tokens,
                "backends": [asdict(result) for result in results]}
    chart = bar_chart(Path(args.chart) if args.chart else paths.bench_dir / "last.png", model_id, results)
    try:
        write_text(paths.bench_dir / "last.json", json.dumps(measured, indent=2))
    except OSError as error:
        say(f"the result was not kept ({error.strerror or error})")
    if args.json:
        print(json.dumps({**measured, "chart": str(chart)}, indent=2))
    else:
        print(f"{model_id}, medians of {args.runs} runs; overhead: the agent's own share of the time to first token")
        print(table(results))
        print(f"chart: {chart}")
    return 0 if all(not result.error for result in results) else 1


def add_bench_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="how fast this PC runs the installed model on each backend it can")
    bench.add_argument("--model", help="model id (default: the settings' model)")
    bench.add_argument("--backend", help="a backend or a comma-separated list (default: every one this PC can run)")
    bench.add_argument("--runs", type=int, default=3, help="answers per measurement (medians; default 3)")
    bench.add_argument("--max-new-tokens", type=int, default=128, help="the length of the tokens/s answer")
    bench.add_argument("--chart", help="where to write the chart (default: the cache folder's bench/last.png)")
    bench.add_argument("--json", action="store_true", help="print the numbers as JSON")
    bench.set_defaults(handler=cmd_bench)
