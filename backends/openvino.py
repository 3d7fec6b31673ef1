"""OpenVINO GenAI `LLMPipeline` on the NPU, an Intel GPU or any CPU.

Ids: ``openvino-npu``, ``openvino-gpu``, ``openvino-cpu``. Takes an OpenVINO IR
folder (optimum-cli export) or a GGUF file, which LLMPipeline reads directly.
"""

from __future__ import annotations

import dataclasses
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from phitray.backends.base import (
    BackendInfo,
    DecodingOptions,
    ModelRef,
    Probe,
    Progress,
    Request,
    answer_budget,
    first_line,
)
from phitray.backends.catalog import npu_context
from phitray.backends.gguf_ir import load_gguf
from phitray.backends.lookup_tuner import NGRAM, START, LookupTuner, setting_of
from phitray.backends.native_path import loadable
from phitray.backends.plaintext import ControlStrings, added_tokens
from phitray.errors import BackendLoadError, BackendUnavailable

DEVICES = {"openvino-npu": "NPU", "openvino-gpu": "GPU", "openvino-cpu": "CPU"}
INSTALL_HINT = "pip install openvino-genai"
# The NPU compiles a fixed prompt window; the rest of the context is kept for the answer.
NPU_MIN_RESPONSE_TOKENS = 1024
_END = object()
# GenerationConfig fields a catalog entry may set. Not repetition_penalty: it also penalises the
# prompt's tokens, which an edit must copy (FACTS.md).
TUNABLE = frozenset({"frequency_penalty", "presence_penalty"})
# Prompt lookup: (num_assistant_tokens, max_ngram_size). bench/decoding.py on the quality corpus's
# proofreads and rewrites, the starter on this CPU: 12/3 was the fastest in two sweeps (2.2x and 1.9x
# plain overall, against 2.1x and 1.4x for 8/3; 16/3, 24/3, 12/2 and 12/4 in between), with as many
# answers passing their checks as plain decoding. A prompt-lookup pipeline rejects a request without
# lookup, so a plain request on it drafts one token from a 1-gram: no slower than a plain pipeline in
# the same sweeps, and it keeps one copy of the model in memory instead of two.
PROMPT_LOOKUP = (START, NGRAM)  # where each action's draft starts: lookup_tuner.py moves it from there
PROMPT_LOOKUP_FOR_PLAIN = (1, 1)
# Tokens the draft model proposes per step (openvino-genai's speculative-decoding samples use 5).
DRAFT_TOKENS = 5
# The compile cache keeps only what is needed to skip compiling, not the weights again.
CACHE_PROPERTIES = {"CACHE_MODE": "OPTIMIZE_SPEED"}


def lookup_name(setting: tuple[int, int]) -> str:
    return f"prompt-lookup {setting[0]}/{setting[1]}"


def spelled_cache(properties: dict[str, Any], spell: Callable[[Path], str]) -> dict[str, Any]:
    return {**properties, "CACHE_DIR": spell(Path(properties["CACHE_DIR"]))} if "CACHE_DIR" in properties else properties


def create_with_cache(create: Callable[[dict[str, Any]], Any], cache: Path | None, progress: Progress) -> Any:
    """`create(properties)` using the compile cache in `cache`; a cache that fails to load is compiled again.

    An NPU cache written under one driver can fail to load under the next (openvino.genai #2082): that
    costs one slow start, not the engine. A failure with an empty cache is the model's, and is raised.
    """
    if cache is None:
        return create({})
    cache.mkdir(parents=True, exist_ok=True)
    properties = {"CACHE_DIR": str(cache), **CACHE_PROPERTIES}
    try:
        return create(properties)
    except Exception as error:
        if not any(cache.iterdir()):
            raise
        progress(f"the compile cache could not be used ({first_line(error)}); compiling again")
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        return create(properties)


def npu_prompt_window(context_length: int) -> tuple[int, int]:
    """(MAX_PROMPT_LEN, MIN_RESPONSE_LEN) for a model of this context length."""
    response = min(NPU_MIN_RESPONSE_TOKENS, context_length // 4)
    return context_length - response, response


class OpenVINOBackend:
    def __init__(self, backend_id: str, cache_dir: Path, decoding: DecodingOptions = DecodingOptions(),
                 compile_cache: bool | None = None) -> None:
        """`compile_cache`: keep compiled models in `cache_dir` (default: on the NPU and GPU only)."""
        self.id = backend_id
        self.device = DEVICES[backend_id]
        self._cache_dir = cache_dir
        self._decoding = decoding
        # Not on CPU by default: LLMPipeline's default paged-attention model is compiled again at every load
        # (openvino-genai 2026.4: the CPU plugin refuses its own blob, "Runtime info k_head_size and num_k_heads
        # are required for PagedAttention node", and writes it again). ATTENTION_BACKEND="SDPA" does reuse it
        # (starter: 0.9 s load against 4 s) but took 1.5-1.9x the time to first token on 1,700-3,400-token
        # prompts, lost the prefix cache and held 90-300 MB more.
        self._compile_cache = self.device in ("NPU", "GPU") if compile_cache is None else compile_cache
        self._lookup: dict[str, tuple[int, int]] = {}  # asked decoding -> prompt-lookup setting
        self._tuner = LookupTuner()  # a prompt-lookup request's draft, per action (lookup_tuner.py)
        self.decoding_ran = ""  # what the last answer ran, where it differs by answer
        self._draft_tokens = 0
        self._pipeline: Any = None
        self._tokenizer: Any = None
        self._controls = ControlStrings(())
        self._info: BackendInfo | None = None

    def probe(self) -> Probe:
        try:
            import openvino
            import openvino_genai  # noqa: F401
        except ImportError as error:
            return Probe(self.id, False, False, f"openvino-genai not installed ({error}): {INSTALL_HINT}")
        try:
            devices = list(openvino.Core().available_devices)
        except Exception as error:  # a broken plugin or driver raises here, before any device is asked
            return Probe(self.id, True, False, f"openvino.Core() failed: {first_line(error)}")
        detail = f"openvino {openvino.get_version()}; available_devices {devices}; decoding: {self._describe_decoding()}"
        if not any(d == self.device or d.startswith(self.device + ".") for d in devices):
            reason = f"no {self.device} in openvino.Core().available_devices ({devices})"
            return Probe(self.id, True, False, reason, detail)
        return Probe(self.id, True, True, "", detail)

    def load(self, model: ModelRef, progress: Progress) -> BackendInfo:
        import openvino_genai

        if model.model_format not in ("openvino", "gguf"):
            raise BackendUnavailable(f"{self.id} cannot run {model.model_format} models ({model.path})")
        properties: dict[str, Any] = {}
        max_prompt = context = model.context_length
        if self.device == "NPU":  # the static window it compiles; a 128K model's own would not
            context = npu_context(model.model_id, model.context_length)
            max_prompt, min_response = npu_prompt_window(context)
            properties["MAX_PROMPT_LEN"] = max_prompt
            properties["MIN_RESPONSE_LEN"] = min_response
        progress(f"loading {model.model_id} on OpenVINO {self.device}")
        started = time.perf_counter()
        try:
            decodings, speculation = self._speculation(openvino_genai)
            cache = self._cache_dir / self.id if self._compile_cache else None

            def create(path: Path, extra: dict[str, Any]) -> Any:
                with loadable(path.parent) as spell:  # a folder the ANSI code page cannot spell (native_path)
                    return create_with_cache(
                        lambda cached: openvino_genai.LLMPipeline(
                            spell(path), self.device, **properties, **spelled_cache(cached, spell), **speculation,
                            **extra),
                        cache, progress)

            if model.model_format == "gguf":
                self._pipeline = load_gguf(Path(model.path), self._cache_dir, create, progress)
            else:
                self._pipeline = create(Path(model.path), {})
            self._tokenizer = self._pipeline.get_tokenizer()
            try:
                self._controls = control_strings(self._tokenizer)
            except Exception as error:  # a tokenizer without a detokenizer or vocabulary: its files still say
                self._controls = ControlStrings(added_tokens(Path(model.path)))
                progress(f"the tokenizer lists no special tokens ({first_line(error)}); breaking "
                         f"{len(self._controls)} from its files in the text instead")
            self._info = BackendInfo(
                backend_id=self.id,
                device=self.device,
                model_id=model.model_id,
                quantization=model.quantization,
                context_length=context,
                max_prompt_tokens=max_prompt,
                library=f"openvino-genai {openvino_genai.__version__}",
                decodings=decodings,
            )
            # The first generate after a load is several times slower: pay it now, not on a hotkey.
            progress("warming up")
            for _ in self.stream(Request("Hi", max_new_tokens=1), threading.Event()):
                pass
        except Exception as error:  # the library raises bare RuntimeError for every failure
            self.unload()
            raise BackendLoadError(
                f"{self.id}: LLMPipeline could not load {model.path} on {self.device}: {first_line(error)}"
            ) from error
        self._info = dataclasses.replace(self._info, load_seconds=time.perf_counter() - started)
        return self._info

    def _speculation(self, openvino_genai: Any) -> tuple[tuple[tuple[str, str], ...], dict[str, Any]]:
        """(what each asked decoding runs as, LLMPipeline's keyword arguments for it) on this device.

        A draft model, when the person asked for one, serves every request: it cannot be combined with
        prompt lookup. Prompt lookup runs on the CPU and GPU only; the NPU's stateful pipeline has none.
        """
        self._lookup, self._draft_tokens = {}, 0
        draft = self._decoding.draft
        if draft is not None:
            self._draft_tokens = DRAFT_TOKENS
            name = f"draft model {draft.model_id}"
            return ((("plain", name), ("prompt-lookup", name)),
                    {"draft_model": openvino_genai.draft_model(str(draft.path), self.device)})
        if self._decoding.prompt_lookup and self.device in ("CPU", "GPU"):
            self._lookup = {"plain": PROMPT_LOOKUP_FOR_PLAIN, "prompt-lookup": PROMPT_LOOKUP}
            return tuple((asked, lookup_name(setting)) for asked, setting in self._lookup.items()), {"prompt_lookup": True}
        return (), {}

    def _describe_decoding(self) -> str:
        if self._decoding.draft is not None:
            return f"draft model {self._decoding.draft.model_id}"
        if self._decoding.prompt_lookup and self.device in ("CPU", "GPU"):
            return f"{lookup_name(PROMPT_LOOKUP)} for edits"
        return "plain" + (" (the NPU pipeline has no prompt lookup)" if self.device == "NPU" else "")

    def _prompt(self, request: Request) -> str:
        """The chat-templated prompt, the messages' control strings broken so they stay text."""
        messages = self._controls.messages(request.messages())
        return str(self._tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def prompt_ids(self, request: Request) -> list[int]:
        """The token ids generate gets for this request."""
        return [int(i) for i in self._tokenizer.encode(self._prompt(request)).input_ids.data[0]]

    def count_tokens(self, text: str) -> int:
        text = self._controls.neutralise(text)
        return int(self._tokenizer.encode(text, add_special_tokens=False).input_ids.get_shape()[1])

    def stream(self, request: Request, cancel: threading.Event) -> Iterator[str]:
        import openvino_genai

        assert self._pipeline is not None and self._info is not None, "load() first"
        # Tokenized once, here: the count sets the answer budget and the ids go to generate as they are
        # (the same ids generate makes of the string itself, so the chat template is applied once).
        inputs = self._tokenizer.encode(self._prompt(request))
        config = self._pipeline.get_generation_config()
        config.max_new_tokens = answer_budget(int(inputs.input_ids.get_shape()[1]), request, self._info)
        config.stop_strings = set(request.stop)
        for name, value in request.tuning:
            if name in TUNABLE:
                setattr(config, name, value)
        config.include_stop_str_in_output = False
        draft, action = None, request.system or ""
        if self._lookup and request.decoding == "prompt-lookup":
            draft = self._tuner.choose(action)
            config.num_assistant_tokens, config.max_ngram_size = setting_of(draft)
        elif self._lookup:
            config.num_assistant_tokens, config.max_ngram_size = PROMPT_LOOKUP_FOR_PLAIN
        elif self._draft_tokens:
            config.num_assistant_tokens = self._draft_tokens
        if request.temperature > 0:
            config.do_sample = True
            config.temperature = request.temperature
            if request.seed is not None:
                config.rng_seed = request.seed
        else:
            config.do_sample = False
        self.decoding_ran = lookup_name(setting_of(draft)) if draft is not None else ""
        chunks: queue.Queue[object] = queue.Queue()
        abandoned = threading.Event()
        results: list[Any] = []

        def on_chunk(text: str) -> openvino_genai.StreamingStatus:
            """Called on the generate thread for each decoded chunk."""
            chunks.put(text)
            if cancel.is_set() or abandoned.is_set():
                return openvino_genai.StreamingStatus.CANCEL
            return openvino_genai.StreamingStatus.RUNNING

        def generate() -> None:
            try:
                results.append(self._pipeline.generate(inputs, config, on_chunk))
            except BaseException as error:  # handed to the consumer, raised there
                chunks.put(error)
            finally:
                chunks.put(_END)

        worker = threading.Thread(target=generate, name=f"{self.id}-generate", daemon=True)
        worker.start()
        restorer = self._controls.restorer()
        try:
            while (item := chunks.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                if cancel.is_set():
                    continue  # drain until generate returns, yield nothing more
                if text := restorer.feed(str(item)):
                    yield text
            if (rest := restorer.flush()) and not cancel.is_set():
                yield rest
        finally:
            abandoned.set()
            worker.join()
            if draft is not None and results and not cancel.is_set():
                self._learn(action, draft, results[0])

    def _learn(self, action: str, draft: int, result: Any) -> None:
        """What this answer's draft measured, from the pipeline's per-step times (ms); never raises."""
        try:
            metrics = result.perf_metrics
            times = list(metrics.raw_metrics.m_new_token_times)
            tokens = int(metrics.get_num_generated_tokens())
        except Exception:  # a library without these metrics: the tuner keeps what it had
            return
        if len(times) >= 2:
            self._tuner.record(action, draft, tokens, (times[-1] - times[0]) / 1000, len(times))

    def unload(self) -> None:
        self._pipeline = None
        self._tokenizer = None


def control_strings(tokenizer: Any) -> ControlStrings:
    """The strings this tokenizer turns into special tokens: those whose token a decode that skips special
    tokens drops, and that encode back to that token. Every vocabulary entry is decoded in two batches."""
    vocabulary = tokenizer.get_vocab()  # bytes -> id: not every entry is UTF-8 on its own
    ids = sorted(set(vocabulary.values()))
    singles = [[i] for i in ids]
    skipped = tokenizer.decode(singles, skip_special_tokens=True)
    whole = tokenizer.decode(singles, skip_special_tokens=False)
    strings = []
    for token_id, short, text in zip(ids, skipped, whole):
        if short or not text or "\ufffd" in text:  # a plain token, or a byte that is no text alone
            continue
        encoded = tokenizer.encode(text, add_special_tokens=False).input_ids.data[0]
        if token_id in [int(i) for i in encoded]:
            strings.append(text)
    return ControlStrings(strings)
