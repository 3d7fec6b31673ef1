"""The answer checks bench: false alarms on good answers and misses among bad ones, on real text in 25 languages.

    .venv/bin/python bench/checks.py [--per-language N] [--seed S] [--json PATH] [--show KIND]

Every answer goes the agent's own way: phitray.host.scripted's ScriptedHost streams it through
`run_action` (the prompt's stop string, the cleanup, the selection's edges), then the call the jobs
layer makes, `check_answer` with the action's checks, the placeholder values and the answer as
streamed (`raw`). The cases come from
bench/check_cases.py on bench/corpus/messages.json (real translations shipped in packages; see
bench/corpus/SOURCES.md). A bad answer counts as caught when any check fails; it is "aimed at" when
the action declares a check meant for what was broken.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import inspect
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from check_cases import NAMES, Case, cases, load  # noqa: E402
from phitray.actions import checks as check_module  # noqa: E402
from phitray.actions.checks import check_answer, failed  # noqa: E402
from phitray.actions.library import load_actions  # noqa: E402
from phitray.actions.runner import run_action  # noqa: E402
from phitray.host.scripted import Answer, ScriptedHost  # noqa: E402

ACTIONS = ("proofread", "rewrite", "friendly", "professional", "concise", "translate", "summarize", "key-points",
           "bullet-list")
NUMBERS = ("keeps_facts", "keeps_numbers", "adds_no_numbers")
# What was broken → the checks meant to catch it.
AIMS = {
    "number ×10": NUMBERS, "number digit": NUMBERS, "number point": NUMBERS,
    "number dropped": ("keeps_facts", "keeps_numbers"), "identifier dropped": ("keeps_facts", "keeps_numbers"),
    "url changed": ("keeps_facts", "keeps_numbers"), "acronym dropped": ("keeps_facts",), "name dropped": ("keeps_facts",),
    "negation dropped": ("keeps_negation", "keeps_polarity"), "echo": ("no_prompt_echo",),
    "loop: whole answer twice": ("no_loop",), "loop: a line over and over": ("no_loop",),
    "loop: a sentence over and over": ("no_loop",), "wrong language": ("same_language", "target_language"),
    "untranslated": ("target_language",), "empty": ("not_empty",), "unrelated": ("close_to_input",),
    "truncated to 40 %": ("covers_input",), "the input itself": ("shorter",), "longer than the input": ("shorter",),
}
TARGETS = {"false alarms": 2.0, "false alarms, each language": 5.0, "aimed misses": 5.0,
           "aimed misses, each language": 10.0, "all misses": 15.0, "median ms": 2.0, "p95 ms": 10.0}


def declared(checks: object) -> set[str]:
    names = {f.name for f in dataclasses.fields(checks) if getattr(checks, f.name) not in (None, False)}  # type: ignore[arg-type]
    return names | {"not_empty"}


def run(all_cases: list[Case]) -> list[dict[str, object]]:
    library = load_actions(None)
    takes_raw = "raw" in inspect.signature(check_answer).parameters
    answer = ""
    model = ScriptedHost(lambda request: Answer.words(answer) if answer else Answer(()))
    check_answer(library.get("proofread").checks, "Das ist ein Satz.", "Das ist ein Satz.")  # loads the language model
    rows = []
    for case in all_cases:
        action = library.get(case.action)
        values = dict(case.values)
        answer = action.render(case.text, values)[1] if case.raw == "$PROMPT" else case.raw
        result = run_action(model, action, case.text, values)
        extra = {"raw": result.raw} if takes_raw else {}
        if hasattr(check_module, "clear_caches"):
            check_module.clear_caches()  # timed as the agent meets a text: for the first time
        started = time.perf_counter()
        results = check_answer(action.checks, case.text, result.text, action.values(values), **extra)
        seconds = time.perf_counter() - started
        aims = AIMS.get(case.kind, ())
        rows.append({
            "action": case.action, "lang": case.lang, "kind": case.kind, "message": case.message,
            "failed": [r.name for r in failed(results)], "reasons": [r.reason for r in failed(results)],
            "aimed": bool(set(aims) & declared(action.checks)), "ms": seconds * 1000,
            "text": case.text, "answer": result.text,
        })
    return rows


def share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def report(rows: list[dict[str, object]]) -> dict[str, object]:
    good = [r for r in rows if r["kind"] == "good"]
    bad = [r for r in rows if r["kind"] != "good"]
    aimed = [r for r in bad if r["aimed"]]
    alarms = sum(1 for r in good if r["failed"])
    missed = sum(1 for r in aimed if not r["failed"])
    all_missed = sum(1 for r in bad if not r["failed"])
    times = sorted(float(r["ms"]) for r in rows)  # type: ignore[arg-type]
    languages = {}
    for lang in sorted({str(r["lang"]) for r in rows}):
        g = [r for r in good if r["lang"] == lang]
        a = [r for r in aimed if r["lang"] == lang]
        b = [r for r in bad if r["lang"] == lang]
        languages[lang] = {"good": len(g), "false_alarms": share(sum(1 for r in g if r["failed"]), len(g)),
                           "aimed": len(a), "aimed_missed": share(sum(1 for r in a if not r["failed"]), len(a)),
                           "bad": len(b), "all_missed": share(sum(1 for r in b if not r["failed"]), len(b))}
    kinds = {}
    for key in sorted({(str(r["action"]), str(r["kind"])) for r in rows}, key=lambda k: (ACTIONS.index(k[0]), k[1] != "good", k[1])):
        mine = [r for r in rows if (r["action"], r["kind"]) == key]
        wrong = [r for r in mine if bool(r["failed"]) == (key[1] == "good")]
        by = collections.Counter(name for r in mine for name in r["failed"])  # type: ignore[attr-defined]
        kinds["  ".join(key)] = {"n": len(mine), "wrong": share(len(wrong), len(mine)), "aimed": bool(mine[0]["aimed"]),
                                 "by": dict(by.most_common(3))}
    return {
        "cases": len(rows), "good": len(good), "bad": len(bad), "aimed": len(aimed),
        "false alarms": share(alarms, len(good)), "aimed misses": share(missed, len(aimed)),
        "all misses": share(all_missed, len(bad)),
        "false alarms, each language": max(v["false_alarms"] for v in languages.values()),
        "aimed misses, each language": max(v["aimed_missed"] for v in languages.values()),
        "median ms": statistics.median(times), "p95 ms": times[int(len(times) * 0.95)],
        "languages": languages, "kinds": kinds,
    }


def print_report(summary: dict[str, object]) -> None:
    kinds: dict[str, dict[str, object]] = summary["kinds"]  # type: ignore[assignment]
    languages: dict[str, dict[str, float]] = summary["languages"]  # type: ignore[assignment]
    print(f"\nphitray checks bench — {summary['cases']} answers ({summary['good']} good, {summary['bad']} bad, "
          f"{summary['aimed']} of them aimed at by a declared check) in {len(languages)} languages")
    print(f"  {'action  kind':<44}{'answers':>8}{'wrong':>8}  flagged by")
    for key, row in kinds.items():
        mark = "" if key.endswith("good") or row["aimed"] else "  (no declared check aims at it)"
        by = ", ".join(f"{name} {count}" for name, count in row["by"].items()) or "-"  # type: ignore[attr-defined]
        print(f"  {key:<44}{row['n']:>8}{row['wrong']:>7.1f}%  {by}{mark}")
    print(f"\n  {'language':<10}{'good':>6}{'false alarms':>14}{'aimed bad':>11}{'missed':>8}{'all bad':>9}{'missed':>8}")
    for lang, row in languages.items():
        print(f"  {lang:<10}{row['good']:>6}{row['false_alarms']:>13.1f}%{row['aimed']:>11}{row['aimed_missed']:>7.1f}%"
              f"{row['bad']:>9}{row['all_missed']:>7.1f}%")
    print()
    for name, target in TARGETS.items():
        value = float(summary[name])  # type: ignore[arg-type]
        unit = " ms" if name.endswith(" ms") else " %"
        print(f"  {name:<30}{value:>7.2f}{unit}   target ≤ {target:g}{unit}   {'met' if value <= target else 'NOT MET'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-language", type=int, default=40, help="sentences per language and action (default 40)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--languages", default=",".join(NAMES), help="comma-separated codes (default: all 25)")
    parser.add_argument("--json", type=Path, help="every answer, its checks and the summary")
    parser.add_argument("--show", metavar="KIND", help="print the answers of this kind judged wrong ('good': false alarms)")
    args = parser.parse_args()
    all_cases = cases(load(), tuple(args.languages.split(",")), args.seed, args.per_language)
    started = time.monotonic()
    rows = run(all_cases)
    summary = report(rows)
    if args.show:
        for r in rows:
            if r["kind"] == args.show and bool(r["failed"]) == (args.show == "good"):
                print(f"[{r['action']} {r['lang']}] {r['reasons'] or 'passed'}\n   text:   {r['text']!r}\n   answer: {r['answer']!r}")
    print_report(summary)
    print(f"\n  {len(rows)} answers in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
