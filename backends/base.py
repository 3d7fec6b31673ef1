"""The backend protocol and the frozen records that cross threads and processes.

A backend wraps one inference library on one device. It is created cheaply,
`probe()`d without loading anything heavy, then `load()`ed once by the model
host and asked to `stream()` many times. Heavy imports live inside `probe()`
and `load()` so that the daemon never pays for libraries it does not use.
"""

from __future__ import annotations

import threading
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from phitray.errors import ContextOverflow

Progress = Callable[[str], None]

# Below this an answer is not worth starting.
MIN_ANSWER_TOKENS = 16


@dataclass(frozen=True)
class Probe:
    """What a backend found without loading a model."""

    backend_id: str
    installed: bool
    device_present: bool
    reason: str = ""  # why it cannot run, in one sentence; empty when it can
    detail: str = ""  # library version, devices seen

    @property
    def available(self) -> bool:
        return self.installed and self.device_present


@dataclass(frozen=True)
class ModelRef:
    """Prepared model files for one backend, as found in the store."""

    model_id: str
    path: Path  # a folder, or a single .gguf file
    model_format: str  # "openvino" | "onnx" | "gguf" | "hf"
    quantization: str
    context_length: int


@dataclass(frozen=True)
class DecodingOptions:
    """How a backend may decode faster than one token per step; each uses what its device supports."""

    prompt_lookup: bool = True  # draft tokens from n-grams of the prompt (requests that ask for it)
    draft: ModelRef | None = None  # a small model of the same family drafting tokens for every request


@dataclass(frozen=True)
class BackendInfo:
    """What is loaded, for the tray tooltip, `devices` and stats."""

    backend_id: str
    device: str
    model_id: str
    quantization: str
    context_length: int
    max_prompt_tokens: int  # the NPU compiles a smaller prompt window than the context
    library: str
    load_seconds: float = 0.0
    # How each decoding a request may ask for runs here, as (asked, ran). A backend that knows only
    # plain decoding leaves this empty, and every request is decoded plainly.
    decodings: tuple[tuple[str, str], ...] = ()

    def decoding_for(self, asked: str) -> str:
        """What a request asking for `asked` decoding gets from this backend, named for records."""
        return dict(self.decodings).get(asked, "plain")


@dataclass(frozen=True)
class Request:
    """One generation: a user prompt, an optional system prompt, options."""

    prompt: str
    system: str | None = None
    max_new_tokens: int = 512
    temperature: float = 0.0
    stop: tuple[str, ...] = ()  # generation ends when the answer would contain one of these
    # More generation options by openvino-genai's names (frequency_penalty, presence_penalty): the
    # model's catalog defaults, filled in by the model host. Backends apply the ones they know.
    tuning: tuple[tuple[str, float], ...] = ()
    decoding: str = "plain"  # "plain" | "prompt-lookup" (actions/model.py DECODINGS); backends that cannot, ignore it
    # Earlier turns of a conversation as (role, content), "user" or "assistant", before the prompt (the local
    # endpoint's chats); an action's request has none.
    history: tuple[tuple[str, str], ...] = ()
    seed: int | None = None  # with a temperature: the sampler's seed ("Another version"); None: the library's own

    def messages(self) -> list[dict[str, str]]:
        messages = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.extend({"role": role, "content": content} for role, content in self.history)
        messages.append({"role": "user", "content": self.prompt})
        return messages


@dataclass(frozen=True)
class GenerationStats:
    """Timings of one answer, measured by the model host."""

    ttft_seconds: float  # request received by the host → first chunk
    seconds: float  # request received → last chunk
    tokens: int  # of the answer, by the model's tokenizer
    cancelled: bool
    decoding: str = "plain"  # what ran: BackendInfo.decoding_for(request.decoding)

    @property
    def tokens_per_second(self) -> float:
        decode = self.seconds - self.ttft_seconds
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


class Backend(Protocol):
    id: str

    def probe(self) -> Probe: ...

    def load(self, model: ModelRef, progress: Progress) -> BackendInfo: ...

    def stream(self, request: Request, cancel: threading.Event) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def unload(self) -> None: ...


def answer_budget(prompt_tokens: int, request: Request, info: BackendInfo) -> int:
    """How many tokens the answer may take; refuses a prompt that would be cut.

    Small models silently drop the start of an over-long prompt, so an
    oversized prompt is an error; the answer budget is only ever shortened to
    what the context has left.
    """
    room = min(info.max_prompt_tokens, info.context_length - MIN_ANSWER_TOKENS)
    if prompt_tokens > room:
        raise ContextOverflow(
            f"The prompt is {prompt_tokens} tokens but {info.model_id} on {info.backend_id} "
            f"takes at most {room}; shorten the text or split it."
        )
    return max(1, min(request.max_new_tokens, info.context_length - prompt_tokens))


def first_line(error: BaseException) -> str:
    """Library errors carry pages of C++ context; a notice needs the first line."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


# How the libraries say the accelerator went away (a driver reset, update, TDR or some resumes). Level Zero
# (OpenVINO's NPU plugin and the GPU plugin's Level Zero path): "L0 zeCommandQueueExecuteCommandLists result:
# ZE_RESULT_ERROR_DEVICE_LOST, code 0x70000001 - device hung, reset, was removed, or driver update occurred", or
# "… command failed with code 1879048193". DirectML through onnxruntime(-genai) names the HRESULT, whose text
# Windows translates: "… Exception(3) tid(5a68) 887A0005 The GPU device instance has been suspended. Use
# GetDeviceRemovedReason …" (0x887A0005 removed, 0x887A0006 hung, 0x887A0007 reset, 0x887A0020 driver internal
# error). OpenVINO's GPU plugin over OpenCL reports CL_OUT_OF_RESOURCES as "[GPU] <call>, error code: -5" only
# when its device is no longer listed (a real shortage gets a long "[GPU] CL_OUT_OF_RESOURCES exception" text).
DEVICE_LOST = re.compile(
    r"ZE_RESULT_ERROR_DEVICE_LOST|0x70000001\b|failed with code 1879048193\b"
    r"|DXGI_ERROR_DEVICE_(?:REMOVED|HUNG|RESET)|DXGI_ERROR_DRIVER_INTERNAL_ERROR|\b(?:0x)?887A00(?:0[567]|20)\b"
    r"|\[GPU\][^\n]*, error code: -5\b",
    re.IGNORECASE,
)


def device_lost(error: BaseException) -> str | None:
    """What a library's error says about its lost device (from the code on), or None for any other error."""
    found = DEVICE_LOST.search(str(error))
    return str(error)[found.start() :].splitlines()[0][:200] if found else None
