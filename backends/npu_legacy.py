"""intel-npu-acceleration-library on the NPU (``npu-legacy``), opt-in only.

The library is end-of-life upstream (Intel recommends OpenVINO GenAI), ships
Windows wheels only, compiles a Hugging Face checkpoint at load, and without an
NPU it warns and quietly runs on the CPU — so the probe asks it about the NPU
first, and the default chain never includes it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from phitray.backends.base import (
    BackendInfo,
    ModelRef,
    Probe,
    Progress,
    Request,
    answer_budget,
    first_line,
)
from phitray.errors import BackendLoadError, BackendUnavailable

INSTALL_HINT = "pip install phitray[npu-legacy] (Windows only; end-of-life upstream, opt-in)"


class NPULegacyBackend:
    id = "npu-legacy"

    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir / "npu-legacy"
        self._model: Any = None
        self._tokenizer: Any = None
        self._info: BackendInfo | None = None

    def probe(self) -> Probe:
        try:
            import intel_npu_acceleration_library
            from intel_npu_acceleration_library.backend import npu_available
        except Exception as error:  # also fails on import without neural-compressor<3 / six
            return Probe(self.id, False, False, f"intel-npu-acceleration-library not usable ({error}): {INSTALL_HINT}")
        detail = f"intel-npu-acceleration-library {getattr(intel_npu_acceleration_library, '__version__', '?')}"
        if not npu_available():
            reason = "no NPU (intel_npu_acceleration_library.backend.npu_available() is False)"
            return Probe(self.id, True, False, reason, detail)
        return Probe(self.id, True, True, "", detail)

    def load(self, model: ModelRef, progress: Progress) -> BackendInfo:
        if model.model_format != "hf":
            raise BackendUnavailable(f"{self.id} compiles Hugging Face checkpoints, not {model.model_format} ({model.path})")
        progress(f"compiling {model.model_id} for the NPU (intel-npu-acceleration-library, minutes)")
        started = time.perf_counter()
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            from intel_npu_acceleration_library import NPUModelForCausalLM, int4
            from intel_npu_acceleration_library.compiler import CompilerConfig
            from transformers import AutoTokenizer

            # The library caches compiled models under ./cache of the working directory.
            with contextlib.chdir(self._cache_dir):
                self._model = NPUModelForCausalLM.from_pretrained(
                    str(model.path), use_cache=True, config=CompilerConfig(dtype=int4)
                ).eval()
            self._tokenizer = AutoTokenizer.from_pretrained(str(model.path))
        except Exception as error:
            self.unload()
            raise BackendLoadError(f"{self.id}: could not compile {model.path}: {first_line(error)}") from error
        self._info = BackendInfo(
            backend_id=self.id,
            device="NPU",
            model_id=model.model_id,
            quantization="int4 (compiled at load)",
            context_length=model.context_length,
            max_prompt_tokens=model.context_length,
            library="intel-npu-acceleration-library",
            load_seconds=time.perf_counter() - started,
        )
        return self._info

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def stream(self, request: Request, cancel: threading.Event) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        assert self._model is not None and self._info is not None, "load() first"
        prompt_ids = self._tokenizer.apply_chat_template(
            request.messages(), add_generation_prompt=True, return_tensors="pt"
        )
        budget = answer_budget(int(prompt_ids.shape[-1]), request, self._info)
        abandoned = threading.Event()
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)

        class StopOnCancel(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                """Called on the generate thread after each token."""
                return cancel.is_set() or abandoned.is_set()

        options: dict[str, Any] = dict(
            input_ids=prompt_ids,
            max_new_tokens=budget,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([StopOnCancel()]),
            do_sample=request.temperature > 0,
        )
        if request.temperature > 0:
            options["temperature"] = request.temperature
            if request.seed is not None:  # transformers samples from torch's global generator
                from transformers import set_seed

                set_seed(request.seed)
        worker = threading.Thread(target=self._model.generate, kwargs=options, daemon=True)
        worker.start()
        try:
            for text in streamer:
                if text and not cancel.is_set():
                    yield text
        finally:
            abandoned.set()
            worker.join()

    def unload(self) -> None:
        self._model = None
        self._tokenizer = None
