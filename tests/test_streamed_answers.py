"""What streams is what gets delivered: the runner's streamed pieces and the popup's Streamed events carry
only clean text, and joined they are the delivered answer, byte for byte (scripted model host)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.actions.checks import Checks
from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.actions.runner import run_action
from phitray.backends.base import Request
from phitray.cli.main import main
from phitray.host.scripted import SCRIPTED_INFO, Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, Delivered, JobEvent, JobSettings, Streamed

from helpers.scripted import ScriptedDesktop

FIXED = "Their team does not have the numbers for 2025 yet, so we can't ship on Friday the 14th."
WRAPPINGS = (
    "Here's a corrected version of the text:\n\n<text>\n{}\n</text>",
    "Here's a corrected version of the text:\n<text>\n{}",
    "<think>The person wants a proofread.</think>\nSure! Here is the corrected text:\n\n```\n{}\n```\nHope it helps.",
    "“{}”",
    "To ensure accuracy, please provide the text as follows:\n\n<text>\n{}\n</text>\n\nI fixed the verbs.",
    "{}",
)
WRAPPER_BITS = ("Here", "<text>", "</text>", "```", "“", "”", "think", "Sure", "ensure", "fixed the verbs")


def fixed_text(request: Request) -> str:
    return request.prompt.split("<text>\n")[-1].split("\n</text>")[0]


def scripted(wrapping: str, pace: float = 0.0) -> ScriptedHost:
    """A host whose model wraps its proofread the way small models do, streamed a few characters at a time."""
    def answer(request: Request) -> Answer:
        text = wrapping.format(FIXED if "numbers" in fixed_text(request) else fixed_text(request).upper())
        return Answer(tuple(text[i : i + 3] for i in range(0, len(text), 3)), piece_seconds=pace)
    return ScriptedHost(answer)


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize("selection", ["Their team do not has the numbers for 2025 yet, so we can't ship on Friday "
                                       "the 14th.", "  Their team do not has the numbers.\n", "\n\tnumbers\r\n"])
def test_the_runner_streams_exactly_the_delivered_text(wrapping: str, selection: str) -> None:
    pieces: list[str] = []
    result = run_action(scripted(wrapping), load_actions(None).get("proofread"), selection, on_text=pieces.append)
    assert "".join(pieces) == result.text
    assert result.text.strip() == FIXED and result.text.startswith(selection[: len(selection) - len(selection.lstrip())])
    assert all(bit not in piece for piece in pieces for bit in WRAPPER_BITS), pieces
    assert result.ttft_seconds > 0


def test_text_split_into_pieces_streams_the_joined_answer_with_the_texts_own_separators() -> None:
    fix = read_action('id = "fix"\ntitle = "Fix"\nprompt = "Fix:\\n$text"\nmax_new_tokens = 64\n', "test")
    paragraphs = [f"paragraph {n} " + "word " * 60 for n in range(8)]
    text = "\n\n".join(paragraphs) + "\n  \n\nlast one.\n"
    host = ScriptedHost(lambda request: Answer.words("Here is the fixed text:\n<text>\n"
                                                     + fixed_text(request).upper() + "\n</text>"))
    host.info = dataclasses.replace(SCRIPTED_INFO, context_length=300, max_prompt_tokens=300)
    pieces: list[str] = []
    result = run_action(host, fix, text, on_text=pieces.append)
    assert result.chunks > 2
    assert "".join(pieces) == result.text == text.upper()
    assert all("<text>" not in piece and "Here is" not in piece for piece in pieces)


def test_the_popup_gets_only_clean_text_and_it_is_what_is_delivered() -> None:
    builtin = load_actions(None)
    lenient = dataclasses.replace(builtin.get("proofread"), checks=Checks(close_to_input=0.01, same_language=False))
    actions = ActionSet({**builtin.actions, "proofread": lenient}, ())
    for wrapping in WRAPPINGS:
        selection = "Their team do not has the numbers for 2025 yet, so we can't ship on Friday the 14th.\n"
        desktop = ScriptedDesktop(text=selection, selection=(0, len(selection)))
        events: list[JobEvent] = []
        config = JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.3))
        JobThread(desktop.desktop(), lambda: scripted(wrapping, pace=0.001), config, events.append).run_job(
            ActionJob("hotkey", "proofread", output="popup"))
        streamed = [event.text for event in events if isinstance(event, Streamed)]
        delivered = events[-1]
        assert isinstance(delivered, Delivered) and delivered.output == "popup", events[-1]
        # One line under 200 characters waits for its end (it might introduce an echoed <text>).
        assert streamed and "".join(streamed) == delivered.text == FIXED + "\n", (wrapping, streamed)
        assert all(bit not in piece for piece in streamed for bit in WRAPPER_BITS), (wrapping, streamed)


@pytest.mark.parametrize("wrapping", WRAPPINGS)
def test_act_prints_byte_for_byte_what_its_json_gives(wrapping: str, monkeypatch: pytest.MonkeyPatch,
                                                     capfdbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    """`phitray act` in this process, on a scripted host that wraps its answer exactly so."""
    import phitray.cli.actions

    @contextlib.contextmanager
    def scripted_host(args: object, paths: object) -> Iterator[ScriptedHost]:
        yield scripted(wrapping)

    monkeypatch.setattr(phitray.cli.actions, "running_host", scripted_host)
    monkeypatch.setenv("PHITRAY_CONFIG_DIR", str(tmp_path))
    text = "Their team do not has the numbers for 2025 yet, so we can't ship on Friday the 14th.\n"
    outputs = []
    for json_flag in ((), ("--json",)):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
        assert main(["act", "proofread", *json_flag]) in (0, 3)
        outputs.append(capfdbinary.readouterr().out)
    plain, as_json = outputs
    assert plain == json.loads(as_json)["text"].encode() == (FIXED + "\n").encode()
