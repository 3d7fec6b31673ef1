"""onnxruntime-genai: DirectML on Windows (``directml``) or the CPU (``onnx-cpu``).

Both ids share this code; only the execution provider differs. The three
packages onnxruntime-genai, -directml and -winml install the same module, one
per environment, so the probe asks the installed one what it supports.
"""

from __future__ import annotations

import dataclasses
import json
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
from phitray.backends.native_path import loadable
from phitray.backends.plaintext import ControlStrings, added_tokens
from phitray.errors import BackendLoadError, BackendUnavailable

PROVIDERS = {"directml": "dml", "onnx-cpu": None}
INSTALL_HINTS = {
    "directml": "pip install phitray[directml] (Windows only)",
    "onnx-cpu": "pip install phitray[onnx]",
}


class ONNXBackend:
    def __init__(self, backend_id: str) -> None:
        self.id = backend_id
        self.provider = PROVIDERS[backend_id]
        self.device = "DirectML" if self.provider == "dml" else "CPU"
        self._model: Any = None
        self._tokenizer: Any = None
        self._controls = ControlStrings(())
        self._info: BackendInfo | None = None

    def probe(self) -> Probe:
        try:
            import onnxruntime_genai as og
        except ImportError as error:
            package = "onnxruntime-genai-directml" if self.provider else "onnxruntime-genai"
            return Probe(self.id, False, False, f"{package} not installed ({error}): {INSTALL_HINTS[self.id]}")
        package = getattr(og, "__id__", "onnxruntime-genai")
        detail = f"{package} {og.__version__}; decoding: plain (onnxruntime-genai has no prompt lookup)"
        if self.provider == "dml" and not og.is_dml_available():
            reason = (
                f"the installed {package} {og.__version__} has no DirectML support "
                f"(og.is_dml_available() is False): {INSTALL_HINTS[self.id]}"
            )
            return Probe(self.id, True, False, reason, detail)
        return Probe(self.id, True, True, "", detail)

    def load(self, model: ModelRef, progress: Progress) -> BackendInfo:
        import onnxruntime_genai as og

        if model.model_format != "onnx":
            raise BackendUnavailable(f"{self.id} cannot run {model.model_format} models ({model.path})")
        progress(f"loading {model.model_id} with onnxruntime-genai on {self.device}")
        started = time.perf_counter()
        try:
            with loadable(Path(model.path)) as spell:  # a folder the ANSI code page cannot spell (native_path)
                config = og.Config(spell(Path(model.path)))
                config.clear_providers()
                if self.provider:
                    config.append_provider(self.provider)
                self._model = og.Model(config)
                self._tokenizer = og.Tokenizer(self._model)
            # og's tokenizer lists no vocabulary; the folder's tokenizer files name what it matches whole.
            self._controls = ControlStrings(added_tokens(model.path))
            self._info = BackendInfo(
                backend_id=self.id,
                device=self.device,
                model_id=model.model_id,
                quantization=model.quantization,
                context_length=model.context_length,
                max_prompt_tokens=model.context_length,
                library=f"{getattr(og, '__id__', 'onnxruntime-genai')} {og.__version__}",
            )
            # A model that loads but cannot generate (a provider fault) fails here, not on a hotkey.
            for _ in self.stream(Request("Hi", max_new_tokens=1), threading.Event()):
                pass
        except Exception as error:  # og raises bare RuntimeError, e.g. "DML provider requested, but …"
            self.unload()
            raise BackendLoadError(
                f"{self.id}: onnxruntime-genai could not load {model.path}: {first_line(error)}"
            ) from error
        self._info = dataclasses.replace(self._info, load_seconds=time.perf_counter() - started)
        return self._info

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(self._controls.neutralise(text)))

    def prompt_ids(self, request: Request) -> list[int]:
        """The chat-templated prompt's token ids, the messages' control strings broken so they stay text."""
        messages = self._controls.messages(request.messages())
        prompt = self._tokenizer.apply_chat_template(json.dumps(messages), add_generation_prompt=True)
        return [int(i) for i in self._tokenizer.encode(prompt)]

    def stream(self, request: Request, cancel: threading.Event) -> Iterator[str]:
        decoder = self._tokenizer.create_stream()
        restorer = self._controls.restorer()
        held = ""  # text that might be the start of a stop string
        for token in self.token_ids(request, cancel):
            held += restorer.feed(decoder.decode(token))
            cut = min((held.find(s) for s in request.stop if s in held), default=-1)
            if cut >= 0:
                if held[:cut]:
                    yield held[:cut]
                return
            keep = max((len(s) - 1 for s in request.stop), default=0)
            ready, held = (held[: len(held) - keep], held[len(held) - keep :]) if keep else (held, "")
            if ready:
                yield ready
        held += restorer.flush()  # the start of a control string at the very end: no stop string ends there
        if held:
            yield held

    def token_ids(self, request: Request, cancel: threading.Event) -> Iterator[int]:
        """The answer's token ids, one at a time; cancel is checked between tokens."""
        import onnxruntime_genai as og

        assert self._model is not None and self._info is not None, "load() first"
        prompt_ids = self.prompt_ids(request)
        budget = answer_budget(len(prompt_ids), request, self._info)
        params = og.GeneratorParams(self._model)
        options: dict[str, Any] = {"max_length": len(prompt_ids) + budget}  # else the whole KV cache is allocated
        if request.temperature > 0:
            options.update(do_sample=True, temperature=request.temperature)
            if request.seed is not None:
                options["random_seed"] = request.seed
        else:
            options.update(do_sample=False)
        params.set_search_options(**options)
        generator = og.Generator(self._model, params)
        try:
            generator.append_tokens(prompt_ids)
            while not generator.is_done() and not cancel.is_set():
                generator.generate_next_token()
                yield int(generator.get_next_tokens()[0])
        finally:
            del generator  # frees the KV cache now, not at the next collection

    def unload(self) -> None:
        self._tokenizer = None
        self._model = None
