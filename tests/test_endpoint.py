"""The local endpoint on real processes: `phitray serve` with the starter model on openvino-cpu, asked by the real
`openai` and `ollama` clients and by curl, and held to its answer for every hostile request."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import ollama
import openai
import pytest

from phitray.paths import Paths

from helpers.env import environment_for

pytestmark = pytest.mark.slow
CHAT = {"messages": [{"role": "user", "content": "Say hello in three words."}], "max_tokens": 12}


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    token: str
    port: int
    env: dict[str, str]
    out: Path

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(paths: Paths, port: int, out: Path) -> subprocess.Popen[bytes]:
    env = environment_for(paths)
    return subprocess.Popen([sys.executable, "-m", "phitray", "serve", "--backend", "openvino-cpu", "--model", "starter",
                             "--no-pull", "--port", str(port)], env=env, stdin=subprocess.DEVNULL,
                            stdout=out.open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def served(shared_paths: Paths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    paths = replace(shared_paths, config_dir=folder / "config", log_dir=folder / "log")
    port, out = free_port(), folder / "serve.out"
    process = serve(paths, port, out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, out.read_text()
        assert time.monotonic() < deadline, f"no model served within 120 s:\n{out.read_text()}"
        token_file = paths.server_token_file
        if token_file.exists():
            token = token_file.read_text().strip()
            try:
                models = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
                if models["data"]:
                    break
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    yield Served(process, url, token, port, environment_for(paths), out)
    process.terminate()
    assert process.wait(20) == 0, out.read_text()


# --- the real clients ------------------------------------------------------------------------------------------


def test_the_openai_client_gets_a_whole_answer_and_a_stream(served: Served) -> None:
    client = openai.OpenAI(base_url=f"{served.url}/v1", api_key=served.token, max_retries=0)
    assert [model.id for model in client.models.list()] == ["starter"]
    whole = client.chat.completions.create(model="starter", **CHAT)  # type: ignore[call-overload]
    assert whole.choices[0].message.content and whole.model == "starter"
    assert whole.usage is not None and 0 < whole.usage.completion_tokens <= 12 and whole.usage.prompt_tokens > 0
    stream = client.chat.completions.create(model="starter", stream=True, stream_options={"include_usage": True},
                                            **CHAT)  # type: ignore[call-overload]
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip(), chunks
    assert chunks[-2].choices[0].finish_reason in ("stop", "length") and chunks[-1].usage is not None


def test_a_conversation_reaches_the_model_turn_by_turn(served: Served) -> None:
    client = openai.OpenAI(base_url=f"http://[::1]:{served.port}/v1", api_key=served.token, max_retries=0)
    answer = client.chat.completions.create(model="starter", max_tokens=8, messages=[
        {"role": "system", "content": "Answer with one word."},
        {"role": "user", "content": "My name is Ada. Remember it."},
        {"role": "assistant", "content": "Ok."},
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "What is my name?"}])
    assert "Ada" in (answer.choices[0].message.content or "")


def test_the_ollama_client_lists_chats_and_generates(served: Served) -> None:
    client = ollama.Client(host=served.url, headers=served.auth())
    assert [model.model for model in client.list().models] == ["starter"]
    options = {"num_predict": 12, "temperature": 0}
    chat = client.chat(model="starter", messages=CHAT["messages"], options=options)
    assert chat.message.content and chat.done and (chat.eval_count or 0) > 0
    streamed = "".join(part.message.content or "" for part in
                       client.chat(model="starter", messages=CHAT["messages"], options=options, stream=True))
    assert streamed.strip()
    generated = client.generate(model="starter", prompt="Say hello in three words.", options=options)
    assert generated.response and generated.done
    pieces = list(client.generate(model="starter", prompt="Say hello in three words.", options=options, stream=True))
    assert "".join(piece.response for piece in pieces).strip() and pieces[-1].done
    assert client.generate(model="starter", prompt="").done, "an empty prompt (Ollama's load) is not answered"


def test_curl_gets_json_and_a_stream(served: Served) -> None:
    auth = ["-H", f"Authorization: Bearer {served.token}"]
    whole = subprocess.run(["curl", "-sS", "--max-time", "60", *auth, "-d", json.dumps(CHAT),
                            f"{served.url}/v1/chat/completions"], capture_output=True, text=True, check=True)
    assert json.loads(whole.stdout)["choices"][0]["message"]["content"]
    lines = subprocess.run(["curl", "-sSN", "--max-time", "60", *auth, "-d",
                            json.dumps({"model": "starter", "prompt": "Hello", "options": {"num_predict": 8}}),
                            f"{served.url}/api/generate"], capture_output=True, text=True, check=True).stdout
    parts = [json.loads(line) for line in lines.splitlines()]
    assert parts[-1]["done"] and all(not part["done"] for part in parts[:-1]) and len(parts) >= 2


# --- hostile requests ------------------------------------------------------------------------------------------


def status_of(served: Served, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, f"{served.url}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]


def test_only_loopback_names_the_token_and_listed_origins_get_in(served: Served) -> None:
    auth = served.auth()
    cases = [
        ({**auth, "Host": "attacker.example:11435"}, "/v1/models", 403),  # DNS rebinding
        ({**auth, "Host": "127.0.0.1.attacker.example"}, "/api/tags", 403),
        ({**auth, "Origin": "https://attacker.example"}, "/v1/models", 403),
        ({**auth, "Origin": "null"}, "/api/tags", 403),
        ({}, "/v1/models", 401),
        ({"Authorization": "Bearer wrong"}, "/v1/models", 401),
        ({"Authorization": f"Basic {served.token}"}, "/v1/models", 401),
        ({}, "/api/tags", 401),  # Ollama routes too, unless ollama_without_token
        (auth, "/v1/models", 200),
        ({**auth, "Host": "localhost"}, "/api/tags", 200),
    ]
    for headers, path, expected in cases:
        response = status_of(served, "GET", path, headers=headers)
        assert response.status_code == expected, (headers, path, response.text)
    preflight = status_of(served, "OPTIONS", "/v1/chat/completions", headers={"Origin": "https://attacker.example"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    assert status_of(served, "GET", "/v1/models").headers["www-authenticate"].startswith("Bearer")


def test_it_listens_on_the_loopback_only(served: Served) -> None:
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{served.port}"], capture_output=True, text=True).stdout
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.splitlines()}
    assert addresses and addresses <= {"127.0.0.1", "[::1]"}, listening


def test_bad_bodies_end_with_a_clear_status(served: Served) -> None:
    auth = served.auth()
    post = lambda body, **extra: status_of(served, "POST", "/v1/chat/completions",  # noqa: E731
                                           headers={**auth, **extra}, content=body)
    big = post(json.dumps({"messages": [{"role": "user", "content": "x" * 2_000_000}]}).encode())
    assert big.status_code == 413 and "1,000,000 bytes" in big.json()["error"]["message"]
    assert post(b'{"messages": [').status_code == 400 and "not JSON" in post(b"{").json()["error"]["message"]
    assert post(b"\xff\xfe").status_code == 400
    for body, words in ((b"[]", "JSON object"), (b'{"messages": []}', "non-empty"),
                        (b'{"messages": [{"role": "user", "content": 5}]}', "text only"),
                        (b'{"messages": [{"role": "robot", "content": "hi"}]}', "role"),
                        (b'{"messages": [{"role": "user", "content": "hi"}], "n": 3}', "n must be 1"),
                        (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -5}', "token limit"),
                        (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', "temperature")):
        response = post(body)
        assert response.status_code == 400 and words in response.json()["error"]["message"], (body, response.text)
    chunked = status_of(served, "POST", "/api/chat", headers=auth, content=iter([b"x" * 600_000, b"y" * 600_000]))
    assert chunked.status_code == 413 and "error" in chunked.json()
    assert status_of(served, "GET", "/v1/chat/completions", headers=auth).status_code == 405
    assert status_of(served, "GET", "/v1/nothing", headers=auth).status_code == 404
    huge_head = raw(served, b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"z" * 100_000, 10)
    assert huge_head.startswith(b"HTTP/1.1 400 "), huge_head[:200]


def raw(served: Served, data: bytes, wait: float) -> bytes:
    """What the server answers to `data` sent and then nothing more, within `wait` seconds."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=wait) as connection:
        connection.sendall(data)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
        return answer


def test_a_slow_client_is_answered_408_and_closed(served: Served) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    body = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + served.token.encode()
            + b"\r\nContent-Length: 100\r\n\r\n{\"messages\"")
    answers: dict[str, bytes] = {}
    threads = [threading.Thread(target=lambda name=name, data=data: answers.__setitem__(name, raw(served, data, 25)))
               for name, data in (("head", head), ("body", body), ("idle", b""))]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began < 20
    for name in ("head", "body", "idle"):
        assert answers[name].startswith(b"HTTP/1.1 408 "), (name, answers[name][:200])
    assert status_of(served, "GET", "/v1/models", headers=served.auth()).status_code == 200


def test_fifty_connections_at_once_get_an_answer_or_503_and_the_endpoint_goes_on(served: Served) -> None:
    results: list[httpx.Response | BaseException] = []

    def ask() -> None:
        try:
            results.append(status_of(served, "POST", "/v1/chat/completions", headers=served.auth(),
                                     json={**CHAT, "max_tokens": 4}))
        except httpx.HTTPError as error:
            results.append(error)

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 50 and all(isinstance(result, httpx.Response) for result in results), results
    statuses = sorted(result.status_code for result in results if isinstance(result, httpx.Response))
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 1, statuses
    assert all(result.headers.get("retry-after") for result in results
               if isinstance(result, httpx.Response) and result.status_code == 503)
    assert status_of(served, "POST", "/v1/chat/completions", headers=served.auth(), json=CHAT).status_code == 200


def test_the_token_is_the_persons_alone_and_the_command_prints_it(served: Served) -> None:
    token_file = Path(served.env["PHITRAY_CONFIG_DIR"]) / "server-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    printed = subprocess.run([sys.executable, "-m", "phitray", "server", "token"], env=served.env, capture_output=True,
                             text=True, check=True).stdout.strip()
    assert printed == served.token and len(printed) >= 32


def test_a_second_server_on_the_same_port_says_so_and_exits(served: Served, tmp_path: Path) -> None:
    paths = Paths(Path(served.env["PHITRAY_CONFIG_DIR"]), Path(served.env["PHITRAY_DATA_DIR"]), tmp_path / "cache",
                  tmp_path / "log")
    second = serve(paths, served.port, tmp_path / "second.out")
    assert second.wait(60) == 1
    assert f"did not start on port {served.port}" in (tmp_path / "second.out").read_text()
