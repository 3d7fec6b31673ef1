"""The local endpoint inside the running agent: `phitray run` with `[server] enabled = true` on a private X desktop,
the starter model on openvino-cpu, the real `openai` client, and a hotkey pressed while it streams."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import openai
import pytest

from phitray.paths import Paths

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent
from helpers.desktop import DesktopSession, TextWidget

pytestmark = pytest.mark.slow
TEXT = "i has went to the store yesterday and buyed three apple."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    port = free_port()
    running = start_agent(session, agent_paths, HOTKEY_SETTINGS + f"\n[server]\nenabled = true\nport = {port}\n")
    running.wait_milestone("endpoint-started", 10, port=port)
    yield running
    assert running.stop() == 0, running.output()


def client(agent: RunningAgent) -> openai.OpenAI:
    port = agent.milestones("endpoint-started")[0]["port"]
    token = agent.paths.server_token_file.read_text().strip()
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0, timeout=120)


def test_the_agent_serves_its_resident_model(agent: RunningAgent) -> None:
    answer = client(agent).chat.completions.create(model="starter", max_tokens=8,
                                                   messages=[{"role": "user", "content": "Say hi."}])
    assert answer.model == "starter" and answer.choices[0].message.content
    assert agent.wait_milestone("endpoint-answer", 5, status=200)


def test_a_hotkey_mid_request_cuts_the_request_short_and_the_persons_job_runs(
        session: DesktopSession, agent: RunningAgent, widget: TextWidget) -> None:
    stream = client(agent).chat.completions.create(
        model="starter", max_tokens=400, stream=True,
        messages=[{"role": "user", "content": "Write a very long story about a lighthouse keeper."}])
    pieces: list[str] = []
    failures: list[BaseException] = []
    third = threading.Event()

    def read() -> None:
        try:
            for chunk in stream:
                pieces.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
                if len(pieces) >= 4:
                    third.set()
        except openai.APIError as error:
            failures.append(error)
        third.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert third.wait(60), "the endpoint's stream did not begin"
    widget.fill(TEXT)
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
    reader.join(60)
    assert record.outcome == "done", agent.log()[-2000:]
    assert widget.wait_text(lambda text: text != TEXT)
    assert failures and "person at this PC started one of their own actions" in str(failures[0]), (failures, pieces)
    assert agent.wait_milestone("endpoint-answer", 10, status=503, stream=True)
