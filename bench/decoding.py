"""Prompt-lookup settings measured on the quality corpus's edits: speed, and how often the answer changes.

    .venv/bin/python bench/decoding.py [--texts 10] [--actions proofread,rewrite] [--settings 1/1,8/3,12/3,...]

For every text and edit action (the built-in templates, the chat template, the starter's catalog
generation options: what the agent sends) it runs a plain LLMPipeline, then a prompt-lookup pipeline
with each setting (num_assistant_tokens/max_ngram_size), one after the other, so every setting sees
the same machine. It prints per setting: tokens/s over the whole corpus (answer tokens after the first over
the time after the first, as the model host counts) and its ratio to plain, for each action too; answers identical to plain greedy decoding; answers
passing the action's checks against plain's; and the median word similarity of the answers that
differ to plain's. "1/1" is what a plain request costs on the prompt-lookup pipeline the agent keeps.

    .venv/bin/python bench/decoding.py --adaptive [--texts 10]

runs the agent's own backend instead (OpenVINOBackend, whose prompt lookup adapts its draft per action,
backends/lookup_tuner.py) against a plain LLMPipeline, answer by answer, on the built-in edits and on three
edit actions the lookup was never tuned on, written here and not shipped: a slip fixer (on the texts with
up to four typing slips each), a Markdown formatter and a warmer tone. It prints adaptive ÷ plain tokens/s per
action over every answer (the tuner's first tries included) and the draft each action settled on, two ways:
pooled (all answer tokens over all decoding time) and per answer (the geometric mean of each answer's
ratio, as speed-ups are averaged). The targets, ≥ 1.0 for every action and ≥ 1.6 for the copy-heavy ones,
are read per answer: each answer is one wait for the person, and pooled, the few answers in which the
starter stops editing and rambles for hundreds of tokens (a proofread of "Thanks, see you at 5." that
explains how to paste text, 355 tokens; no draft can be taken there, and the checks refuse the answer)
outweigh all the others.
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
# Edit actions the lookup was not tuned on, as a person would write them (not shipped).
UNTUNED = {
    "slips": ("You fix typing slips: swapped, doubled or missing letters. Change nothing else. Output only the "
              "text.", "Fix the typing slips in the text between <text> and </text>.\n\n$text"),
    "markdown": ("You format text as Markdown. Keep every word as it is. Output only the Markdown.",
                 "Format the text between <text> and </text> as Markdown: a short heading, then one sentence per "
                 "line.\n\n$text"),
    "warmer": ("You change the tone of text. Keep every fact. Output only the rewritten text.",
               "Rewrite the text between <text> and </text> in a warmer, friendlier tone.\n\n$text"),
}
COPY_HEAVY = ("proofread", "slips", "markdown")


def with_slips(text: str, count: int = 4) -> str:
    """The text with up to `count` typing slips (two letters swapped in evenly spaced longer words)."""
    words = text.split(" ")
    long = [index for index, word in enumerate(words) if len(word) >= 6 and word.isalpha()]
    for index in long[:: max(1, len(long) // count)][:count]:
        word = words[index]
        words[index] = word[:2] + word[3] + word[2] + word[4:]
    return " ".join(words)


def adaptive(texts: int) -> int:
    """The agent's adaptive prompt lookup against plain decoding, per action (see the module's docstring)."""
    import threading

    from phitray.actions.model import parse_action
    from phitray.backends.base import Request
    from phitray.backends.lookup_tuner import LookupTuner
    from phitray.backends.openvino import OpenVINOBackend

    corpus = json.loads((REPO / "bench" / "quality_corpus.json").read_text(encoding="utf-8"))[:texts]
    library = load_actions(None)
    actions = {**{action_id: library.get(action_id) for action_id in EDITS},
               **{action_id: parse_action({"id": action_id, "title": action_id, "system": system, "prompt": prompt,
                                           "decoding": "prompt-lookup", "max_new_tokens": 400}, "bench")
                  for action_id, (system, prompt) in UNTUNED.items()}}
    store = ModelStore(store_with_test_models() / "models")
    model = store.resolve("starter", "openvino-cpu")
    tuning = tuple(generation_defaults("starter").items())
    plain = BarePipeline(model.path)
    backend = OpenVINOBackend("openvino-cpu", REPO / ".cache" / "bench-decoding")
    backend.load(model, lambda text: None)
    totals: dict[str, list[float]] = {}  # action -> [adaptive tokens, adaptive s, plain tokens, plain s]
    answers: dict[str, list[float]] = {}  # action -> each answer's adaptive ÷ plain tokens/s
    for action_id, action in actions.items():
        for item in corpus:
            text = with_slips(item["text"]) if action_id == "slips" else item["text"]
            system, prompt = action.render(text)
            alone = plain.run(plain.chat_prompt(prompt, system or None), action.max_new_tokens, (TEXT_CLOSE,),
                              tuning=dict(tuning))
            request = Request(prompt, system or None, action.max_new_tokens, 0.0, (TEXT_CLOSE,), tuning,
                              "prompt-lookup")
            asked, first, pieces = time.perf_counter(), 0.0, []
            for piece in backend.stream(request, threading.Event()):
                first = first or time.perf_counter()
                pieces.append(piece)
            ended = time.perf_counter()
            tally = totals.setdefault(action_id, [0.0, 0.0, 0.0, 0.0])
            tokens = backend.count_tokens("".join(pieces))
            tally[0] += max(tokens - 1, 0)
            tally[1] += ended - (first or asked)
            tally[2] += max(alone.tokens - 1, 0)
            tally[3] += alone.seconds - alone.ttft_seconds
            if tokens > 1 and alone.tokens > 1 and first and ended > first and alone.seconds > alone.ttft_seconds:
                answers.setdefault(action_id, []).append(((tokens - 1) / (ended - first)) /
                                                         ((alone.tokens - 1) / (alone.seconds - alone.ttft_seconds)))
        print(f"  {action_id}: done", file=sys.stderr, flush=True)
    tuner: LookupTuner = backend._tuner
    print(f"\nadaptive prompt lookup (the agent's backend) ÷ plain LLMPipeline, the starter on openvino-cpu, "
          f"{len(corpus)} texts per action")
    print(f"  {'action':<14}{'adaptive t/s':>13}{'plain t/s':>11}{'pooled':>8}{'per answer':>12}{'target':>8}"
          "   settled on")
    rows = {}
    for action_id, (tokens, seconds, plain_tokens, plain_seconds) in totals.items():
        pooled = (tokens / seconds) / (plain_tokens / plain_seconds)
        ratio = statistics.geometric_mean(answers[action_id]) if answers.get(action_id) else 0.0
        target = 1.6 if action_id in COPY_HEAVY else 1.0
        arms = tuner.measured(actions[action_id].render("x")[0] or "")  # the host knows an action by its system
        measured = {draft: arm for draft, arm in arms.items() if arm.answers}
        best = max(measured, key=lambda draft: measured[draft].tokens_per_second) if measured else None
        settled = "plain" if best == 0 else f"{best}/3" if best else "-"
        rows[action_id] = {"ratio": ratio, "pooled": pooled, "answers": answers.get(action_id, []), "target": target,
                           "settled": settled}
        print(f"  {action_id:<14}{tokens / seconds:>13.1f}{plain_tokens / plain_seconds:>11.1f}{pooled:>7.2f}×"
              f"{ratio:>11.2f}×{target:>7.1f}×   {settled}{'' if ratio >= target else '   MISSED'}")
    out = REPO / "bench" / "out" / f"decoding-adaptive-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"texts": len(corpus), "rows": rows}, indent=1), encoding="utf-8")
    print(f"numbers: {out}")
    backend.unload()
    return 0


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
    parser.add_argument("--adaptive", action="store_true",
                        help="the agent's adaptive prompt lookup against plain, on the edits and three untuned ones")
    args = parser.parse_args()
    if args.adaptive:
        return adaptive(args.texts)
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
