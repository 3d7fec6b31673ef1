"""Every action on one sample text with one model, and a 30,000-word map-reduce summary.

    python bench/actions_showcase.py [--model starter] [--words 30000]

Shows what each built-in prompt makes of the model, and the long-text path's
chunk count, model calls and wall time.
"""

from __future__ import annotations

import argparse
import time

from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.backends.chain import ChainOptions
from phitray.paths import Paths
from phitray.host.client import ModelHost

from samples import long_text

SAMPLE = (
    "hi team, i wanted to let you know that the release is delayed untill next friday becuase the "
    "translation files arent ready yet. we will send a new build to testers on wednesday, please report "
    "any problems before thursday noon so we can fix them in time."
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="starter")
    parser.add_argument("--words", type=int, default=30_000)
    args = parser.parse_args()
    paths = Paths.from_environment()
    library = load_actions(paths.user_actions_dir)
    options = ChainOptions(("openvino-cpu",), args.model, paths.compile_cache_dir, allow_pull=False)
    with ModelHost(options, paths) as host:
        host.start()
        print(f"sample: {SAMPLE}\n")
        for action in library.ordered():
            values = {"instruction": "Turn this into a haiku."} if action.id == "custom" else None
            if action.id == "translate":
                values = {"language": "French"}
            result = run_action(host, action, SAMPLE, values)
            print(f"--- {action.id} ({result.seconds:.1f} s)\n{result.text}\n")
        text = long_text(args.words)
        started = time.perf_counter()
        result = run_action(host, library.get("summarize"), text)
        print(f"--- summarize on {len(text.split()):,} words ({len(text):,} characters): {result.chunks} chunks, "
              f"{result.model_calls} model calls, {time.perf_counter() - started:.1f} s\n{result.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
