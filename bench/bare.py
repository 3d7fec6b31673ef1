"""The reference every ratio is taken against: one model straight through openvino_genai.LLMPipeline.

Timed the way the model host times itself (agent/host.py): wall clock from
generate() to the first streamed chunk, and the answer's tokens after the
first (re-counted by the tokenizer) over the time after that chunk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Timed:
    ttft_seconds: float
    tokens: int
    tokens_per_second: float  # after the first token, which the TTFT paid for
    seconds: float = 0.0  # generate() called → returned
    text: str = ""


class BarePipeline:
    """`prompt_lookup=True` builds the pipeline prompt-lookup decoding needs; every run must then pass `lookup`."""

    def __init__(self, model_path: Path | str, device: str = "CPU", prompt_lookup: bool = False) -> None:
        import openvino_genai

        self._genai = openvino_genai
        started = time.perf_counter()
        extra = {"prompt_lookup": True} if prompt_lookup else {}
        self.pipeline: Any = openvino_genai.LLMPipeline(str(model_path), device, **extra)
        self.tokenizer: Any = self.pipeline.get_tokenizer()
        self.lookup = (1, 1) if prompt_lookup else (0, 0)
        self.run(self.chat_prompt("Hi"), max_new_tokens=1, lookup=self.lookup)  # the warm-up the backend does too
        self.load_seconds = time.perf_counter() - started

    def chat_prompt(self, prompt: str, system: str | None = None) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def count(self, text: str) -> int:
        return int(self.tokenizer.encode(text, add_special_tokens=False).input_ids.get_shape()[1])

    def run(self, prompt: str, max_new_tokens: int, stop: tuple[str, ...] = (), lookup: tuple[int, int] = (0, 0),
            tuning: dict[str, float] | None = None) -> Timed:
        """`lookup`: (num_assistant_tokens, max_ngram_size) on a prompt-lookup pipeline; `tuning`: more
        GenerationConfig fields (the model's catalog defaults, as the agent applies them)."""
        config = self.pipeline.get_generation_config()
        config.max_new_tokens, config.apply_chat_template, config.do_sample = max_new_tokens, False, False
        if stop:
            config.stop_strings = set(stop)
        if lookup[0]:
            config.num_assistant_tokens, config.max_ngram_size = lookup
        for name, value in (tuning or {}).items():
            setattr(config, name, value)
        first: list[float] = []

        def on_chunk(text: str) -> object:
            if not first:
                first.append(time.perf_counter())
            return self._genai.StreamingStatus.RUNNING

        asked = time.perf_counter()
        answer = self.pipeline.generate([prompt], config, on_chunk).texts[0]
        ended = time.perf_counter()
        tokens = self.count(answer)
        decode = ended - first[0] if first else 0.0
        return Timed(first[0] - asked if first else ended - asked, tokens,
                     (tokens - 1) / decode if tokens > 1 and decode > 0 else 0.0, ended - asked, answer)
