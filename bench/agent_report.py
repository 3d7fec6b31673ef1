"""The agent benchmark's report: the table it prints, the numbers' JSON file and the prompt-size chart."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plot import Panel, line_charts


def report(numbers: dict[str, Any], curve: dict[str, list[float]], args: argparse.Namespace, out: Path,
           edit_actions: Iterable[str]) -> None:
    """Print the rows (what was measured, the number, the target), write the numbers to `out` as JSON and
    the prompt-size curve next to it as a chart."""
    n = numbers
    rows = [
        ("launch → tray icon visible (first / second launch)", f"{n['first_tray_visible_ms']:.0f} / {n['second_tray_visible_ms']:.0f} ms", "≤ 500 ms"),
        ("launch → model ready (first; second with a plain pipeline)", f"{n['first_model_ready_ms']:.0f} / {n['second_model_ready_ms']:.0f} ms", ""),
        (f"model host killed, its standby loaded → ready again (median / max of {args.kills})", f"{n['host_restart_seconds']:.2f} / {n['host_restart_seconds_max']:.2f} s", "≤ 2 s"),
        (f"idle CPU over {args.idle_seconds:.0f} s: daemon / model host", f"{n['idle_cpu_percent_daemon']:.2f} / {n['idle_cpu_percent_host']:.2f} % of a core", "≤ 0.2 %"),
        ("RSS: daemon / model host / its standby", f"{n['rss_mb_daemon']:.0f} / {n['rss_mb_host']:.0f} / "
                                                   f"{n.get('rss_mb_standby', 0):.0f} MB", "daemon ≤ 60 MB"),
        ("hotkey released → prompt at the model host", f"{n['released_to_prompt_ms']:.1f} ms", "≤ 50 ms"),
        ("model's first chunk → first text drawn in the popup", f"{n['chunk_to_popup_ms']:.1f} ms", "≤ 20 ms"),
        ("answer done → paste sent", f"{n['answer_to_paste_ms']:.1f} ms", "≤ 20 ms"),
        ("paste sent → clipboard restored", f"{n['paste_to_restored_ms']:.1f} ms", "≤ 100 ms"),
        (f"lost texts / lost clipboards in {args.runs} runs ({n['flagged_to_popup']:.0f} flagged to the popup)",
         f"{n['lost_texts']:.0f} / {n['lost_clipboards']:.0f}", "0 / 0"),
    ]
    for action_id in edit_actions:
        key = f"edit_{action_id}"
        target = "≥ 2×" if action_id in ("proofread", "rewrite") else ""
        rows.append((f"{action_id} ({n[key + '_decoding']}): tokens/s agent / bare plain",
                     f"{n[key + '_tokens_per_second']:.1f} / {n[key + '_bare_tokens_per_second']:.1f} = "
                     f"{n[key + '_ratio']:.2f}× [{n[key + '_ratio_q1']:.2f}–{n[key + '_ratio_q3']:.2f}]", target))
    runs = args.throughput_runs
    rows += [
        ("plain action on the prompt-lookup pipeline ÷ bare plain",
         f"{n['lookup_pipeline_throughput_ratio']:.3f} [{n['lookup_pipeline_throughput_ratio_q1']:.3f}–"
         f"{n['lookup_pipeline_throughput_ratio_q3']:.3f}]", "≥ 1.0"),
        ("plain pipeline: tokens/s agent (hotkey → popup) / bare", f"{n['agent_tokens_per_second']:.1f} / {n['bare_tokens_per_second']:.1f}", ""),
        (f"plain pipeline: agent ÷ bare, median [quartiles] of {runs} pairs",
         f"{n['throughput_ratio']:.3f} [{n['throughput_ratio_q1']:.3f}–{n['throughput_ratio_q3']:.3f}]", "≥ 0.99"),
        ("CPU while a popup streams: daemon / X server", f"{n['daemon_cpu_percent_streaming']:.1f} / {n['x_server_cpu_percent_streaming']:.1f} % of a core", "≤ 1 % each"),
        ("daemon CPU per popup job, hotkey → answer", f"{n['daemon_cpu_ms_per_job']:.0f} ms", ""),
        (f"long input: {n['long_words']:,.0f} words → summary", f"{n['long_wall_seconds']:.1f} s, {n['long_model_calls']:.0f} model calls", ""),
        ("long input: copy of the selection / tokens/s", f"{n['long_capture_ms']:.0f} ms / {n['long_tokens_per_second']:.1f}", ""),
        ("long input: share of the time outside the model", f"{100 * n['long_outside_model_share']:.2f} %", "≤ 3 %"),
    ]
    for index, size in enumerate(curve["prompt_tokens"]):
        rows.append((f"prompt of {size:.0f} tokens: TTFT agent / bare",
                     f"{curve['agent_ttft_ms'][index]:.0f} / {curve['bare_ttft_ms'][index]:.0f} ms", ""))
        rows.append((f"prompt of {size:.0f} tokens: tokens/s agent / bare",
                     f"{curve['agent_tokens_per_second'][index]:.1f} / {curve['bare_tokens_per_second'][index]:.1f}", ""))
        rows.append((f"prompt of {size:.0f} tokens: agent ÷ bare, median [quartiles] of {args.scaling_runs}",
                     f"{curve['ratio'][index]:.3f} [{curve['ratio_q1'][index]:.3f}–{curve['ratio_q3'][index]:.3f}]",
                     "≥ 0.99"))
    print("phitray agent benchmark — starter on openvino-cpu, Xvfb; medians, one run (scaling and the plain "
          "throughput on the second launch, engine.prompt_lookup = false)")
    for name, value, target in rows:
        print(f"  {name:<64}{value:>32}   {target}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**numbers, "scaling": curve}, indent=2))
    sizes = [int(size) for size in curve["prompt_tokens"]]
    plot = line_charts(out.with_name(out.stem + "-scaling.png"), "prompt tokens", sizes, [
        Panel("time to first token", "ms", {"agent": curve["agent_ttft_ms"], "bare": curve["bare_ttft_ms"]}),
        Panel("decode speed", "tokens/s", {"agent": curve["agent_tokens_per_second"],
                                           "bare": curve["bare_tokens_per_second"]}),
    ])
    print(f"numbers: {out}\ncurve: {plot}")
