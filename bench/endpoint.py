"""The local endpoint's cost: tokens/s and time to first token through `phitray serve` against a bare pipeline.

    python bench/endpoint.py [--runs 7] [--max-new-tokens 128]

Starts `phitray serve` with the starter model on openvino-cpu (the test cache's
store, as bench/agent.py uses; a plain pipeline, `prompt_lookup = false`, the
same as the bare one), then alternates a streamed chat completion through the
endpoint (the real HTTP path: the guard, the gate, the model host's pipe, the
chunk coalescing, server-sent events) with the same prompt straight through
`openvino_genai.LLMPipeline` in this process, so both meet the same machine.
Prints medians of each path and of the pairs' ratios against the targets:
tokens/s ÷ bare ≥ 0.97, TTFT + ≤ 15 ms. `--memory` instead starts `phitray run`
on a private Xvfb desktop twice, with the endpoint off and on, and prints the
daemon's RSS once its model is ready (and, with the endpoint on, after 20
answers through it).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bare import BarePipeline  # noqa: E402
from fixtures.models import store_with_test_models  # noqa: E402
from phitray.backends.catalog import generation_defaults  # noqa: E402
from phitray.backends.store import ModelStore  # noqa: E402

PROMPT = "Write a short paragraph about why owls hunt at night."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data: Path, folder: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    config = folder / "config"
    config.mkdir()
    (config / "settings.toml").write_text('[engine]\nprompt_lookup = false\n', encoding="utf-8")
    env = {**__import__("os").environ, "PHITRAY_CONFIG_DIR": str(config), "PHITRAY_DATA_DIR": str(data),
           "PHITRAY_CACHE_DIR": str(folder / "cache"), "PHITRAY_LOG_DIR": str(folder / "log")}
    process = subprocess.Popen([sys.executable, "-m", "phitray", "serve", "--backend", "openvino-cpu", "--model",
                                "starter", "--no-pull", "--port", str(port)], env=env, stdin=subprocess.DEVNULL,
                               stdout=(folder / "serve.out").open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        token_file = config / "server-token"
        if process.poll() is not None:
            raise SystemExit((folder / "serve.out").read_text())
        if token_file.exists():
            token = token_file.read_text().strip()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {token}"},
                             timeout=5).json()["data"]:
                    return process, token
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise SystemExit("the endpoint did not serve the model within 180 s")


def through_endpoint(client: httpx.Client, url: str, max_new_tokens: int) -> dict[str, float]:
    body = {"model": "starter", "stream": True, "max_tokens": max_new_tokens, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": PROMPT}]}
    asked = time.perf_counter()
    first = last = 0.0
    tokens = 0
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            elif chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
    decode = last - first
    return {"ttft_ms": (first - asked) * 1000, "tokens": tokens,
            "tokens_per_second": (tokens - 1) / decode if tokens > 1 and decode > 0 else 0.0}


def daemon_memory() -> None:
    """The daemon's RSS with the endpoint off, then on (idle, then after 20 answers)."""
    from dataclasses import replace

    from helpers.agent import STARTER_SETTINGS, start_agent
    from helpers.desktop import start_session
    from helpers.proc import rss_kb
    from phitray.paths import Paths

    data = store_with_test_models()
    with tempfile.TemporaryDirectory(prefix="phitray-bench-memory-") as scratch:
        folder = Path(scratch)
        session = start_session(folder / "desktop", tray=True)
        try:
            for enabled in (False, True):
                where = folder / f"agent-{enabled}"
                paths = Paths(where / "config", data, where / "cache", where / "log")
                port = free_port()
                agent = start_agent(session, replace(paths), STARTER_SETTINGS + f"\n[server]\nenabled = "
                                    f"{str(enabled).lower()}\nport = {port}\n", ready_timeout=180)
                try:
                    time.sleep(5)
                    idle = rss_kb(agent.process.pid) / 1024
                    line = f"endpoint {'on ' if enabled else 'off'}: daemon RSS {idle:.1f} MB when ready"
                    if enabled:
                        token = paths.server_token_file.read_text().strip()
                        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
                            for _ in range(20):
                                through_endpoint(client, f"http://127.0.0.1:{port}", 16)
                        line += f", {rss_kb(agent.process.pid) / 1024:.1f} MB after 20 answers through it"
                    print(line, flush=True)
                finally:
                    agent.stop()
        finally:
            session.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--json", help="also write the numbers here")
    parser.add_argument("--memory", action="store_true", help="the daemon's RSS with the endpoint off and on instead")
    args = parser.parse_args()
    if args.memory:
        daemon_memory()
        return 0
    data = store_with_test_models()
    model = ModelStore(data / "models").resolve("starter", "openvino-cpu")
    with tempfile.TemporaryDirectory(prefix="phitray-bench-endpoint-") as scratch:
        port = free_port()
        process, token = start_server(data, Path(scratch), port)
        try:
            bare = BarePipeline(model.path)
            prompt, tuning = bare.chat_prompt(PROMPT), generation_defaults("starter")
            url = f"http://127.0.0.1:{port}"
            pairs = []
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
                through_endpoint(client, url, 8)  # a warm-up, as the bare pipeline had
                for _ in range(args.runs):
                    served = through_endpoint(client, url, args.max_new_tokens)
                    alone = bare.run(prompt, args.max_new_tokens, tuning=tuning)
                    pairs.append((served, {"ttft_ms": alone.ttft_seconds * 1000, "tokens": alone.tokens,
                                           "tokens_per_second": alone.tokens_per_second}))
        finally:
            process.terminate()
            process.wait(30)
    median = lambda rows, key: statistics.median(row[key] for row in rows)  # noqa: E731
    served_rows, bare_rows = [p[0] for p in pairs], [p[1] for p in pairs]
    ratio = statistics.median(s["tokens_per_second"] / b["tokens_per_second"] for s, b in pairs)
    added = statistics.median(s["ttft_ms"] - b["ttft_ms"] for s, b in pairs)
    print(f"starter on openvino-cpu, {args.max_new_tokens} new tokens, medians of {args.runs} pairs")
    print(f"{'':<22}{'TTFT ms':>10}{'tokens':>8}{'tokens/s':>10}")
    for name, rows in (("endpoint (streamed)", served_rows), ("bare LLMPipeline", bare_rows)):
        print(f"{name:<22}{median(rows, 'ttft_ms'):>10.1f}{median(rows, 'tokens'):>8.0f}"
              f"{median(rows, 'tokens_per_second'):>10.1f}")
    print(f"tokens/s endpoint ÷ bare   {ratio:.3f}   (target ≥ 0.97)  {'ok' if ratio >= 0.97 else 'MISSED'}")
    print(f"TTFT endpoint − bare       {added:+.1f} ms (target ≤ +15)  {'ok' if added <= 15 else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"pairs": pairs, "ratio": ratio, "ttft_added_ms": added}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
