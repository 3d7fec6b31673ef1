"""The person's jobs come first: the gate between the jobs thread and the local endpoint, on the scripted model
host, with the real server (uvicorn) and the real `openai` client in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from phitray import errors
from phitray.actions.library import load_actions
from phitray.backends.base import Request
from phitray.host.gate import Gate, gate_of
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, JobEvent, JobSettings
from phitray.paths import Paths
from phitray.serve.server import Endpoint
from phitray.settings import ServerSettings

from helpers.scripted import ScriptedDesktop

STORY = "Once upon a time " * 300  # about 30 s at 0.1 s a word: far longer than any test waits
FIXED = "They're going home."


def answer_for(request: Request) -> Answer:
    if "tell me a story" in request.prompt:
        return Answer.words(STORY, piece_seconds=0.1)
    return Answer.words(FIXED, piece_seconds=0.01)


def test_the_persons_request_cuts_an_endpoint_answer_short_and_runs_at_once() -> None:
    host, gate = ScriptedHost(answer_for), Gate()
    endpoint_answer = gate.endpoint(host, Request("tell me a story"))
    pieces: list[str] = []
    failure: list[BaseException] = []

    def read() -> None:
        try:
            pieces.extend(endpoint_answer)
        except errors.PhiTrayError as error:
            failure.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.35)
    began = time.perf_counter()
    person = gate.person(host, Request("Their going home."))
    waited = time.perf_counter() - began
    assert "".join(person) == FIXED and waited < 0.5, f"the person waited {waited:.2f} s"
    reader.join(5)
    assert failure and isinstance(failure[0], errors.Preempted), failure
    assert 0 < len(pieces) < 20
    assert gate.holder is None


def test_an_endpoint_request_never_takes_the_model_from_the_person_and_waits_its_turn_behind_another() -> None:
    host, gate = ScriptedHost(answer_for), Gate(endpoint_wait=0.3, max_waiting=1)
    person = gate.person(host, Request("tell me a story"))
    with pytest.raises(errors.ModelBusy, match="person's own action"):
        gate.endpoint(host, Request("hello"))
    person.cancel()
    assert list(person) is not None and gate.holder is None
    first = gate.endpoint(host, Request("hello"))
    waiting = threading.Thread(target=lambda: pytest.raises(errors.ModelBusy, gate.endpoint, host, Request("x")))
    waiting.start()
    time.sleep(0.05)
    with pytest.raises(errors.ModelBusy, match="1 requests are waiting"):
        gate.endpoint(host, Request("one too many"))
    waiting.join(2)
    assert "".join(first) == FIXED and gate.holder is None
    assert "".join(gate.endpoint(host, Request("now"))) == FIXED, "the turn was not given back"


def test_one_gate_per_host() -> None:
    one, two = ScriptedHost(answer_for), ScriptedHost(answer_for)
    assert gate_of(one) is gate_of(one) and gate_of(one) is not gate_of(two)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ScriptedHost, str, str]]:
    """The endpoint on a free port over a scripted host: (host, base URL, token)."""
    host = ScriptedHost(answer_for)
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    problems: list[str] = []
    endpoint = Endpoint(paths, lambda: host, problems.append)
    endpoint.apply(ServerSettings(enabled=True, port=free_port()))
    assert endpoint.port is not None, problems
    yield host, f"http://127.0.0.1:{endpoint.port}", paths.server_token_file.read_text().strip()
    endpoint.stop()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_hotkey_job_mid_request_ends_the_stream_with_an_error_and_the_job_runs_whole(
        served: tuple[ScriptedHost, str, str]) -> None:
    host, url, token = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0)
    stream = client.chat.completions.create(model="anything", stream=True,
                                            messages=[{"role": "user", "content": "tell me a story"}])
    pieces = []
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17))
    events: list[JobEvent] = []
    jobs = JobThread(desktop.desktop(), lambda: host, JobSettings(actions=load_actions(None),
                     capture=CaptureOptions(paste_timeout=0.3)), events.append)
    with pytest.raises(openai.APIError, match="person at this PC started one of their own actions") as raised:
        for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")
            if len(pieces) == 3:
                jobs.run_job(ActionJob("hotkey", "proofread"))
    assert isinstance(raised.value.body, dict) and raised.value.body.get("code") == 503
    record = jobs.last_record
    assert record is not None and record.outcome == "done", events
    assert desktop.text == FIXED
    assert 3 <= len(pieces) < 40, "the endpoint's answer ran on past the person's job"


def test_a_request_while_the_persons_job_runs_gets_503_with_retry_after(served: tuple[ScriptedHost, str, str]) -> None:
    host, url, token = served
    person = gate_of(host).person(host, Request("tell me a story"))
    try:
        for route, body in (("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
                            ("/api/chat", {"messages": [{"role": "user", "content": "hi"}], "stream": True})):
            response = httpx.post(f"{url}{route}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert response.status_code == 503 and response.headers["retry-after"] == "5", response.text
            assert "person's own action" in response.text
    finally:
        person.cancel()
        list(person)
    assert httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def test_an_install_without_uvicorn_is_told_so_and_nothing_starts(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # what an import of a package that is not there raises
    problems: list[str] = []
    endpoint = Endpoint(Paths(tmp_path / "c", tmp_path / "d", tmp_path / "ca", tmp_path / "l"), lambda: None,
                        problems.append)
    port = free_port()
    endpoint.apply(ServerSettings(enabled=True, port=port))
    assert endpoint.port is None and problems and "has no uvicorn" in problems[0], problems
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # nothing was left listening


def test_a_waiting_request_whose_client_left_gives_up_its_place() -> None:
    host, gate = ScriptedHost(answer_for), Gate(endpoint_wait=10, max_waiting=1)
    first = gate.endpoint(host, Request("tell me a story"))
    abandoned = threading.Event()
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            gate.endpoint(host, Request("hello"), abandoned=abandoned)
        except errors.PhiTrayError as error:
            outcome.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    began = time.perf_counter()
    abandoned.set()
    waiter.join(2)
    assert outcome and isinstance(outcome[0], errors.Cancelled) and time.perf_counter() - began < 1
    # Its place is free again: the next request waits its turn (briefly here) instead of being refused at once.
    with pytest.raises(errors.ModelBusy, match="busy with other requests"):
        gate.endpoint(host, Request("next"), wait=0.2)
    first.cancel()
    list(first)
