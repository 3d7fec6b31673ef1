"""What the endpoint lets in and how it reads requests, rule by rule: the guard, the token file, the request
readers and the [server] settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from phitray import errors
from phitray.serve import guard, wire
from phitray.serve.token import read_or_create
from phitray.settings import ServerSettings, parse_settings

TOKEN = "t" * 43
OPEN = ServerSettings(enabled=True, ollama_without_token=True, allowed_origins=("http://localhost:3000",))


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:11435", True), ("localhost", True), ("LOCALHOST.:80", True), ("[::1]:11435", True), ("[::1]", True),
    ("attacker.example", False), ("127.0.0.1.attacker.example", False), ("localhost.attacker.example:11435", False),
    ("[::2]:11435", False), ("0.0.0.0", False), ("192.168.1.2:11435", False), ("", False), (None, False),
])
def test_only_loopback_host_names_pass(host: str | None, allowed: bool) -> None:
    assert (guard.check_host(host) is None) == allowed


def test_origins_pass_only_when_listed_and_get_cors_headers_then() -> None:
    assert guard.check_origin(None, ServerSettings()) is None
    assert guard.check_origin("http://localhost:3000", ServerSettings()) is not None
    assert guard.check_origin("http://localhost:3000/", OPEN) is None
    assert guard.check_origin("http://localhost:3001", OPEN) is not None
    assert guard.cors_headers("http://localhost:3001", OPEN) == ()
    assert dict(guard.cors_headers("http://localhost:3000", OPEN))["access-control-allow-origin"] == \
        "http://localhost:3000"


def test_the_token_is_needed_everywhere_but_on_ollama_routes_when_the_person_allows_it() -> None:
    closed = ServerSettings(enabled=True)
    assert guard.check_token(f"Bearer {TOKEN}", TOKEN, False, closed) is None
    assert guard.check_token(f"bearer  {TOKEN} ", TOKEN, False, closed) is None
    for header in (None, "", "Bearer", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer é"):
        refused = guard.check_token(header, TOKEN, False, closed)
        assert refused is not None and refused.status == 401, header
    assert guard.check_token(None, TOKEN, True, closed) is not None
    assert guard.check_token(None, TOKEN, True, OPEN) is None
    assert guard.check_token("Bearer wrong", TOKEN, True, OPEN) is not None, "a wrong token is never let in"
    assert guard.check_token(None, TOKEN, False, OPEN) is not None, "OpenAI routes let in without a token"


def test_the_token_file_is_made_once_for_the_person_alone(tmp_path: Path) -> None:
    path = tmp_path / "config" / "server-token"
    token = read_or_create(path)
    assert len(token) >= 32 and read_or_create(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    assert read_or_create(path) == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")
    assert read_or_create(path) not in ("short", token)
    path.write_bytes(b"\xff" * 64)
    assert len(read_or_create(path)) >= 32
    (tmp_path / "locked").mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        with pytest.raises(errors.ConfigError, match="cannot be written"):
            read_or_create(tmp_path / "locked" / "server-token")


def test_openai_bodies_become_requests_with_their_turns() -> None:
    call = wire.openai_call({"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."}, {"role": "developer", "content": [{"type": "text", "text": "Ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "Again"}]}],
        "max_completion_tokens": 7, "temperature": 0.5, "stop": "END", "stream": True,
        "stream_options": {"include_usage": True}, "top_p": 0.9, "seed": 3})
    assert isinstance(call, wire.Call) and call.stream and call.include_usage
    request = call.request
    assert (request.system, request.history, request.prompt) == ("Be brief.\n\nOk", (("user", "Hi"), ("assistant", "Hello.")),
                                                                 "Again")
    assert (request.max_new_tokens, request.temperature, request.stop) == (7, 0.5, ("END",))
    assert request.messages()[-1] == {"role": "user", "content": "Again"}
    plain = wire.openai_call({"messages": [{"role": "user", "content": "x"}]})
    assert isinstance(plain, wire.Call) and (plain.request.temperature, plain.request.max_new_tokens, plain.stream) == \
        (0.0, wire.DEFAULT_MAX_TOKENS, False)


@pytest.mark.parametrize("body, problem", [
    (None, "JSON object"), ([], "JSON object"), ({}, "non-empty"), ({"messages": "hi"}, "non-empty"),
    ({"messages": [{"role": "assistant", "content": "x"}]}, "last message"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "text only"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n must be 1"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "token limit"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": True}, "token limit"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": 3}, "temperature"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": ["a"] * 9}, "stop"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": [""]}, "stop"),
])
def test_openai_bodies_it_cannot_serve_are_named_never_raised(body: object, problem: str) -> None:
    answer = wire.openai_call(body)
    assert isinstance(answer, str) and problem in answer


def test_ollama_bodies_stream_unless_told_and_take_their_options() -> None:
    chat = wire.ollama_chat_call({"model": "x", "messages": [{"role": "user", "content": "Hi"}],
                                  "options": {"num_predict": 5, "temperature": 0.2, "stop": ["\n"]}})
    assert isinstance(chat, wire.Call) and chat.stream and chat.request.max_new_tokens == 5
    generate = wire.ollama_generate_call({"prompt": "Hi", "system": "Short.", "stream": False})
    assert isinstance(generate, wire.Call) and not generate.stream and generate.request.system == "Short."
    assert wire.ollama_generate_call({"prompt": "Hi", "raw": True}) == \
        "raw prompts are not supported: the model's own chat template is always applied"
    assert "images" in str(wire.ollama_generate_call({"prompt": "Hi", "images": ["aGk="]}))
    assert "options" in str(wire.ollama_chat_call({"messages": [{"role": "user", "content": "x"}], "options": 3}))
    assert "strings" in str(wire.ollama_generate_call({"prompt": 5}))


def test_server_settings_are_validated_field_by_field() -> None:
    loaded = parse_settings({"server": {"enabled": True, "port": 8080, "ollama_without_token": True,
                                        "allowed_origins": ["HTTP://LocalHost:3000/", "https://app.example"]}}, "s.toml")
    assert loaded.problems == ()
    assert loaded.settings.server == ServerSettings(True, 8080, True, ("http://localhost:3000", "https://app.example"))
    bad = parse_settings({"server": {"enabled": "yes", "port": 80, "allowed_origins": ["*", "file:///x", 3],
                                     "host": "0.0.0.0"}}, "s.toml")
    messages = " | ".join(str(problem) for problem in bad.problems)
    assert len(bad.problems) == 4, messages
    assert "server.port: must be a port number from 1024 to 65535" in messages and "server.host: unknown" in messages
    assert bad.settings.server == ServerSettings()
    assert parse_settings({"server": {"port": 70000}}, "s").settings.server_port == 11435
