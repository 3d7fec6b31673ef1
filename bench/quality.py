"""The quality benchmark: every built-in action on a kept corpus, through the starter model, with the
answer checks the agent runs before it delivers anything.

    .venv/bin/python bench/quality.py [--texts N] [--actions a,b] [--json PATH]

For each action it prints: answers that passed every check, answers flagged (and by which
check), and answers that would have been delivered unflagged although a reference check
disagrees — for edits (proofread, rewrite, the tones, concise): word similarity below 0.6 or
a number of the input lost; for the rest: none. The goal for the last column is zero.
The corpus (bench/quality_corpus.json) holds 42 texts in 14 languages: e-mails, chat, reports,
instructions, texts full of numbers, names, URLs, a prompt injection. Every number goes to
bench/out/quality-<time>.json beside the table.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.models import store_with_test_models  # noqa: E402
from phitray.actions.checks import NUMBER, check_answer, failed, word_similarity  # noqa: E402
from phitray.actions.library import load_actions  # noqa: E402
from phitray.actions.runner import run_action  # noqa: E402
from phitray.backends.chain import ChainOptions  # noqa: E402
from phitray.errors import PhiTrayError  # noqa: E402
from phitray.host.client import ModelHost  # noqa: E402
from phitray.paths import Paths  # noqa: E402

EDITS = ("proofread", "rewrite", "friendly", "professional", "concise")
REFERENCE_SIMILARITY = 0.6


def reference_disagrees(action_id: str, text: str, answer: str) -> str:
    """Why an independent judge would not paste this answer; '' when it would."""
    if action_id not in EDITS:
        return ""
    similarity = word_similarity(text, answer)
    if similarity < REFERENCE_SIMILARITY:
        return f"word similarity {similarity:.2f}"
    lost = [n for n in NUMBER.findall(text) if n not in answer]
    return f"number {lost[0]} lost" if lost else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=0, help="only the first N texts (default: all)")
    parser.add_argument("--actions", help="a comma-separated list of action ids (default: every built-in but custom)")
    parser.add_argument("--json", type=Path, help="where to write the numbers (default bench/out/quality-<time>.json)")
    parser.add_argument("--max-new-tokens", type=int, default=0,
                        help="cap every answer (default: each action's own); a loop is flagged well before 1,024 tokens")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a generation option over the model's catalog defaults, e.g. frequency_penalty=0.3")
    args = parser.parse_args()
    corpus = json.loads((REPO / "bench" / "quality_corpus.json").read_text(encoding="utf-8"))
    corpus = corpus[: args.texts] if args.texts else corpus
    library = load_actions(None)
    wanted = args.actions.split(",") if args.actions else [a.id for a in library.ordered() if a.id != "custom"]
    out = args.json or REPO / "bench" / "out" / f"quality-{time.strftime('%Y%m%d-%H%M%S')}.json"
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="phitray-quality-") as scratch:
        folder = Path(scratch)
        paths = Paths(folder / "config", store_with_test_models(), folder / "cache", folder / "log")
        tuning = tuple((name, float(value)) for name, _, value in (pair.partition("=") for pair in args.set))
        options = ChainOptions(("openvino-cpu",), "starter", paths.compile_cache_dir, allow_pull=False,
                               generation=tuning)
        with ModelHost(options, paths) as host:
            host.start(timeout=300)
            for action_id in wanted:
                action = library.get(action_id)
                if args.max_new_tokens:
                    action = dataclasses.replace(action, max_new_tokens=min(action.max_new_tokens, args.max_new_tokens))
                for item in corpus:
                    values = action.values({"language": "French" if item["lang"] == "en" else "English"}
                                           if "language" in action.placeholders else {})
                    try:
                        answer = run_action(host, action, item["text"], values).text
                    except PhiTrayError as error:
                        rows.append({"action": action_id, "text": item["id"], "error": str(error)})
                        continue
                    checks = check_answer(action.checks, item["text"], answer, values)
                    problems = failed(checks)
                    rows.append({
                        "action": action_id, "text": item["id"], "answer": answer,
                        "failed": [p.name for p in problems], "reasons": [p.reason for p in problems],
                        "reference": "" if problems else reference_disagrees(action_id, item["text"], answer),
                    })
                print(f"  {action_id}: done", file=sys.stderr, flush=True)
    table = summarize(rows, wanted)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"corpus": len(corpus), "generation": args.set, "max_new_tokens": args.max_new_tokens,
                               "seconds": round(time.monotonic() - started), "table": table,
                               "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    print_table(table, len(corpus))
    print(f"\n{len(rows)} answers in {time.monotonic() - started:.0f} s; every answer and reason in {out}")
    return 0


def summarize(rows: list[dict[str, object]], actions: list[str]) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for action_id in actions:
        mine = [r for r in rows if r["action"] == action_id]
        by_check = collections.Counter(name for r in mine for name in r.get("failed", []))  # type: ignore[attr-defined]
        table[action_id] = {
            "passed": sum(1 for r in mine if "error" not in r and not r["failed"]),
            "flagged": sum(1 for r in mine if r.get("failed")),
            "by_check": dict(by_check.most_common()),
            "unflagged_but_reference_disagrees": sum(1 for r in mine if r.get("reference")),
            "errors": sum(1 for r in mine if "error" in r),
        }
    return table


def print_table(table: dict[str, dict[str, object]], texts: int) -> None:
    print(f"\nphitray quality benchmark — starter on openvino-cpu, {texts} texts per action")
    print(f"  {'action':<13}{'passed':>7}{'flagged':>8}  {'unflagged, reference disagrees':>31}  flagged by")
    for action_id, row in table.items():
        by = ", ".join(f"{name} {count}" for name, count in row["by_check"].items()) or "-"  # type: ignore[attr-defined]
        print(f"  {action_id:<13}{row['passed']:>7}{row['flagged']:>8}  {row['unflagged_but_reference_disagrees']:>31}  {by}")


if __name__ == "__main__":
    sys.exit(main())
