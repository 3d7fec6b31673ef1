"""The tray agent's costs on a real X server, one run: medians, and every ratio taken in the same run.

    python bench/agent.py [--runs 20] [--edit-runs 3] [--throughput-runs 15] [--scaling-runs 5]
                          [--words 30000] [--kills 5] [--idle-seconds 60] [--json FILE]

Starts Xvfb, a session bus with dunst, trayer and a Tk editor
(tests/helpers/desktop.py), and `phitray run` with the starter model on
openvino-cpu, then measures:
  cold start    launch → tray icon visible, launch → model ready (first launch, then a second
                with the compile cache warm); the model host killed → ready again;
  idle          CPU of the daemon and the model host over --idle-seconds, and their RSS;
  latency       hotkey released → prompt at the model host, model's first chunk → first text
                drawn in the popup, answer done → paste sent, paste sent → clipboard restored;
                lost texts and clipboards;
  edits         tokens/s of each edit action (prompt-lookup decoding) through the agent (hotkey →
                popup) against a bare plain LLMPipeline on the same prompts, alternating;
  long input    a --words document selected and summarized by hotkey (map-reduce): wall time,
                tokens/s, and the share of the time spent outside the model;
then a second launch with engine.prompt_lookup = false (a plain pipeline, as bare):
  throughput    tokens/s of a plain action through the agent ÷ tokens/s of a bare plain
                LLMPipeline.generate on the same prompt and model, alternating, with the spread of
                the pairs' ratios; the daemon's and the X server's CPU while the popup streams;
  scaling       TTFT and tokens/s at prompt sizes 64 / 512 / 2,048 tokens, agent and bare.
The same plain action also runs on the first launch's prompt-lookup pipeline, against the same bare
plain pipeline: what keeping one prompt-lookup pipeline costs the requests that ask for plain.
Every number comes from the agent's log (timings, never text) or from /proc. The numbers go
to a JSON file (default bench/out/agent-<time>.json) and the scaling curve to a PNG beside it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from phitray.jobs.record import JobRecord  # noqa: E402
from fixtures.models import store_with_test_models  # noqa: E402
from helpers.agent import STARTER_SETTINGS, RunningAgent, start_agent, story_action  # noqa: E402
from helpers.desktop import DesktopSession, TextWidget, missing_tools, open_text_widget, start_session  # noqa: E402
from helpers.proc import cpu_seconds, rss_kb  # noqa: E402
from phitray.actions.library import load_actions, read_action  # noqa: E402
from phitray.actions.model import TEXT_CLOSE, Action  # noqa: E402
from phitray.backends.catalog import generation_defaults  # noqa: E402
from phitray.backends.store import ModelStore  # noqa: E402
from phitray.paths import Paths  # noqa: E402

from bare import BarePipeline  # noqa: E402
from agent_report import report  # noqa: E402
from samples import long_text  # noqa: E402

# The edit actions on hotkeys, their answers in the popup (a flagged answer would go there anyway).
EDIT_HOTKEYS = {"proofread": "ctrl+alt+p", "rewrite": "ctrl+alt+w", "friendly": "ctrl+alt+f",
                "professional": "ctrl+alt+o", "concise": "ctrl+alt+c"}
SETTINGS = STARTER_SETTINGS + """
[hotkeys.actions]
summarize = "ctrl+alt+m"
""" + "".join(f'{action} = "{combo}"\n' for action, combo in EDIT_HOTKEYS.items()) + """
[output.actions]
""" + "".join(f'{action} = "popup"\n' for action in EDIT_HOTKEYS if action != "proofread")
PLAIN_SETTINGS = SETTINGS.replace("[engine]\n", "[engine]\nprompt_lookup = false\n")
TUNING = generation_defaults("starter")  # what the agent's model host applies; bare applies it too
STORY = story_action(max_new_tokens=256, hotkey="ctrl+alt+r")
SCALE = story_action("scale", max_new_tokens=128, hotkey="ctrl+alt+s")
STORY_TEXT = "The old lighthouse keeper heard a knock at midnight."
# Texts a person edits: a few sentences with mistakes, as in the quality corpus.
EDIT_TEXTS = [
    "Hi Maria, the shipment of 240 units left Rotterdam on 14 March and should reach Boston by 2 April. "
    "Tracking number is ZX-40417. Let me know if the invoice of $18,350 needs changes. Best, Tom",
    "we was planning to meet on thursday but the room were already booked, so the team decide to move "
    "the review to friday morning at 10, if thats ok for everyone.",
    "The new release fixes the login bug that effected users on older phones, it also make the app start "
    "faster and use less battery when its running in the background.",
]
SENTENCES = [
    "i has went to the store yesterday and buyed three apple.",
    "their going too the park tomorow.",
    "we was happy when the team winned the match.",
    "my sister have three cat and two dog.",
]
PROMPT_SIZES = (64, 512, 2048)


def launched(agent: RunningAgent) -> dict[str, float]:
    tray = agent.wait_milestone("tray-visible")
    ready = agent.wait_milestone("model-ready")
    return {"tray_visible_ms": float(tray["ms"]), "model_ready_ms": float(ready["ms"]),  # type: ignore[arg-type]
            "host_pid": int(ready["pid"])}  # type: ignore[call-overload]


def idle_cost(daemon: int, host: int, seconds: float) -> dict[str, float]:
    time.sleep(3)  # let the start settle
    before = {pid: cpu_seconds(pid) for pid in (daemon, host)}
    time.sleep(seconds)
    used = {pid: cpu_seconds(pid) - before[pid] for pid in (daemon, host)}
    return {
        "idle_cpu_percent_daemon": 100 * used[daemon] / seconds,
        "idle_cpu_percent_host": 100 * used[host] / seconds,
        "rss_mb_daemon": rss_kb(daemon) / 1024,
        "rss_mb_host": rss_kb(host) / 1024,
        "rss_mb_standby": sum(rss_kb(pid) for pid in spawned(daemon) if pid != host) / 1024,
    }


def hotkey_round(session: DesktopSession, agent: RunningAgent, widget: TextWidget, combo: str, text: str,
                 own_clipboard: str) -> tuple[JobRecord, bool, bool]:
    session.set_clipboard(own_clipboard)
    widget.load(text)
    record = agent.job_after(lambda: session.press(combo, 0.2), timeout=600)
    return record, session.clipboard() == own_clipboard, record.outcome == "done"


def latencies(session: DesktopSession, agent: RunningAgent, widget: TextWidget, runs: int) -> dict[str, float]:
    rows, lost_text, lost_clipboard, flagged = [], 0, 0, 0
    for run in range(runs):
        sentence = SENTENCES[run % len(SENTENCES)]
        record, clipboard_kept, done = hotkey_round(session, agent, widget, "ctrl+alt+p", sentence, f"own #{run} ✓")
        lost_clipboard += not clipboard_kept
        if record.output == "popup":  # the answer failed a check: it waits in the popup, the text is untouched
            flagged += 1
            close_popup(session)
            continue
        text = widget.wait_text(lambda current, s=sentence: current != s, 10)
        lost_text += not done or not text.strip() or text == sentence
        t = record.timings
        rows.append((t["prompt_sent"] - t["modifiers_released"], t["clipboard_restored"] - t["paste_sent"],
                     t["paste_sent"] - t["answer_done"]))
    return {
        "released_to_prompt_ms": statistics.median(r[0] for r in rows),
        "paste_to_restored_ms": statistics.median(r[1] for r in rows),
        "answer_to_paste_ms": statistics.median(r[2] for r in rows),
        "lost_texts": lost_text,
        "lost_clipboards": lost_clipboard,
        "flagged_to_popup": flagged,
    }


def spawned(daemon: int) -> list[int]:
    """The daemon's children started by multiprocessing's spawn: the model host and its warm standby."""
    return [int(child) for task in Path(f"/proc/{daemon}/task").iterdir()
            for child in (task / "children").read_text().split()
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def standby_loaded(daemon: int, host: int) -> bool:
    """Whether the host's standby holds the model loaded in advance (host/standby.py): it maps the model's
    file and has stopped working (its CPU time still over half a second)."""
    standbys = [pid for pid in spawned(daemon) if pid != host]
    if not standbys or b"openvino_model.bin" not in Path(f"/proc/{standbys[0]}/maps").read_bytes():
        return False
    before = cpu_seconds(standbys[0])
    time.sleep(0.5)
    return cpu_seconds(standbys[0]) == before


def settled(agent: RunningAgent) -> None:
    """Until the standby has loaded the model in advance, a minute after the last request (host/standby.py):
    its one-off compile would otherwise take a core from the pairs measured meanwhile."""
    host = int(agent.milestones("model-ready")[-1]["pid"])  # type: ignore[call-overload]
    deadline = time.monotonic() + 150
    while not standby_loaded(agent.process.pid, host) and time.monotonic() < deadline:
        time.sleep(0.5)


def host_restarts(session: DesktopSession, agent: RunningAgent, widget: TextWidget, kills: int) -> dict[str, float]:
    """SIGKILL the idle model host once its standby has loaded the model; time until it is ready again. A
    proofread after each restart checks the new host, and keeps the crashes from counting "in a row"."""
    seconds = []
    for kill in range(kills):
        settled(agent)
        host = int(agent.milestones("model-ready")[-1]["pid"])  # type: ignore[call-overload]
        readies = len(agent.milestones("host-event", kind="ready"))
        killed = time.time()
        os.kill(host, signal.SIGKILL)
        ready = agent.wait_milestone("host-event", 60, count=readies + 1, kind="ready")
        seconds.append(float(ready["at"]) - killed)  # type: ignore[arg-type]
        record, _, done = hotkey_round(session, agent, widget, "ctrl+alt+p", SENTENCES[0], f"own, kill #{kill}")
        assert done, agent.log()[-2000:]
    return {"host_restart_seconds": statistics.median(seconds), "host_restart_seconds_max": max(seconds)}


def close_popup(session: DesktopSession) -> None:
    """Escape in the result popup, and a moment for the focus to return to the editor."""
    session.xdotool("key", "Escape")
    time.sleep(0.3)


def spread(ratios: list[float]) -> tuple[float, float, float]:
    """(median, lower quartile, upper quartile) of per-pair ratios."""
    if len(ratios) < 4:
        return statistics.median(ratios), min(ratios), max(ratios)
    low, _, high = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), low, high


def throughput(session: DesktopSession, agent: RunningAgent, widget: TextWidget, bare: BarePipeline,
               runs: int) -> dict[str, float]:
    """Agent and bare runs alternate, so both see the same machine; each pair gives one ratio."""
    action = read_action(STORY, "story.toml")
    system, prompt = action.render(STORY_TEXT)
    chat = bare.chat_prompt(prompt, system or None)
    rates, bare_rates, drawn, job_cpu, daemon_share, x_share = [], [], [], [], [], []
    xvfb, daemon = session.x_server_pid, agent.process.pid
    for run in range(runs):
        bare_rates.append(bare.run(chat, action.max_new_tokens, (TEXT_CLOSE,), tuning=TUNING).tokens_per_second)
        streaming: list[float] = []

        def press() -> None:
            """The hotkey, then the CPU times once the popup shows the first text: streaming starts."""
            shown = len(agent.milestones("popup-first-text"))
            session.press("ctrl+alt+r", 0.2)
            agent.wait_milestone("popup-first-text", 60, count=shown + 1)
            streaming.extend((time.monotonic(), cpu_seconds(daemon), cpu_seconds(xvfb)))

        session.set_clipboard(f"own story #{run}")
        widget.load(STORY_TEXT)
        job_before = cpu_seconds(daemon)
        record = agent.job_after(press, timeout=600)
        ended, daemon_after, x_after = time.monotonic(), cpu_seconds(daemon), cpu_seconds(xvfb)
        assert record.outcome == "done", agent.log()[-2000:]
        # The daemon's CPU over the whole job (waiting for the hotkey's keys to go up, the copy, making the popup,
        # the record) and while the popup streams: on 2 cores it is taken from the model. Both ends are sampled
        # when the bench sees the log line (it looks every 50 ms), so the streaming share errs low by that much.
        job_cpu.append(daemon_after - job_before)
        daemon_share.append((daemon_after - streaming[1]) / (ended - streaming[0]))
        x_share.append((x_after - streaming[2]) / (ended - streaming[0]))
        rates.append(record.tokens_per_second)
        drawn.append(float(agent.wait_milestone("popup-first-text", 10, job=record.number)["ms"]))  # type: ignore[arg-type]
        close_popup(session)
    agent_rate, bare_rate = statistics.median(rates), statistics.median(bare_rates)
    ratio, low, high = spread([a / b for a, b in zip(rates, bare_rates)])
    return {"agent_tokens_per_second": agent_rate, "bare_tokens_per_second": bare_rate,
            "throughput_ratio": ratio, "throughput_ratio_q1": low, "throughput_ratio_q3": high,
            "chunk_to_popup_ms": statistics.median(drawn),
            "daemon_cpu_ms_per_job": 1000 * statistics.median(job_cpu),
            "daemon_cpu_percent_streaming": 100 * statistics.median(daemon_share),
            "x_server_cpu_percent_streaming": 100 * statistics.median(x_share)}


def edits(session: DesktopSession, agent: RunningAgent, widget: TextWidget, bare: BarePipeline,
          runs: int) -> dict[str, float]:
    """Each edit action by hotkey (prompt lookup) against a bare plain LLMPipeline on the same prompt, alternating."""
    library = load_actions(None)
    numbers: dict[str, float] = {}
    for action_id, combo in EDIT_HOTKEYS.items():
        action = library.get(action_id)
        rates, bare_rates, decodings = [], [], set()
        for run in range(runs):
            for index, text in enumerate(EDIT_TEXTS):
                system, prompt = action.render(text)
                timed = bare.run(bare.chat_prompt(prompt, system or None), action.max_new_tokens, (TEXT_CLOSE,),
                                 tuning=TUNING)
                record, _, done = hotkey_round(session, agent, widget, combo, text, f"own, {action_id} #{run}.{index}")
                assert done, agent.log()[-2000:]
                if record.output == "popup":
                    close_popup(session)
                rates.append(record.tokens_per_second)
                bare_rates.append(timed.tokens_per_second)
                decodings.add(record.decoding)
        ratio, low, high = spread([a / b for a, b in zip(rates, bare_rates)])
        numbers.update({f"edit_{action_id}_tokens_per_second": statistics.median(rates),
                        f"edit_{action_id}_bare_tokens_per_second": statistics.median(bare_rates),
                        f"edit_{action_id}_ratio": ratio, f"edit_{action_id}_ratio_q1": low,
                        f"edit_{action_id}_ratio_q3": high})
        numbers[f"edit_{action_id}_decoding"] = " + ".join(sorted(decodings))  # type: ignore[assignment]
    return numbers


def long_input(session: DesktopSession, agent: RunningAgent, widget: TextWidget, words: int) -> dict[str, float]:
    """A long document selected in the editor and summarized by hotkey: map-reduce through the whole agent.

    Outside the model is everything between letting go of the hotkey and the
    summary being done that the model host's generate calls did not take: the
    copy of the selection, token counting for the split, the pipe, the cleanup.
    """
    text = long_text(words)
    record, kept, done = hotkey_round(session, agent, widget, "ctrl+alt+m", text, "own clipboard, long text")
    assert done and kept, agent.log()[-2000:]
    close_popup(session)
    t = record.timings
    busy_ms = t["answer_done"] - t["modifiers_released"]
    return {
        "long_words": len(text.split()), "long_characters": len(text),
        "long_wall_seconds": (t["answer_done"] - t["pressed"]) / 1000,
        "long_capture_ms": t["text_captured"] - t["modifiers_released"],
        "long_model_calls": record.model_calls,
        "long_tokens_per_second": record.tokens_per_second,
        "long_outside_model_share": (busy_ms - record.model_ms) / busy_ms,
    }


def sized_text(bare: BarePipeline, action: Action, words: list[str], tokens: int) -> tuple[str, str, int]:
    """The longest prefix of `words` whose chat prompt through `action` is at most `tokens` tokens."""

    def prompt_for(count: int) -> str:
        system, prompt = action.render(" ".join(words[:count]))
        return bare.chat_prompt(prompt, system or None)

    low, high = 1, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if bare.count(prompt_for(middle)) <= tokens:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low]), prompt_for(low), bare.count(prompt_for(low))


def scaling(session: DesktopSession, agent: RunningAgent, widget: TextWidget, bare: BarePipeline,
            runs: int) -> dict[str, list[float]]:
    """TTFT and tokens/s at each prompt size, through the agent (hotkey → popup) and bare, alternating."""
    action = read_action(SCALE, "scale.toml")
    words = long_text(4000).split(" ")
    curve: dict[str, list[float]] = {key: [] for key in (
        "prompt_tokens", "agent_ttft_ms", "bare_ttft_ms", "agent_tokens_per_second", "bare_tokens_per_second")}
    for size in PROMPT_SIZES:
        rows = []
        for run in range(runs):
            # Each run its own text: a repeated prompt would come from the prefix cache and hide its cost.
            text, chat, counted = sized_text(bare, action, words[run * 11 :], size)
            timed = bare.run(chat, action.max_new_tokens, (TEXT_CLOSE,), tuning=TUNING)
            record, _, done = hotkey_round(session, agent, widget, "ctrl+alt+s", text, f"own, size {size} #{run}")
            assert done, agent.log()[-2000:]
            close_popup(session)
            t = record.timings
            rows.append((t["first_chunk"] - t["prompt_sent"], 1000 * timed.ttft_seconds,
                         record.tokens_per_second, timed.tokens_per_second, record.tokens_per_second / timed.tokens_per_second))
        curve["prompt_tokens"].append(counted)
        for index, key in enumerate(list(curve)[1:5]):
            curve[key].append(statistics.median(row[index] for row in rows))
        for key, value in zip(("ratio", "ratio_q1", "ratio_q3"), spread([row[4] for row in rows])):
            curve.setdefault(key, []).append(value)
    return curve


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="hotkey proofreads for the latencies")
    parser.add_argument("--edit-runs", type=int, default=3, help="rounds over the edit texts per edit action")
    parser.add_argument("--throughput-runs", type=int, default=15, help="agent/bare pairs of the plain action")
    parser.add_argument("--scaling-runs", type=int, default=5, help="agent/bare pairs per prompt size")
    parser.add_argument("--words", type=int, default=30_000, help="length of the long-input document")
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=5, help="model host restarts to time")
    parser.add_argument("--json", type=Path, help="where to write the numbers (default bench/out/agent-<time>.json)")
    args = parser.parse_args()
    if missing_tools():
        print(f"missing desktop tools {missing_tools()}: run scripts/desktop-deps.sh --test", file=sys.stderr)
        return 2
    out = args.json or REPO / "bench" / "out" / f"agent-{time.strftime('%Y%m%d-%H%M%S')}.json"
    data = store_with_test_models()
    numbers: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="phitray-bench-") as scratch:
        folder = Path(scratch)
        paths = Paths(folder / "config", data, folder / "cache", folder / "log")
        session = start_session(folder / "desktop")
        agent = None
        try:
            actions = {"story": STORY, "scale": SCALE}
            agent = start_agent(session, paths, SETTINGS, actions)
            first = launched(agent)
            numbers.update({f"first_{k}": v for k, v in first.items() if k != "host_pid"})
            numbers.update(idle_cost(agent.process.pid, int(first["host_pid"]), args.idle_seconds))
            widget = open_text_widget(session)
            numbers.update(latencies(session, agent, widget, args.runs))
            bare = BarePipeline(ModelStore(data / "models").resolve("starter", "openvino-cpu").path)
            numbers.update(edits(session, agent, widget, bare, args.edit_runs))
            on_lookup = throughput(session, agent, widget, bare, max(3, args.throughput_runs // 2))
            numbers.update({f"lookup_pipeline_{k}": v for k, v in on_lookup.items()})
            numbers.update(long_input(session, agent, widget, args.words))
            numbers.update(host_restarts(session, agent, widget, args.kills))
            agent.stop()
            paths.log_file.unlink()
            agent = start_agent(session, paths, PLAIN_SETTINGS, actions)
            second = launched(agent)
            numbers.update({f"second_{k}": v for k, v in second.items() if k != "host_pid"})
            settled(agent)
            numbers.update(throughput(session, agent, widget, bare, args.throughput_runs))
            curve = scaling(session, agent, widget, bare, args.scaling_runs)
            del bare
            widget.close()
        finally:
            if agent is not None:
                agent.stop()
            session.stop()
    report(numbers, curve, args, out, EDIT_HOTKEYS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
