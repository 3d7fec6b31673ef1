"""The agent's own latency on a real X server: hotkey → prompt at the model, paste → clipboard back.

    python bench/agent_latency.py [--runs 20] [--data-dir DIR] [--json FILE]

Starts Xvfb, dunst, trayer and a Tk editor (tests/helpers/desktop.py), runs
`phitray run` with the starter model on openvino-cpu, and proofreads a
selection `--runs` times with the hotkey held for 200 ms, as a person does.
Each job's timeline comes from the agent's log. Printed: medians of
  modifiers released → prompt handed to the model host,
  paste sent → clipboard restored (and → paste taken by the editor),
plus how many runs lost the editor's text or the person's clipboard.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers.agent import start_agent  # noqa: E402
from helpers.desktop import missing_tools, open_text_widget, start_session  # noqa: E402
from phitray.backends.pull import pull  # noqa: E402
from phitray.backends.store import ModelStore  # noqa: E402
from phitray.paths import Paths  # noqa: E402

SETTINGS = """
[engine]
chain = ["openvino-cpu"]
model = "starter"
allow_pull = false
[hotkeys.actions]
proofread = "ctrl+alt+p"
"""
SENTENCES = [
    "i has went to the store yesterday and buyed three apple.",
    "their going to the park tomorow if it dont rain.",
    "we was happy when the team winned the match.",
    "she dont like when peoples is late for the meeting.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=REPO / ".cache" / "test" / "data",
                        help="where the starter model is (pulled there if missing)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if missing_tools():
        print(f"missing desktop tools {missing_tools()}: run scripts/desktop-deps.sh --test", file=sys.stderr)
        return 2
    store = ModelStore(args.data_dir / "models")
    if store.find("starter", "openvino-cpu") is None:
        pull(store, "starter", "openvino-cpu", lambda text: print(text, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="phitray-bench-") as scratch:
        folder = Path(scratch)
        paths = Paths(folder / "config", args.data_dir, folder / "cache", folder / "log")
        session = start_session(folder / "desktop")
        agent = None
        try:
            agent = start_agent(session, paths, SETTINGS)
            widget = open_text_widget(session)
            rows, lost_text, lost_clipboard = [], 0, 0
            for run in range(args.runs):
                sentence = SENTENCES[run % len(SENTENCES)]
                own_clipboard = f"the person's clipboard #{run} ✓"
                session.set_clipboard(own_clipboard)
                widget.fill(sentence)
                widget.select_all()
                jobs_before = len(agent.jobs())
                session.xdotool("keydown", "ctrl+alt+p")
                time.sleep(0.2)
                session.xdotool("keyup", "ctrl+alt+p")
                record = agent.wait_job(jobs_before + 1, timeout=60)
                text = widget.wait_text(lambda current, s=sentence: current != s, 10)
                lost_text += record.outcome != "done" or not text.strip() or text == sentence
                lost_clipboard += session.clipboard() != own_clipboard
                t = record.timings
                rows.append({
                    "released_to_prompt_ms": t["prompt_sent"] - t["modifiers_released"],
                    "paste_to_restored_ms": t["clipboard_restored"] - t["paste_sent"],
                    "paste_to_taken_ms": t.get("paste_taken", float("nan")) - t["paste_sent"],
                    "answer_ms": t["answer_done"] - t["prompt_sent"],
                })
            widget.close()
        finally:
            if agent is not None:
                agent.stop()
            session.stop()
    medians = {key: round(statistics.median(row[key] for row in rows), 1) for key in rows[0]}
    print(f"phitray agent latency on Xvfb, starter on openvino-cpu, {args.runs} hotkey proofreads (medians)")
    print(f"  modifiers released → prompt at the model host  {medians['released_to_prompt_ms']:7.1f} ms")
    print(f"  paste sent → editor took the paste             {medians['paste_to_taken_ms']:7.1f} ms")
    print(f"  paste sent → clipboard restored                {medians['paste_to_restored_ms']:7.1f} ms")
    print(f"  (model time per answer                         {medians['answer_ms']:7.1f} ms)")
    print(f"  runs that lost the editor's result: {lost_text}; runs that lost the person's clipboard: {lost_clipboard}")
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "medians": medians, "lost_text": lost_text,
                                         "lost_clipboard": lost_clipboard}, indent=2))
    return 0 if not lost_text and not lost_clipboard else 1


if __name__ == "__main__":
    sys.exit(main())
