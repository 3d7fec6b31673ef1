"""`phitray devices` and `phitray ask`: which backend runs here, and a bare prompt to the model."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from phitray.actions.model import DECODINGS
from phitray.backends.catalog import model_note
from phitray.backends.registry import OPT_IN
from phitray.cli.common import EXIT_INTERRUPTED, EXIT_USAGE, add_engine_options, chain_options, read_text, running_host, say
from phitray.desktop.instance import instance_address, send_to_running
from phitray.errors import Cancelled
from phitray.paths import Paths


def cmd_devices(args: argparse.Namespace, paths: Paths) -> int:
    from phitray.backends.chain import survey
    from phitray.backends.store import ModelStore

    decisions = survey(chain_options(args, paths), ModelStore(paths.models_dir), extra=OPT_IN)
    if args.json:
        print(json.dumps([asdict(d) for d in decisions], indent=2))
        return 0
    print(f"{'backend':<14}{'library':<9}{'device':<8}{'decision':<14}why")
    yes_no = {True: "yes", False: "no"}
    for d in decisions:
        print(f"{d.backend_id:<14}{yes_no[d.installed]:<9}{yes_no[d.device_present]:<8}{d.outcome:<14}{d.reason}")
    if note := model_note(args.model):
        print(f"\n{note}")
    # The running agent knows what only a load shows: a backend that crashed its model host, say.
    running = send_to_running(instance_address(paths), "status")
    if running is not None:
        print(f"\nthe running agent: {running}")
    return 0


def cmd_ask(args: argparse.Namespace, paths: Paths) -> int:
    prompt = read_text(args.prompt)
    if not prompt.strip():
        say("nothing to ask: give a prompt as an argument or on stdin.")
        return EXIT_USAGE
    from phitray.backends.base import Request

    request = Request(prompt, system=args.system, max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                      decoding=args.decoding)
    with running_host(args, paths) as host:
        info = host.info
        assert info is not None
        generation = host.generate(request)
        parts = []
        try:
            for text in generation:
                parts.append(text)
                if not args.json:
                    sys.stdout.write(text)
                    sys.stdout.flush()
        except KeyboardInterrupt:
            generation.cancel()
            try:
                for _ in generation:
                    pass
            except Cancelled as stopped:  # the host did not stop in time and was ended
                say(str(stopped))
                return EXIT_INTERRUPTED
            say("cancelled.")
            return EXIT_INTERRUPTED
        stats = generation.stats
        assert stats is not None
        summary = {
            "backend": info.backend_id,
            "device": info.device,
            "model": info.model_id,
            "load_seconds": round(info.load_seconds, 3),
            "ttft_seconds": round(stats.ttft_seconds, 3),
            "tokens": stats.tokens,
            "tokens_per_second": round(stats.tokens_per_second, 1),
            "decoding": stats.decoding,
        }
        if args.json:
            print(json.dumps({"text": "".join(parts), **summary}, ensure_ascii=False))
        else:
            print()
            if args.stats:
                say(" · ".join(f"{key} {value}" for key, value in summary.items()))
    return 0


def add_inference_commands(commands: Any) -> None:
    devices = commands.add_parser("devices", help="which backends can run here, and which one would")
    add_engine_options(devices)
    devices.add_argument("--json", action="store_true", help="print the decisions as JSON")
    devices.set_defaults(handler=cmd_devices)

    ask = commands.add_parser("ask", help="stream the model's answer to a prompt (argument or stdin)")
    ask.add_argument("prompt", nargs="?", help="the prompt; read from stdin when absent")
    add_engine_options(ask)
    ask.add_argument("--system", help="a system prompt")
    ask.add_argument("--max-new-tokens", type=int, default=512)
    ask.add_argument("--temperature", type=float, default=0.0)
    ask.add_argument("--decoding", choices=DECODINGS, default="plain",
                     help="prompt-lookup drafts tokens from the prompt: faster when the answer copies it")
    ask.add_argument("--stats", action="store_true", help="print load time, TTFT and tokens/s to stderr")
    ask.add_argument("--json", action="store_true", help="print the answer and timings as one JSON object")
    ask.set_defaults(handler=cmd_ask)
