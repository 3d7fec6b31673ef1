"""`phitray serve` (the local endpoint without the tray) and `phitray server token`."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from phitray.backends.registry import parse_chain
from phitray.cli.common import say
from phitray.logs import setup_logging
from phitray.paths import Paths
from phitray.settings import load_settings


def cmd_serve(args: argparse.Namespace, paths: Paths) -> int:
    """Main thread: the model host and the endpoint until Ctrl+C or SIGTERM."""
    from dataclasses import replace

    from phitray.backends.chain import ChainOptions
    from phitray.host.client import HostEvent, ModelHost
    from phitray.serve.server import Endpoint

    loaded = load_settings(paths.settings_file)
    for problem in loaded.problems:
        say(str(problem))
    settings = loaded.settings
    setup_logging(paths, settings.log_level)
    server = replace(settings.server, enabled=True, port=args.port or settings.server_port)
    options = ChainOptions(chain=parse_chain(args.backend) if args.backend else settings.chain,
                           model_id=args.model or settings.model_id, cache_dir=paths.compile_cache_dir,
                           allow_pull=settings.allow_pull and not args.no_pull, prompt_lookup=settings.prompt_lookup,
                           draft_model=settings.draft_model)

    def on_event(event: HostEvent) -> None:
        """Called on the host's supervisor thread."""
        if event.kind != "trying":
            say(event.text)

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    with ModelHost(options, paths, on_event, standby=True) as host:  # resident, as the tray's: restarts take over
        host.launch()  # the endpoint answers 503 until the model is in
        endpoint = Endpoint(paths, lambda: host, say)
        endpoint.apply(server)
        if endpoint.port is None:
            return 1
        say(f"serving {options.model_id} on http://127.0.0.1:{endpoint.port} (the token: `phitray server token`); "
            "Ctrl+C stops")
        try:
            while not stop.wait(0.5):
                pass
        finally:
            endpoint.stop()
    return 0


def cmd_server_token(args: argparse.Namespace, paths: Paths) -> int:
    from phitray.serve.token import read_or_create

    print(read_or_create(paths.server_token_file))
    return 0


def add_serve_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve the model to other programs on this PC, without the tray")
    serve.add_argument("--port", type=int, help="the port on 127.0.0.1 and ::1 (default: [server] port, 11435)")
    serve.add_argument("--backend", help="a backend or a comma-separated chain (default: the settings' chain)")
    serve.add_argument("--model", help="model id (default: the settings' model)")
    serve.add_argument("--no-pull", action="store_true", help="never download; use what is installed")
    serve.set_defaults(handler=cmd_serve)

    server = commands.add_parser("server", help="the local endpoint's token")
    verbs = server.add_subparsers(dest="verb", metavar="VERB", required=True)
    token = verbs.add_parser("token", help="print the bearer token programs send (made on first use)")
    token.set_defaults(handler=cmd_server_token)
