"""`phitray act ACTION [TEXT]` and `phitray actions list | check`."""

from __future__ import annotations

import argparse
import json
import sys

from phitray.actions.library import load_actions
from phitray.actions.runner import DEFAULT_MAX_CHARACTERS, run_action
from phitray.actions.checks import check_answer, failed, unknown_language
from phitray.cli.common import EXIT_FLAGGED, EXIT_NOTHING_TO_DO, add_engine_options, read_text, running_host, say
from phitray.errors import ConfigError
from phitray.paths import Paths


def parse_values(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"--set takes name=value, not {pair!r}.")
        values[name.strip()] = value
    return values


def cmd_act(args: argparse.Namespace, paths: Paths) -> int:
    library = load_actions(paths.user_actions_dir)
    action = library.get(args.action)
    values = parse_values(args.set or [])
    action.values(values)
    text = read_text(args.text)
    if not text.strip():
        say("There is no text to work on: the input is empty or only whitespace.")
        return EXIT_NOTHING_TO_DO
    with running_host(args, paths) as host:
        info = host.info
        assert info is not None

        def show(chunk: str) -> None:
            """Called on this (the main) thread as the answer streams: clean text, which is what `--json`
            gives as "text"."""
            if not args.json:
                sys.stdout.write(chunk)
                sys.stdout.flush()

        result = run_action(host, action, text, values, show, max_characters=args.max_characters)
    checks = check_answer(action.checks, text, result.text, action.values(values), raw=result.raw)
    problems = failed(checks)
    if args.json:
        print(json.dumps({
            "action": result.action_id, "text": result.text, "backend": info.backend_id, "model": info.model_id,
            "chunks": result.chunks, "model_calls": result.model_calls,
            "ttft_seconds": round(result.ttft_seconds, 3), "seconds": round(result.seconds, 3),
            "tokens": result.tokens, "tokens_per_second": round(result.tokens_per_second, 1),
            "decoding": result.decoding,
            "checks": [check.as_json() for check in checks], "flagged": bool(problems),
        }, ensure_ascii=False))
    elif sys.stdout.isatty() and not result.text.endswith("\n"):
        print()  # the prompt on a line of its own; a pipe gets the answer exactly as --json has it
    if problems:
        say(f"the answer failed {len(problems)} check{'s' if len(problems) > 1 else ''}: "
            + "; ".join(f"{problem.name}: {problem.reason}" for problem in problems))
        return EXIT_FLAGGED
    return 0


def cmd_list(args: argparse.Namespace, paths: Paths) -> int:
    library = load_actions(paths.user_actions_dir)
    if args.json:
        print(json.dumps([{"id": a.id, "title": a.title, "output": a.output, "hotkey": a.hotkey,
                           "placeholders": a.placeholders, "source": a.source} for a in library.ordered()], indent=2))
        return 0
    print(f"{'id':<16}{'title':<24}{'output':<11}{'hotkey':<18}source")
    for a in library.ordered():
        print(f"{a.id:<16}{a.title:<24}{a.output:<11}{a.hotkey or '-':<18}{a.source}")
    for problem in library.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace, paths: Paths) -> int:
    """Every problem of the action files, and a translate language in the settings the checks do not know."""
    from phitray.settings import load_settings

    library = load_actions(paths.user_actions_dir)
    problems = [str(problem) for problem in library.problems]
    settings = load_settings(paths.settings_file).settings
    language = unknown_language(settings.translate_language)
    if language:
        problems.append(f"{paths.settings_file}: translate.language: {language}")
    for problem in problems:
        print(problem)
    print(f"{len(library.actions)} actions loaded, {len(problems)} problems.")
    return 1 if problems else 0


def add_action_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    act = commands.add_parser("act", help="run an action on a text (argument or stdin) and stream the result")
    act.add_argument("action", help="an action id, see `phitray actions list`")
    act.add_argument("text", nargs="?", help="the text; read from stdin when absent")
    add_engine_options(act)
    act.add_argument("--set", action="append", metavar="NAME=VALUE", help="fill a placeholder, e.g. language=French")
    act.add_argument("--json", action="store_true", help="print the result and timings as one JSON object")
    act.add_argument("--max-characters", type=int, default=DEFAULT_MAX_CHARACTERS,
                     help=f"refuse longer text (default {DEFAULT_MAX_CHARACTERS:,})")
    act.set_defaults(handler=cmd_act)

    actions = commands.add_parser("actions", help="list or check the actions")
    which = actions.add_subparsers(dest="actions_command", metavar="ACTION", required=True)
    listing = which.add_parser("list", help="ids, titles, outputs and hotkeys")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    which.add_parser("check", help="print every problem in the action files; exit 1 if any").set_defaults(handler=cmd_check)
