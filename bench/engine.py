"""Engine numbers: the starter model through `phitray ask` vs a bare LLMPipeline, in one run.

    python bench/engine.py [--runs 5] [--model starter] [--json out.json]

Prints load time, TTFT and tokens/s (medians) for both paths, their ratio, and
the cancel latency of the model host (cancel() sent → stream ended). Uses the
installed model store (PHITRAY_DATA_DIR), so pull the model first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.backends.store import ModelStore
from phitray.paths import Paths
from phitray.host.client import ModelHost

from bare import BarePipeline

PROMPT = "Write a short paragraph about why owls hunt at night."
MAX_NEW_TOKENS = 128


def bare_pipeline(model_path: str, runs: int) -> dict[str, float]:
    """The same model and prompt straight through openvino_genai, for the ratio."""
    bare = BarePipeline(model_path)
    prompt = bare.chat_prompt(PROMPT)
    timed = [bare.run(prompt, MAX_NEW_TOKENS) for _ in range(runs)]
    return {"load_seconds": bare.load_seconds, "ttft_seconds": statistics.median(t.ttft_seconds for t in timed),
            "tokens_per_second": statistics.median(t.tokens_per_second for t in timed)}


def through_cli(model: str, runs: int) -> dict[str, float]:
    """`phitray ask --json` as a person runs it: a new process (and model host) each time."""
    rows = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", "phitray", "ask", "--json", "--quiet", "--no-pull",
                               "--backend", "openvino-cpu", "--model", model, "--max-new-tokens", str(MAX_NEW_TOKENS),
                               PROMPT], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
        rows.append(json.loads(done.stdout))
    return {key: statistics.median(row[key] for row in rows)
            for key in ("load_seconds", "ttft_seconds", "tokens_per_second")}


def cancel_latency(model: str, runs: int, paths: Paths) -> dict[str, float]:
    options = ChainOptions(("openvino-cpu",), model, paths.compile_cache_dir, allow_pull=False, fallback_model=None)
    latencies = []
    with ModelHost(options, paths) as host:
        host.start()
        for _ in range(runs):
            generation = host.generate(Request("Write a very long story about the sea.", max_new_tokens=400))
            asked = 0.0
            for index, _ in enumerate(generation):
                if index == 5:
                    asked = time.perf_counter()
                    generation.cancel()
            latencies.append(time.perf_counter() - asked)
    return {"cancel_ms_median": 1000 * statistics.median(latencies), "cancel_ms_max": 1000 * max(latencies)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="starter")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    paths = Paths.from_environment()
    model = ModelStore(paths.models_dir).resolve(args.model, "openvino-cpu")
    results = {
        "phitray ask": through_cli(args.model, args.runs),
        "bare LLMPipeline": bare_pipeline(str(model.path), args.runs),
    }
    results["ratio (ask / bare)"] = {
        key: results["phitray ask"][key] / results["bare LLMPipeline"][key] for key in results["bare LLMPipeline"]
    }
    print(f"{args.model} on openvino-cpu, {MAX_NEW_TOKENS} new tokens, medians of {args.runs} runs")
    print(f"{'':<20}{'load s':>10}{'TTFT s':>10}{'tokens/s':>10}")
    for name, row in results.items():
        print(f"{name:<20}{row['load_seconds']:>10.3f}{row['ttft_seconds']:>10.3f}{row['tokens_per_second']:>10.1f}")
    cancel = cancel_latency(args.model, max(args.runs, 10), paths)
    print(f"cancel → stream ended: median {cancel['cancel_ms_median']:.1f} ms, max {cancel['cancel_ms_max']:.1f} ms")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({**results, "cancel": cancel}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
