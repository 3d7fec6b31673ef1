"""Prompt lookup that is never slower: the tuner's choices from what answers measured (synthetic measures, so
every rule can be held to its choice), and the real pipeline's per-step times reaching it."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from phitray.backends.base import Request
from phitray.backends.lookup_tuner import DRAFTS, EXPLORE_EVERY, MAX_ACTIONS, START, LookupTuner, setting_of
from phitray.backends.openvino import OpenVINOBackend
from phitray.backends.store import ModelStore
from phitray.paths import Paths

# tokens/s and tokens per forward pass each draft length gives, for three kinds of action on a small CPU model
SLIP_FIXER = {0: (55.0, 1.0), 2: (50.0, 1.3), 4: (46.0, 1.5), 8: (40.0, 1.7), 12: (35.0, 1.8)}  # drafts refused
COPY_HEAVY = {0: (50.0, 1.0), 2: (70.0, 2.6), 4: (90.0, 4.2), 8: (110.0, 7.5), 12: (100.0, 9.0)}
TONE = {0: (50.0, 1.0), 2: (56.0, 1.8), 4: (52.0, 2.1), 8: (45.0, 2.3), 12: (40.0, 2.4)}


def run(tuner: LookupTuner, action: str, speeds: dict[int, tuple[float, float]], answers: int) -> list[int]:
    """The drafts the tuner chose over `answers` answers of an action that runs at `speeds`."""
    chosen = []
    for _ in range(answers):
        draft = tuner.choose(action)
        speed, per_pass = speeds[draft]
        tokens = 101
        tuner.record(action, draft, tokens, (tokens - 1) / speed, round(tokens / per_pass))
        chosen.append(draft)
    return chosen


def test_it_starts_on_the_tuned_draft_then_measures_plain() -> None:
    assert run(LookupTuner(), "proofread", COPY_HEAVY, 2) == [START, 0]


def test_an_action_whose_drafts_are_refused_falls_back_to_plain_and_tries_a_short_draft_now_and_then() -> None:
    chosen = run(LookupTuner(), "fix slips", SLIP_FIXER, 40)
    settled = chosen[10:]
    assert settled.count(0) >= len(settled) * (EXPLORE_EVERY - 1) / EXPLORE_EVERY - 1, chosen
    assert set(settled) == {0, 2}, "it never tried lookup again, or tried a long draft"


def test_a_copy_heavy_action_moves_to_the_fastest_draft() -> None:
    chosen = run(LookupTuner(), "reformat", COPY_HEAVY, 40)
    assert chosen[-12:].count(8) >= 8, chosen


def test_a_tone_change_settles_on_a_short_draft() -> None:
    chosen = run(LookupTuner(), "friendlier", TONE, 60)
    assert max(set(chosen[-20:]), key=chosen[-20:].count) == 2, chosen


def test_each_action_learns_on_its_own_and_short_answers_teach_nothing() -> None:
    tuner = LookupTuner()
    run(tuner, "a", SLIP_FIXER, 12)
    assert run(tuner, "b", COPY_HEAVY, 2) == [START, 0]
    before = tuner.measured("a")
    tuner.record("a", 0, 5, 0.1, 5)  # 5 tokens: says nothing about speed
    tuner.record("a", 0, 50, 0.0, 1)
    assert tuner.measured("a") == before


def test_the_tuner_forgets_the_least_recent_action_past_its_bound() -> None:
    tuner = LookupTuner()
    for number in range(MAX_ACTIONS + 5):
        run(tuner, f"action {number}", TONE, 2)
    assert tuner.measured("action 0") == {} and tuner.measured(f"action {MAX_ACTIONS + 4}")


def test_settings_are_what_the_pipeline_takes() -> None:
    assert setting_of(0) == (1, 1) and all(setting_of(draft) == (draft, 3) for draft in DRAFTS if draft)


def test_the_real_pipeline_reports_what_the_tuner_needs(shared_paths: Paths, tmp_path: Path) -> None:
    model = ModelStore(shared_paths.models_dir).resolve("starter", "openvino-cpu")
    backend = OpenVINOBackend("openvino-cpu", tmp_path)
    backend.load(model, lambda text: None)
    text = "i has went to the store yesterday and buyed three apple. the weather were nice and we walks to the park."
    request = Request(f"Proofread the text between <text> and </text>.\n\n<text>\n{text}\n</text>", system="Fix slips.",
                      max_new_tokens=48, stop=("</text>",), decoding="prompt-lookup")
    try:
        for _ in range(2):
            "".join(backend.stream(request, threading.Event()))
        assert backend.decoding_ran == "prompt-lookup 1/1", "the second answer did not measure plain decoding"
        measured = backend._tuner.measured("Fix slips.")
        tried = {draft: arm for draft, arm in measured.items() if arm.answers}
        assert set(tried) == {START, 0}, measured
        assert all(arm.tokens_per_second > 0 and arm.tokens_per_pass >= 1 for arm in tried.values()), tried
        "".join(backend.stream(dataclasses.replace(request, decoding="plain"), threading.Event()))
        assert backend.decoding_ran == "" and backend._tuner.measured("Fix slips.") == measured
    finally:
        backend.unload()
