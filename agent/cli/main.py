"""The `phitray` command line: one parser made of the command groups, and `main`.

Every PhiTrayError ends the command with its one-sentence message on stderr
and exit code 1; usage errors exit 2; an interrupted answer exits 130.

A command imports the model machinery it runs on inside its handler: every
command builds the whole parser, and `phitray run` shows its tray icon before
that machinery is imported.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from phitray import __version__
from phitray.cli.actions import add_action_commands
from phitray.cli.agent import add_agent_commands
from phitray.cli.bench import add_bench_commands
from phitray.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, say
from phitray.cli.history import add_history_commands
from phitray.cli.inference import add_inference_commands
from phitray.cli.models import add_model_commands
from phitray.cli.serve import add_serve_commands
from phitray.cli.settings import add_settings_commands
from phitray.desktop.system import fill_missing_standard_streams
from phitray.errors import PhiTrayError
from phitray.paths import Paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phitray", description="Private writing help from a local model.")
    parser.add_argument("--version", action="version", version=f"phitray {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_inference_commands(commands)
    add_agent_commands(commands)
    add_history_commands(commands)
    add_action_commands(commands)
    add_model_commands(commands)
    add_settings_commands(commands)
    add_serve_commands(commands)
    add_bench_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `phitray` command, from the console script, `python -m phitray` or the installer's
    launch script (run by pythonw, with no standard streams). Main thread."""
    fill_missing_standard_streams()
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
