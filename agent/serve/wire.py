"""What crosses the wire: OpenAI and Ollama request bodies read into a model `Request`, answers written back.

Reading never raises: a body the endpoint cannot serve becomes a sentence
that says what is wrong, answered with 400. Parameters the resident model has
no use for (top_p, seed, tools it cannot call…) are ignored, as Ollama does;
ones that would change what the caller gets back unasked (n > 1, images, raw
prompts) are refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from phitray.backends.base import GenerationStats, Request

DEFAULT_MAX_TOKENS = 2048  # the model's context shortens it further (backends.base.answer_budget)
MAX_TOKENS = 32768
MAX_STOPS = 8
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class Call:
    """One request the endpoint will answer."""

    request: Request
    stream: bool
    include_usage: bool = False  # OpenAI's stream_options.include_usage


def _text_of(content: Any) -> str | None:
    """A message's text: a string, or OpenAI's list of text parts; None for anything else (images…)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and part.get("type") == "text"
                                         and isinstance(part.get("text"), str) for part in content):
        return "".join(part["text"] for part in content)
    return None


def _messages(raw: Any) -> tuple[str | None, tuple[tuple[str, str], ...], str] | str:
    """(system, earlier turns, the last user message), or what is wrong."""
    if not isinstance(raw, list) or not raw:
        return "messages must be a non-empty list"
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return f"messages[{index}] must have a role of {', '.join(ROLES)}"
        if message.get("images"):
            return "this model reads text only: images are not supported"
        text = _text_of(message.get("content", ""))
        if text is None:
            return f"messages[{index}].content must be text (a string or text parts): this model reads text only"
        role = ROLES[message["role"]]
        if role == "system":
            system.append(text)
        else:
            turns.append((role, text))
    if not turns or turns[-1][0] != "user":
        return "the last message must be the user's"
    return ("\n\n".join(system) or None), tuple(turns[:-1]), turns[-1][1]


def _number(value: Any, name: str, low: float, high: float) -> float | str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"{name} must be a number from {low:g} to {high:g}"
    return float(value)


def _stops(value: Any) -> tuple[str, ...] | str:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_STOPS or not all(isinstance(s, str) and s for s in value):
        return f"stop must be a string or a list of at most {MAX_STOPS} non-empty strings"
    return tuple(value)


def _generation(temperature: Any, max_tokens: Any, stop: Any) -> tuple[float, int, tuple[str, ...]] | str:
    heat = 0.0 if temperature is None else _number(temperature, "temperature", 0, 2)
    if isinstance(heat, str):
        return heat
    if max_tokens is None or max_tokens == -1:
        limit: Any = DEFAULT_MAX_TOKENS
    elif isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= MAX_TOKENS:
        return f"the answer's token limit must be a whole number from 1 to {MAX_TOKENS}"
    else:
        limit = max_tokens
    stops = _stops(stop)
    return stops if isinstance(stops, str) else (heat, limit, stops)


def openai_call(body: Any) -> Call | str:
    """POST /v1/chat/completions."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("n", 1) != 1:
        return "n must be 1: one answer per request"
    parts = _messages(body.get("messages"))
    if isinstance(parts, str):
        return parts
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    generation = _generation(body.get("temperature"), limit, body.get("stop"))
    if isinstance(generation, str):
        return generation
    system, history, prompt = parts
    temperature, max_tokens, stop = generation
    options = body.get("stream_options")
    usage = isinstance(options, dict) and options.get("include_usage") is True
    return Call(Request(prompt, system, max_tokens, temperature, stop, history=history), body.get("stream") is True,
                usage)


def _ollama_common(body: Any) -> tuple[dict[str, Any], bool] | str:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    options = body.get("options") or {}
    if not isinstance(options, dict):
        return "options must be an object"
    if body.get("images"):
        return "this model reads text only: images are not supported"
    return options, body.get("stream", True) is not False


def ollama_chat_call(body: Any) -> Call | str:
    """POST /api/chat."""
    common = _ollama_common(body)
    if isinstance(common, str):
        return common
    options, stream = common
    parts = _messages(body.get("messages"))
    if isinstance(parts, str):
        return parts
    generation = _generation(options.get("temperature"), options.get("num_predict"), options.get("stop"))
    if isinstance(generation, str):
        return generation
    system, history, prompt = parts
    temperature, max_tokens, stop = generation
    return Call(Request(prompt, system, max_tokens, temperature, stop, history=history), stream)


def ollama_generate_call(body: Any) -> Call | str:
    """POST /api/generate; an empty prompt is Ollama's way to load the model and gets an empty answer."""
    common = _ollama_common(body)
    if isinstance(common, str):
        return common
    options, stream = common
    if body.get("raw") is True:
        return "raw prompts are not supported: the model's own chat template is always applied"
    prompt, system = body.get("prompt", ""), body.get("system")
    if not isinstance(prompt, str) or not (system is None or isinstance(system, str)):
        return "prompt and system must be strings"
    generation = _generation(options.get("temperature"), options.get("num_predict"), options.get("stop"))
    if isinstance(generation, str):
        return generation
    temperature, max_tokens, stop = generation
    return Call(Request(prompt, system or None, max_tokens, temperature, stop), stream)


# --- answers -------------------------------------------------------------------------------------------------


def finish_reason(stats: GenerationStats | None, request: Request) -> str:
    return "length" if stats is not None and stats.tokens >= request.max_new_tokens else "stop"


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def openai_usage(prompt_tokens: int, stats: GenerationStats | None) -> dict[str, int]:
    tokens = stats.tokens if stats else 0
    return {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens}


def openai_completion(answer_id: str, model: str, text: str, finish: str, usage: dict[str, int]) -> dict[str, Any]:
    return {"id": answer_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                         "logprobs": None}],
            "usage": usage}


def openai_chunk(answer_id: str, model: str, delta: dict[str, str], finish: str | None,
                 usage: dict[str, int] | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {"id": answer_id, "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": model, "choices": [] if usage else
                             [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    if usage:
        chunk["usage"] = usage
    return chunk


def openai_error(status: int, message: str) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
            503: "overloaded_error"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def ollama_time() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"


def ollama_piece(model: str, text: str, chat: bool) -> dict[str, Any]:
    content = {"message": {"role": "assistant", "content": text}} if chat else {"response": text}
    return {"model": model, "created_at": ollama_time(), **content, "done": False}


def ollama_done(model: str, chat: bool, finish: str, prompt_tokens: int, stats: GenerationStats | None,
                text: str = "") -> dict[str, Any]:
    seconds, first = (stats.seconds, stats.ttft_seconds) if stats else (0.0, 0.0)
    content = {"message": {"role": "assistant", "content": text}} if chat else {"response": text}
    return {"model": model, "created_at": ollama_time(), **content, "done": True, "done_reason": finish,
            "total_duration": int(seconds * 1e9), "load_duration": 0, "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": int(first * 1e9), "eval_count": stats.tokens if stats else 0,
            "eval_duration": int((seconds - first) * 1e9)}
