"""The `phitray` command line: `devices`, `ask`, `act`, `actions …` and `model …`.

Every PhiTrayError ends the command with its one-sentence message on stderr
and exit code 1; usage errors exit 2; an interrupted answer exits 130.

A command imports the model machinery it runs on inside its handler: every
command builds the whole parser, and `phitray run` shows its tray icon before
that machinery is imported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from phitray import __version__
from phitray.backends.catalog import DEFAULT_MODEL
from phitray.backends.registry import DEFAULT_CHAIN, OPT_IN, parse_chain
from phitray.errors import PhiTrayError
from phitray.paths import Paths

if TYPE_CHECKING:
    from phitray.backends.chain import ChainOptions
    from phitray.supervisor import HostEvent, ModelHost

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def say(text: str) -> None:
    print(f"phitray: {text}", file=sys.stderr, flush=True)


def chain_options(args: argparse.Namespace, paths: Paths) -> ChainOptions:
    from phitray.backends.chain import ChainOptions

    return ChainOptions(
        chain=parse_chain(args.backend) if args.backend else DEFAULT_CHAIN,
        model_id=args.model,
        cache_dir=paths.compile_cache_dir,
        allow_pull=not getattr(args, "no_pull", False),
    )


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
    return 0


def read_text(argument: str | None) -> str:
    return argument if argument is not None else sys.stdin.read()


@contextlib.contextmanager
def running_host(args: argparse.Namespace, paths: Paths) -> Iterator[ModelHost]:
    """A started model host for one command; progress goes to stderr unless --quiet."""
    from phitray.supervisor import ModelHost

    def on_event(event: HostEvent) -> None:
        """Called on the supervisor thread."""
        if not getattr(args, "quiet", False) and event.kind != "ready":
            say(event.text)

    with ModelHost(chain_options(args, paths), paths, on_event) as host:
        host.start()
        yield host


def cmd_ask(args: argparse.Namespace, paths: Paths) -> int:
    prompt = read_text(args.prompt)
    if not prompt.strip():
        say("nothing to ask: give a prompt as an argument or on stdin.")
        return EXIT_USAGE
    from phitray.backends.base import Request

    request = Request(prompt, system=args.system, max_new_tokens=args.max_new_tokens, temperature=args.temperature)
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
            for _ in generation:
                pass
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
        }
        if args.json:
            print(json.dumps({"text": "".join(parts), **summary}, ensure_ascii=False))
        else:
            print()
            if args.stats:
                say(" · ".join(f"{key} {value}" for key, value in summary.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from phitray.actions_cli import add_action_commands
    from phitray.daemon_cli import add_daemon_commands
    from phitray.model_cli import add_model_commands

    parser = argparse.ArgumentParser(prog="phitray", description="Private writing help from a local model.")
    parser.add_argument("--version", action="version", version=f"phitray {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def engine_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--quiet", action="store_true", help="no progress messages")
        command.add_argument("--no-pull", action="store_true", help="never download; use what is installed")
        command.add_argument("--backend", help=f"a backend or a comma-separated chain (default: {','.join(DEFAULT_CHAIN)})")
        command.add_argument("--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL})")

    devices = commands.add_parser("devices", help="which backends can run here, and which one would")
    engine_options(devices)
    devices.add_argument("--json", action="store_true", help="print the decisions as JSON")
    devices.set_defaults(handler=cmd_devices)

    ask = commands.add_parser("ask", help="stream the model's answer to a prompt (argument or stdin)")
    ask.add_argument("prompt", nargs="?", help="the prompt; read from stdin when absent")
    engine_options(ask)
    ask.add_argument("--system", help="a system prompt")
    ask.add_argument("--max-new-tokens", type=int, default=512)
    ask.add_argument("--temperature", type=float, default=0.0)
    ask.add_argument("--stats", action="store_true", help="print load time, TTFT and tokens/s to stderr")
    ask.add_argument("--json", action="store_true", help="print the answer and timings as one JSON object")
    ask.set_defaults(handler=cmd_ask)

    add_daemon_commands(commands)
    add_action_commands(commands, engine_options)
    add_model_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse gives an optional positional nothing when options stand between it and the
    # one before it (`act translate --set language=French "Hallo"`): take it back.
    if len(extra) == 1 and not extra[0].startswith("-") and getattr(args, "text", "") is None:
        args.text = extra[0]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        args = parser.parse_args(["run"])  # plain `phitray` starts the tray agent
    try:
        return int(args.handler(args, Paths.from_environment()))
    except PhiTrayError as error:
        say(str(error))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
