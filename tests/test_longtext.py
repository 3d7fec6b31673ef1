"""Long text on the real tiny Phi-3 (a 256-token context) and actions on the starter model."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from phitray.actions.library import load_actions, read_action
from phitray.actions.longtext import plan_chunks
from phitray.actions.runner import run_action
from phitray.errors import NothingToDo
from phitray.backends.chain import ChainOptions
from phitray.errors import ContextOverflow
from phitray.paths import Paths
from phitray.host.client import ModelHost

from helpers.env import environment_for

SHORT = read_action(
    'id = "short"\ntitle = "Short"\nprompt = "Sum up:\\n$text"\nmax_new_tokens = 24\nlong_text = "map-reduce"\n'
    'reduce_prompt = "Merge:\\n$text"\n', "test")
PIECEWISE = read_action('id = "fix"\ntitle = "Fix"\nprompt = "Fix:\\n$text"\nmax_new_tokens = 24\n', "test")


def essay(words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = "the a file path module string thread process text value number list of to and is".split()
    paragraphs, written = [], 0
    while written < words:
        sentences = []
        for _ in range(rng.randint(1, 6)):
            length = rng.randint(3, 25)
            sentences.append(" ".join(rng.choice(vocabulary) for _ in range(length)).capitalize() + rng.choice(".!?"))
            written += length
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


class CountingEngine:
    """The real host, with a record of each prompt it was given (our own seam, not a fake)."""

    def __init__(self, host: ModelHost) -> None:
        self.host, self.info, self.prompts = host, host.info, []

    def count_tokens(self, text: str) -> int:
        return self.host.count_tokens(text)

    def generate(self, request):
        self.prompts.append(request.prompt)
        return self.host.generate(request)


@pytest.fixture(scope="module")
def tiny_host(shared_paths: Paths):
    options = ChainOptions(("openvino-cpu",), "tiny-phi3", shared_paths.compile_cache_dir, allow_pull=False,
                           fallback_model=None)
    with ModelHost(options, shared_paths) as host:
        host.start(timeout=60)
        yield host


@pytest.mark.parametrize("budget", [7, 40, 150])
def test_the_plan_covers_every_character_once_in_order(tiny_host: ModelHost, budget: int) -> None:
    text = essay(600) + "\n\n" + "x" * 900 + " 😀 مرحبا بالعالم\r\nend"
    spans = plan_chunks(text, budget, tiny_host.count_tokens)
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:]))
    assert "".join(text[s.start:s.end] for s in spans) == text
    assert all(tiny_host.count_tokens(text[s.start:s.end]) <= budget for s in spans)


def test_map_reduce_calls_the_model_once_per_chunk_then_reduces(tiny_host: ModelHost) -> None:
    engine = CountingEngine(tiny_host)
    text = essay(700)
    streamed: list[str] = []
    result = run_action(engine, SHORT, text, on_text=streamed.append)
    maps = [p for p in engine.prompts if p.startswith("Sum up:")]
    reduces = [p for p in engine.prompts if p.startswith("Merge:")]
    assert result.chunks == len(maps) > 1
    assert result.model_calls == len(engine.prompts) == len(maps) + len(reduces) and reduces
    # Each map prompt holds one piece as data; together, in order, they are the text.
    pieces = [p.split("<text>\n", 1)[1].rsplit("\n</text>", 1)[0] for p in maps]
    assert " ".join(pieces).split() == text.split()
    assert "".join(streamed) == result.text and result.text.strip()  # what streams is what is delivered


def test_piecewise_actions_answer_every_chunk_in_order(tiny_host: ModelHost) -> None:
    engine = CountingEngine(tiny_host)
    streamed: list[str] = []
    result = run_action(engine, PIECEWISE, "\n  " + essay(400) + "\n\n", on_text=streamed.append)
    assert result.chunks == result.model_calls == len(engine.prompts) > 1
    assert "".join(streamed) == result.text  # each piece's answer, with the text's own separators and edges


def test_refusals_come_before_any_model_call(tiny_host: ModelHost) -> None:
    engine = CountingEngine(tiny_host)
    with pytest.raises(NothingToDo):
        run_action(engine, SHORT, " \n\t ")
    with pytest.raises(ContextOverflow, match="at most 1,000"):
        run_action(engine, SHORT, "word " * 300, max_characters=1000)
    assert engine.prompts == []


def test_summarize_with_the_starter_model(shared_paths: Paths) -> None:
    paragraph = (Path(__file__).parent / "fixtures" / "paragraph-150.txt").read_text()
    options = ChainOptions(("openvino-cpu",), "starter", shared_paths.compile_cache_dir, allow_pull=False)
    with ModelHost(options, shared_paths) as host:
        host.start(timeout=120)
        result = run_action(host, load_actions(None).get("summarize"), paragraph)
    words = result.text.split()
    assert 5 <= len(words) < len(paragraph.split())
    assert sum(word.isascii() for word in words) >= 0.9 * len(words)
    assert result.chunks == 1 and result.model_calls == 1


def test_act_with_nothing_selected_is_a_clear_exit(shared_paths: Paths, tmp_path: Path) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run([sys.executable, "-m", "phitray", "act", "summarize"], input="   \n", text=True,
                              stdout=stdout, stderr=stderr, env=environment_for(shared_paths), timeout=120).returncode
    assert code == 3
    assert err.read_text() == "phitray: There is no text to work on: the input is empty or only whitespace.\n"


def test_act_streams_json_and_a_dropped_in_action_appears(paths: Paths, shared_paths: Paths, tmp_path: Path) -> None:
    mine = Paths(config_dir=paths.config_dir, data_dir=shared_paths.data_dir, cache_dir=paths.cache_dir,
                 log_dir=paths.log_dir)
    mine.user_actions_dir.mkdir(parents=True)
    (mine.user_actions_dir / "shout.toml").write_text(
        'id = "shout"\ntitle = "Shout"\nprompt = "Repeat in capitals:\\n$text"\nmax_new_tokens = 8\n')

    def run(*args: str, stdin: str = "") -> tuple[int, str]:
        out = tmp_path / "out"
        with out.open("w") as stdout:
            code = subprocess.run([sys.executable, "-m", "phitray", *args], input=stdin, text=True, stdout=stdout,
                                  stderr=subprocess.DEVNULL, env=environment_for(mine), timeout=300).returncode
        return code, out.read_text()

    code, listing = run("actions", "list")
    assert code == 0 and "shout" in listing and "Shout" in listing
    code, out = run("act", "shout", "--json", "--model", "tiny-phi3", "--backend", "openvino-cpu", stdin="hello")
    assert code == 0
    result = json.loads(out)
    assert result["action"] == "shout" and result["model_calls"] == 1 and result["backend"] == "openvino-cpu"
    assert 1 <= result["tokens"] and result["tokens_per_second"] > 0
    (mine.user_actions_dir / "broken.toml").write_text('id = "broken"\ntitle = "B"\nprompt = "$txt"\n')
    code, out = run("actions", "check")
    assert code == 1 and "broken.toml: prompt: unknown placeholder $txt" in out
