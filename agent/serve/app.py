"""The endpoint's ASGI application: routes, the guard, bounded bodies, and answers streamed or whole.

Runs on the "endpoint" thread's event loop (server.py). A request is read only
after it passed the guard, and only up to `MAX_BODY_BYTES` within
`BODY_SECONDS`; the answer waits for its turn at the gate before any status is
sent, so a busy model is a plain 503 with Retry-After. Once a stream has begun,
a failure (the person's job took the model, the host restarted) ends it with
an error event in the stream's own format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from phitray import __version__, errors
from phitray.host.client import Host
from phitray.logs import milestone
from phitray.serve import guard, wire
from phitray.serve.relay import Relay
from phitray.settings import ServerSettings

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1_000_000
BODY_SECONDS = 10.0  # the whole body must arrive within this
RETRY_AFTER_SECONDS = 5
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
ROUTES = {"/v1/models": "GET", "/v1/chat/completions": "POST", "/api/tags": "GET", "/api/chat": "POST",
          "/api/generate": "POST", "/api/version": "GET", "/": "GET"}
READERS = {"/v1/chat/completions": wire.openai_call, "/api/chat": wire.ollama_chat_call,
           "/api/generate": wire.ollama_generate_call}
OLLAMA_VERSION = "0.6.0"  # what Ollama clients that check the server's version are told


def _status_of(error: Exception) -> int:
    if isinstance(error, (errors.ModelBusy, errors.NotReady, errors.HostError)):
        return 503
    return 400 if isinstance(error, errors.ContextOverflow) else 500


def _message_of(error: Exception) -> str:
    return str(error) if isinstance(error, errors.PhiTrayError) else f"The model failed: {error}"


class EndpointApp:
    """The ASGI app over the current model host (`host()`, any thread may change which it is)."""

    def __init__(self, host: Callable[[], Host | None], settings: ServerSettings, token: str) -> None:
        self._host, self._settings, self._token = host, settings, token

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        path, method = scope["path"], scope["method"]
        ollama = path == "/" or path.startswith("/api/")
        cors = guard.cors_headers(headers.get("origin"), self._settings)
        reply = _Reply(send, ollama, cors)
        if method == "OPTIONS":  # a listed page's browser asks first, without the token
            refused = guard.check_host(headers.get("host")) or (None if cors else guard.Refusal(403, "No such origin."))
            await (reply.refuse(refused) if refused else reply.json(204, None))
            return
        refused = guard.check(headers, self._token, ollama, self._settings)
        if refused is not None:
            await reply.refuse(refused)
            return
        if path not in ROUTES:
            await reply.error(404, f"No route {path[:100]}.")
            return
        if method != ROUTES[path] and not (method == "HEAD" and ROUTES[path] == "GET"):
            await reply.error(405, f"{path} takes {ROUTES[path]}.", (("allow", ROUTES[path]),))
            return
        if path in READERS:
            await self._answer(path, headers, receive, reply)
        else:
            await reply.json(200, self._listing(path), head=method == "HEAD")

    def _listing(self, path: str) -> Any:
        host = self._host()
        info = host.info if host is not None else None
        if path == "/v1/models":
            models = [{"id": info.model_id, "object": "model", "created": 0, "owned_by": "phitray"}] if info else []
            return {"object": "list", "data": models}
        if path == "/api/tags":
            details = {"format": info.library, "family": "phi", "families": ["phi"], "parameter_size": "",
                       "quantization_level": info.quantization} if info else {}
            return {"models": [{"name": info.model_id, "model": info.model_id, "modified_at": wire.ollama_time(),
                                "size": 0, "digest": "", "details": details}] if info else []}
        if path == "/api/version":
            return {"version": OLLAMA_VERSION, "phitray": __version__}
        return "Phi Tray is running"

    async def _answer(self, path: str, headers: dict[str, str], receive: Receive, reply: _Reply) -> None:
        body = await _read_body(receive, headers)
        if isinstance(body, guard.Refusal):
            await reply.refuse(body)
            return
        if body is None:
            return  # the client left before its body arrived
        try:
            parsed = json.loads(body)
        except ValueError as error:  # also a body that is not UTF-8
            await reply.error(400, f"The body is not JSON: {str(error)[:200]}.")
            return
        call = READERS[path](parsed)
        if isinstance(call, str):
            await reply.error(400, f"The request cannot be served: {call}.")
            return
        host = self._host()
        if host is None or host.info is None:
            failure = host.failure if host is not None else None
            await reply.error(503, f"No model is loaded{': ' + failure if failure else ' yet'}.", retry=True)
            return
        model = host.info.model_id
        if path == "/api/generate" and not call.request.prompt:
            await reply.json(200, wire.ollama_done(model, False, "load", 0, None))
            return
        started = time.perf_counter()
        relay = Relay(asyncio.get_running_loop(), host, call.request)
        watch = asyncio.create_task(_watch_disconnect(receive, relay))
        try:
            status = await _Answer(path, model, call, relay, reply).run()
        finally:
            watch.cancel()
            relay.cancel()  # no-op once it ended; ends it when this task was cancelled (the server stopping)
        milestone("endpoint-answer", route=path, status=status, stream=call.stream,
                  ms=round((time.perf_counter() - started) * 1000))


async def _read_body(receive: Receive, headers: dict[str, str]) -> bytes | guard.Refusal | None:
    too_big = guard.Refusal(413, f"The body is over {MAX_BODY_BYTES:,} bytes.", (("connection", "close"),))
    length = headers.get("content-length", "0").strip()
    if not length.isdigit():
        return guard.Refusal(400, "Content-Length is not a number.", (("connection", "close"),))
    if int(length) > MAX_BODY_BYTES:
        return too_big
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BODY_SECONDS
    chunks, size = [], 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return guard.Refusal(408, f"The body did not arrive within {BODY_SECONDS:g} s.", (("connection", "close"),))
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return too_big
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _watch_disconnect(receive: Receive, relay: Relay) -> None:
    """Ends the answer when the client goes away (its body is read: the next message is the disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    relay.cancel()


class _Reply:
    """Writes responses in the route's dialect: OpenAI's error objects or Ollama's {"error": …}."""

    def __init__(self, send: Send, ollama: bool, cors: tuple[tuple[str, str], ...]) -> None:
        self.send, self.ollama, self.cors = send, ollama, cors

    async def start(self, status: int, content_type: str, extra: tuple[tuple[str, str], ...] = (),
                    length: int | None = None) -> None:
        headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store"),
                   *((name.encode(), value.encode()) for name, value in (*self.cors, *extra))]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def json(self, status: int, value: Any, extra: tuple[tuple[str, str], ...] = (), head: bool = False) -> None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) if value is not None else ""
        kind = "text/plain; charset=utf-8" if isinstance(value, str) else "application/json"
        body = text.encode("utf-8")
        await self.start(status, kind, extra, len(body))
        await self.send({"type": "http.response.body", "body": b"" if head else body})

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message} if self.ollama else wire.openai_error(status, message)

    async def error(self, status: int, message: str, extra: tuple[tuple[str, str], ...] = (),
                    retry: bool = False) -> None:
        if retry:
            extra = (*extra, ("retry-after", str(RETRY_AFTER_SECONDS)))
        await self.json(status, self.error_body(status, message), extra)

    async def refuse(self, refusal: guard.Refusal) -> None:
        await self.error(refusal.status, refusal.message, refusal.headers)


class _Answer:
    """One model answer written back: whole, as server-sent events (OpenAI) or as NDJSON lines (Ollama)."""

    def __init__(self, path: str, model: str, call: wire.Call, relay: Relay, reply: _Reply) -> None:
        self.path, self.model, self.call, self.relay, self.reply = path, model, call, relay, reply
        self.openai = path.startswith("/v1/")
        self.chat = path != "/api/generate"
        self.answer_id = wire.new_id()

    async def run(self) -> int:
        """Writes the whole response; returns its status."""
        kind, value = await self.relay.queue.get()
        if kind == "error":
            status = _status_of(value)
            await self.reply.error(status, _message_of(value), retry=status == 503)
            return status
        if self.call.stream:
            await self.reply.start(200, "text/event-stream" if self.openai else "application/x-ndjson")
            if self.openai:
                await self._event(wire.openai_chunk(self.answer_id, self.model, {"role": "assistant", "content": ""},
                                                    None))
        parts = []
        while True:
            kind, value = await self.relay.queue.get()
            if kind == "text":
                parts.append(value)
                if self.call.stream:
                    await self._event(self._piece(value))
            elif kind == "error":
                return await self._failed(value)
            else:
                stats, prompt_tokens = value
                await self._end("".join(parts), stats, prompt_tokens)
                return 200

    def _piece(self, text: str) -> dict[str, Any]:
        if self.openai:
            return wire.openai_chunk(self.answer_id, self.model, {"content": text}, None)
        return wire.ollama_piece(self.model, text, self.chat)

    async def _event(self, value: dict[str, Any] | str, more: bool = True) -> None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        line = f"data: {text}\n\n" if self.openai else f"{text}\n"
        await self.reply.send({"type": "http.response.body", "body": line.encode("utf-8"), "more_body": more})

    async def _failed(self, error: Exception) -> int:
        status = _status_of(error)
        if not self.call.stream:
            await self.reply.error(status, _message_of(error), retry=status == 503)
            return status
        body = self.reply.error_body(status, _message_of(error))
        if status == 503:
            body["retry_after"] = RETRY_AFTER_SECONDS
        await self._event(body, more=False)
        return status

    async def _end(self, text: str, stats: Any, prompt_tokens: int) -> None:
        finish = wire.finish_reason(stats, self.call.request)
        if self.openai:
            usage = wire.openai_usage(prompt_tokens, stats)
            if not self.call.stream:
                await self.reply.json(200, wire.openai_completion(self.answer_id, self.model, text, finish, usage))
                return
            await self._event(wire.openai_chunk(self.answer_id, self.model, {}, finish))
            if self.call.include_usage:
                await self._event(wire.openai_chunk(self.answer_id, self.model, {}, None, usage))
            await self._event("[DONE]", more=False)
            return
        if not self.call.stream:
            await self.reply.json(200, wire.ollama_done(self.model, self.chat, finish, prompt_tokens, stats, text))
        else:
            await self._event(wire.ollama_done(self.model, self.chat, finish, prompt_tokens, stats), more=False)
