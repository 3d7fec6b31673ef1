"""`phitray history`: the running agent's last results, newest first, for a person or a script.

Asked over the single-instance channel like `status`; nothing is read from
disk here, so it answers the same whether or not the history is kept there.
Plain lines by default (one result each, tab-separated, texts on one line and
shortened); `--json` gives every field and the texts whole as far as the
channel carries them (an entry says "cut": true where not).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from phitray.cli.common import EXIT_NOTHING_TO_DO, say
from phitray.desktop.instance import instance_address, send_to_running
from phitray.paths import Paths

LINE_TEXT_CHARACTERS = 60


def cmd_history(args: argparse.Namespace, paths: Paths) -> int:
    answer = send_to_running(instance_address(paths), "history")
    if answer is None:
        say("no agent is running: the history lives in the running agent (start it with `phitray run`).")
        return EXIT_NOTHING_TO_DO
    try:
        entries = json.loads(answer)
        if not isinstance(entries, list):
            raise ValueError
    except ValueError:
        say("the running agent keeps no history; it is an older version (`phitray stop`, then start it again).")
        return EXIT_NOTHING_TO_DO
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=1))
    else:
        for entry in entries:
            print(plain_line(entry))
    return 0


def plain_line(entry: dict[str, Any]) -> str:
    """One result as one line: number, time, app, action, pasted or not, then the original and the answer."""
    def short(text: Any) -> str:
        flat = " ".join(str(text).split())
        return flat if len(flat) <= LINE_TEXT_CHARACTERS else flat[:LINE_TEXT_CHARACTERS - 1] + "…"

    fields = (entry.get("number"), entry.get("time"), entry.get("app") or "-", entry.get("action"),
              "pasted" if entry.get("pasted") else "not pasted", short(entry.get("original", "")),
              short(entry.get("answer", "")))
    return "\t".join(str(field) for field in fields)


def add_history_commands(commands: Any) -> None:
    history = commands.add_parser("history", help="the running agent's last results (kept in memory unless "
                                                  "[history] keep_on_disk is on)")
    history.add_argument("--json", action="store_true", help="every field, texts whole, as JSON for scripts")
    history.set_defaults(handler=cmd_history)
