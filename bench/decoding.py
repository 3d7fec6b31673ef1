"""Prompt-lookup settings measured on the quality corpus's edits: speed, and how often the answer changes.

    .venv/bin/python bench/decoding.py [--texts 10] [--actions proofread,rewrite] [--settings 1/1,8/3,12/3,...]

For every text and edit action (the built-in templates, the chat template, the starter's catalog
generation options: what the agent sends) it runs a plain LLMPipeline, then a prompt-lookup pipeline
with each setting (num_assistant_tokens/max_ngram_size), one after the other, so every setting sees
the same machine. It prints per setting: tokens/s over the whole corpus (answer tokens after the first over
the time after the first, as the model host counts) and its ratio to plain, for each action too; answers identical to plain greedy decoding; answers
passing the action's checks against plain's; and the median word similarity of the answers that
differ to plain's. "1/1" is what a plain request costs on the prompt-lookup pipeline the agent keeps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.models import store_with_test_models  # noqa: E402
from phitray.actions.checks import check_answer, failed, word_similarity  # noqa: E402
from phitray.actions.cleanup import clean_answer  # noqa: E402
from phitray.actions.library import load_actions  # noqa: E402
from phitray.actions.model import TEXT_CLOSE  # noqa: E402
from phitray.backends.catalog import generation_defaults  # noqa: E402
from phitray.backends.store import ModelStore  # noqa: E402

from bare import BarePipeline  # noqa: E402

EDITS = ("proofread", "rewrite", "friendly", "professional", "concise")


def setting(text: str) -> tuple[int, int]:
    tokens, _, ngram = text.partition("/")
    return int(tokens), int(ngram)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=10, help="the first N texts of the corpus")
    parser.add_argument("--actions", default=",".join(EDITS))
    parser.add_argument("--settings", default="1/1,8/3,12/3,16/3,12/2,24/3,12/4",
                        help="num_assistant_tokens/max_ngram_size pairs")
    parser.add_argument("--no-tuning", action="store_true", help="without the model's catalog generation options")
    parser.add_argument("--json", type=Path, help="default bench/out/decoding-<time>.json")
    args = parser.parse_args()
    corpus = json.loads((REPO / "bench" / "quality_corpus.json").read_text(encoding="utf-8"))[: args.texts]
    library = load_actions(None)
    settings = [setting(s) for s in args.settings.split(",")]
    model = ModelStore(store_with_test_models() / "models").resolve("starter", "openvino-cpu").path
    tuning = {} if args.no_tuning else generation_defaults("starter")
    plain, lookup = BarePipeline(model), BarePipeline(model, prompt_lookup=True)
    names = ["plain"] + [f"{a}/{b}" for a, b in settings]
    totals = {name: [0, 0.0] for name in names}  # tokens after the first, seconds after the first chunk
    per_action: dict[str, dict[str, list[float]]] = {}
    identical = {name: 0 for name in names}
    passing = {name: 0 for name in names}
    similarity: dict[str, list[float]] = {name: [] for name in names}
    answers = 0
    started = time.monotonic()
    for action_id in args.actions.split(","):
        action = library.get(action_id)
        for item in corpus:
            system, prompt = action.render(item["text"])
            chat = plain.chat_prompt(prompt, system or None)
            runs = {"plain": plain.run(chat, action.max_new_tokens, (TEXT_CLOSE,), tuning=tuning)}
            for (tokens, ngram), name in zip(settings, names[1:]):
                runs[name] = lookup.run(chat, action.max_new_tokens, (TEXT_CLOSE,), (tokens, ngram), tuning)
            base = clean_answer(runs["plain"].text, item["text"])
            for name, timed in runs.items():
                answer = clean_answer(timed.text, item["text"])
                decoded = (max(timed.tokens - 1, 0), timed.seconds - timed.ttft_seconds)
                for tally in (totals[name], per_action.setdefault(action_id, {}).setdefault(name, [0, 0.0])):
                    tally[0] += decoded[0]
                    tally[1] += decoded[1]
                identical[name] += answer == base
                passing[name] += not failed(check_answer(action.checks, item["text"], answer, action.values()))
                if answer != base:
                    similarity[name].append(word_similarity(base, answer))
            answers += 1
        print(f"  {action_id}: done", file=sys.stderr, flush=True)
    plain_rate = totals["plain"][0] / totals["plain"][1]
    rows = {}
    print(f"\nprompt lookup on the starter (openvino-cpu), {answers} edit answers "
          f"({args.actions}; {len(corpus)} texts), {time.monotonic() - started:.0f} s")
    print(f"  {'setting':<9}{'tokens/s':>9}{'÷ plain':>9}{'identical':>11}{'pass checks':>13}{'similarity if not':>19}"
          + "".join(f"{action_id[:11]:>12}" for action_id in per_action))
    for name in names:
        rate = totals[name][0] / totals[name][1]
        near = statistics.median(similarity[name]) if similarity[name] else 1.0
        by_action = {action_id: (tallies[name][0] / tallies[name][1]) / (tallies["plain"][0] / tallies["plain"][1])
                     for action_id, tallies in per_action.items()}
        rows[name] = {"tokens_per_second": rate, "ratio": rate / plain_rate, "identical": identical[name],
                      "passing": passing[name], "median_similarity_when_different": near, "ratio_by_action": by_action}
        print(f"  {name:<9}{rate:>9.1f}{rate / plain_rate:>9.2f}{identical[name]:>7} / {answers:<3}"
              f"{passing[name]:>7} / {answers:<3}{near:>13.2f}      " + "".join(f"{r:>11.2f}×" for r in by_action.values()))
    out = args.json or REPO / "bench" / "out" / f"decoding-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"answers": answers, "actions": args.actions, "texts": len(corpus), "rows": rows},
                              indent=1), encoding="utf-8")
    print(f"numbers: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
