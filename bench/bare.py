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
    tokens_per_second: float


class BarePipeline:
    def __init__(self, model_path: Path | str, device: str = "CPU") -> None:
        import openvino_genai

        self._genai = openvino_genai
        started = time.perf_counter()
        self.pipeline: Any = openvino_genai.LLMPipeline(str(model_path), device)
        self.tokenizer: Any = self.pipeline.get_tokenizer()
        self.run(self.chat_prompt("Hi"), max_new_tokens=1)  # the warm-up the backend does too
        self.load_seconds = time.perf_counter() - started

    def chat_prompt(self, prompt: str, system: str | None = None) -> str:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def count(self, text: str) -> int:
        return int(self.tokenizer.encode(text, add_special_tokens=False).input_ids.get_shape()[1])

    def run(self, prompt: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> Timed:
        config = self.pipeline.get_generation_config()
        config.max_new_tokens, config.apply_chat_template, config.do_sample = max_new_tokens, False, False
        if stop:
            config.stop_strings = set(stop)
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
                     (tokens - 1) / decode if tokens > 1 and decode > 0 else 0.0)
