"""What every command shares: messages on stderr, exit codes, the engine options and a started model host."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from phitray.backends.catalog import DEFAULT_MODEL
from phitray.backends.registry import DEFAULT_CHAIN, parse_chain
from phitray.paths import Paths

if TYPE_CHECKING:
    from phitray.backends.chain import ChainOptions
    from phitray.host.client import HostEvent, ModelHost

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
EXIT_NOTHING_TO_DO = 3
EXIT_FLAGGED = 3  # `act`: the answer failed one of its action's checks


def say(text: str) -> None:
    print(f"phitray: {text}", file=sys.stderr, flush=True)


def read_text(argument: str | None) -> str:
    return argument if argument is not None else sys.stdin.read()


def add_engine_options(command: argparse.ArgumentParser) -> None:
    """The options of every command that loads a model."""
    command.add_argument("--quiet", action="store_true", help="no progress messages")
    command.add_argument("--no-pull", action="store_true", help="never download; use what is installed")
    command.add_argument("--backend", help=f"a backend or a comma-separated chain (default: {','.join(DEFAULT_CHAIN)})")
    command.add_argument("--model", default=DEFAULT_MODEL, help=f"model id (default: {DEFAULT_MODEL})")
    command.add_argument("--no-prompt-lookup", action="store_true",
                         help="load a plain pipeline: no request drafts tokens from its prompt")
    command.add_argument("--draft-model", default="", help="a draft model id for speculative decoding, if installed")


def chain_options(args: argparse.Namespace, paths: Paths) -> ChainOptions:
    from phitray.backends.chain import ChainOptions

    return ChainOptions(
        chain=parse_chain(args.backend) if args.backend else DEFAULT_CHAIN,
        model_id=args.model,
        cache_dir=paths.compile_cache_dir,
        allow_pull=not getattr(args, "no_pull", False),
        prompt_lookup=not getattr(args, "no_prompt_lookup", False),
        draft_model=getattr(args, "draft_model", ""),
    )


@contextlib.contextmanager
def running_host(args: argparse.Namespace, paths: Paths) -> Iterator[ModelHost]:
    """A started model host for one command; progress goes to stderr unless --quiet."""
    from phitray.host.client import ModelHost

    def on_event(event: HostEvent) -> None:
        """Called on the host's supervisor thread."""
        if not getattr(args, "quiet", False) and event.kind not in ("ready", "trying"):
            say(event.text)

    with ModelHost(chain_options(args, paths), paths, on_event) as host:
        host.start()
        yield host
