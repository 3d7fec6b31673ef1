"""Prompt lookup that is never slower: per action, the draft length that runs fastest here, learnt as it runs.

A fixed draft (12 tokens from 3-grams) was tuned on the built-in proofread
and rewrite; on a small, compute-bound model a long draft can be accepted and
still cost more than the passes it saves, and an action whose answers copy
little gets most drafts refused (FACTS.md: the starter ran a slip fixer at
0.65-0.88x plain with it). So each action (known to the model host by its
system prompt) keeps what each draft length measured: tokens/s after the first
token, and tokens per forward pass, from the pipeline's own per-step times
(`perf_metrics.raw_metrics.m_new_token_times`: one time per step).

It starts on the tuned draft, then measures plain decoding (a one-token draft
from 1-grams: what a plain request costs on this pipeline), and from then on
uses the fastest so far, every fourth answer trying its neighbour: shorter when
most drafted tokens were refused, longer when most were taken. An action for
which lookup runs slower than plain so falls back to plain, and tries a short
draft again now and then. Measures are running means weighted to the recent,
so a busy minute on a shared CPU does not settle it for good.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Draft lengths (num_assistant_tokens); 0 is plain decoding on the prompt-lookup pipeline.
DRAFTS = (0, 2, 4, 8, 12)
START = 12  # the length tuned on the built-in proofread and rewrite (bench/decoding.py)
NGRAM = 3
PLAIN_ON_LOOKUP = (1, 1)
EXPLORE_EVERY = 4
MIN_TOKENS = 16  # shorter answers say too little about speed
WEIGHT = 0.5  # of the newest answer in an arm's running mean
MAX_ACTIONS = 64  # actions remembered; the least recently used is forgotten


def setting_of(draft: int) -> tuple[int, int]:
    """(num_assistant_tokens, max_ngram_size) for a draft length."""
    return PLAIN_ON_LOOKUP if draft == 0 else (draft, NGRAM)


@dataclass
class Arm:
    tokens_per_second: float = 0.0
    tokens_per_pass: float = 0.0
    answers: int = 0


@dataclass
class ActionState:
    arms: dict[int, Arm] = field(default_factory=lambda: {draft: Arm() for draft in DRAFTS})
    answers: int = 0

    def best(self) -> int:
        tried = {draft: arm.tokens_per_second for draft, arm in self.arms.items() if arm.answers}
        return max(tried, key=lambda draft: tried[draft]) if tried else START

    def neighbour(self, draft: int) -> int:
        """The next draft length to try from `draft`: shorter when most drafted tokens were refused."""
        index = DRAFTS.index(draft)
        arm = self.arms[draft]
        taken = (arm.tokens_per_pass - 1) / draft if draft else 1.0
        step = -1 if taken < 0.5 else 1
        if not 0 <= index + step < len(DRAFTS):
            step = -step
        return DRAFTS[index + step]


class LookupTuner:
    """Chooses the draft per action and learns from each answer. Any thread (the host runs one at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, ActionState] = {}

    def choose(self, action: str) -> int:
        with self._lock:
            state = self._actions.pop(action, None) or ActionState()
            self._actions[action] = state  # most recently used last
            while len(self._actions) > MAX_ACTIONS:
                self._actions.pop(next(iter(self._actions)))
            for first in (START, 0):
                if not state.arms[first].answers:
                    return first
            best = state.best()
            if state.answers % EXPLORE_EVERY == EXPLORE_EVERY - 1:
                return state.neighbour(best)
            return best

    def record(self, action: str, draft: int, tokens: int, decode_seconds: float, passes: int) -> None:
        """One answer's measures: `tokens` generated, the seconds after the first, the forward passes made."""
        if tokens < MIN_TOKENS or decode_seconds <= 0 or passes < 2 or draft not in DRAFTS:
            return
        speed, per_pass = (tokens - 1) / decode_seconds, tokens / passes
        with self._lock:
            state = self._actions.setdefault(action, ActionState())
            arm = state.arms[draft]
            weight = 1.0 if not arm.answers else WEIGHT
            arm.tokens_per_second += weight * (speed - arm.tokens_per_second)
            arm.tokens_per_pass += weight * (per_pass - arm.tokens_per_pass)
            arm.answers += 1
            state.answers += 1

    def measured(self, action: str) -> dict[int, Arm]:
        with self._lock:
            state = self._actions.get(action)
            return {draft: Arm(**vars(arm)) for draft, arm in state.arms.items()} if state else {}
