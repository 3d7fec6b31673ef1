"""Decoding faster than plain on the real OpenVINO GenAI: prompt lookup for edits, a draft model, the
compile cache that must survive a bad file, and the host's batching of streamed text."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.actions.model import parse_action
from phitray.backends.base import DecodingOptions, Request
from phitray.backends.catalog import CATALOG, PHI3_DRAFT_MODEL
from phitray.backends.openvino import DRAFT_TOKENS, PROMPT_LOOKUP, OpenVINOBackend, create_with_cache, lookup_name
from phitray.backends.pull import pull
from phitray.backends.store import ModelStore
from phitray.errors import ActionFileError
from phitray.backends.chain import ChainOptions
from phitray.host.client import ModelHost
from phitray.host.server import Coalescer
from phitray.paths import Paths

from helpers.fake_hub import FakeHub, repo_of_folder

TEXT = "i has went to the store yesterday and buyed three apple. the weather were nice and we walks to the park."
EDIT = Request(f"Proofread the text between <text> and </text>.\n\n<text>\n{TEXT}\n</text>", max_new_tokens=48,
               stop=("</text>",))


def answer(backend: OpenVINOBackend, request: Request) -> str:
    return "".join(backend.stream(request, threading.Event()))


def test_edits_ask_for_prompt_lookup_and_a_wrong_decoding_is_named() -> None:
    actions = load_actions(None)
    assert {a.id for a in actions.ordered() if a.decoding == "prompt-lookup"} == {
        "proofread", "rewrite", "friendly", "professional", "concise"}
    assert actions.get("summarize").decoding == "plain"
    raw = {"id": "mine", "title": "Mine", "prompt": "Fix $text", "decoding": "lookup"}
    with pytest.raises(ActionFileError, match=r"decoding.*'lookup' is not one of plain, prompt-lookup"):
        parse_action(raw, "mine.toml")
    with pytest.raises(ActionFileError, match="decoding.*must be a str"):
        parse_action({**raw, "decoding": True}, "mine.toml")


def test_one_prompt_lookup_pipeline_serves_both_decodings_and_says_which_ran(shared_paths: Paths, tmp_path: Path) -> None:
    model = ModelStore(shared_paths.models_dir).resolve("starter", "openvino-cpu")
    backend = OpenVINOBackend("openvino-cpu", tmp_path)
    assert f"decoding: {lookup_name(PROMPT_LOOKUP)} for edits" in backend.probe().detail
    info = backend.load(model, lambda text: None)
    try:
        assert info.decoding_for("prompt-lookup") == lookup_name(PROMPT_LOOKUP)
        assert info.decoding_for("plain") == "prompt-lookup 1/1"
        looked_up = answer(backend, dataclasses.replace(EDIT, decoding="prompt-lookup"))
        plain = answer(backend, EDIT)
        assert looked_up.strip() and plain.strip()
    finally:
        backend.unload()
    # Switched off (engine.prompt_lookup = false): a plain pipeline, and every request is decoded plainly.
    backend = OpenVINOBackend("openvino-cpu", tmp_path, DecodingOptions(prompt_lookup=False))
    info = backend.load(model, lambda text: None)
    try:
        assert info.decodings == () and info.decoding_for("prompt-lookup") == "plain"
        assert answer(backend, dataclasses.replace(EDIT, decoding="prompt-lookup")).strip()
    finally:
        backend.unload()


def test_the_npu_pipeline_never_asks_for_prompt_lookup(tmp_path: Path) -> None:
    import openvino_genai

    backend = OpenVINOBackend("openvino-npu", tmp_path)
    decodings, arguments = backend._speculation(openvino_genai)
    assert decodings == () and arguments == {}
    assert backend._describe_decoding() == "plain (the NPU pipeline has no prompt lookup)"


def test_a_draft_model_drafts_for_every_request(shared_paths: Paths, tmp_path: Path) -> None:
    """The tiny Phi-3 as its own draft walks openvino-genai's real speculative-decoding API on the CPU."""
    tiny = ModelStore(shared_paths.models_dir).resolve("tiny-phi3", "openvino-cpu")
    backend = OpenVINOBackend("openvino-cpu", tmp_path, DecodingOptions(draft=tiny))
    info = backend.load(tiny, lambda text: None)
    try:
        assert info.decoding_for("plain") == info.decoding_for("prompt-lookup") == "draft model tiny-phi3"
        assert "decoding: draft model tiny-phi3" in backend.probe().detail
        assert answer(backend, Request("Tell me about the string module.", max_new_tokens=16)).strip()
        # The draft really drafts, and a model agrees with itself: almost every drafted token is accepted.
        # (Not the answer token for token: verifying several tokens in one pass rounds differently from
        # plain decoding, and the tiny model's random weights are full of near-ties that flip.)
        config = backend._pipeline.get_generation_config()
        config.max_new_tokens, config.num_assistant_tokens, config.do_sample = 32, DRAFT_TOKENS, False
        metrics = backend._pipeline.generate(["Tell me about the string module."], config).extended_perf_metrics
        assert metrics.get_num_draft_tokens() >= 10, metrics.get_num_draft_tokens()
        assert metrics.get_draft_acceptance_rate() >= 0.5, metrics.get_draft_acceptance_rate()
    finally:
        backend.unload()


def test_a_draft_model_that_is_not_installed_is_named_and_the_chain_loads_without_it(
        shared_paths: Paths, tmp_path: Path) -> None:
    options = ChainOptions(("openvino-cpu",), "tiny-phi3", tmp_path, allow_pull=False, draft_model="phi-3-mini-fastdraft")
    said: list[str] = []
    with ModelHost(options, shared_paths, lambda event: said.append(event.text)) as host:
        info = host.start(timeout=120)
        assert info.decoding_for("prompt-lookup") == lookup_name(PROMPT_LOOKUP)
        generation = host.generate(Request("Hi", max_new_tokens=4, decoding="prompt-lookup"))
        "".join(generation)
        assert generation.stats is not None and generation.stats.decoding == lookup_name(PROMPT_LOOKUP)
    assert any("phi-3-mini-fastdraft is not installed for openvino-cpu" in text for text in said), said


def test_a_compile_cache_with_bad_files_still_loads_on_the_same_code_path(shared_paths: Paths, tmp_path: Path) -> None:
    """The NPU's path (CACHE_DIR with CACHE_MODE=OPTIMIZE_SPEED) on the CPU: a cache whose blobs are
    garbage or cut short is compiled again and the answer does not change."""
    tiny = ModelStore(shared_paths.models_dir).resolve("tiny-phi3", "openvino-cpu")
    request = Request("Tell me about the string module.", max_new_tokens=12)
    answers = []
    for damage in (None, lambda data: b"garbage" * 50, lambda data: data[: len(data) // 2]):
        if damage is not None:
            blobs = list((tmp_path / "openvino-cpu").rglob("*.blob"))
            assert blobs, "the first load wrote no compile cache"
            for blob in blobs:
                blob.write_bytes(damage(blob.read_bytes()))
        backend = OpenVINOBackend("openvino-cpu", tmp_path, DecodingOptions(prompt_lookup=False), compile_cache=True)
        backend.load(tiny, lambda text: None)
        answers.append(answer(backend, request))
        backend.unload()
    assert answers[0].strip() and answers.count(answers[0]) == 3


def test_a_cache_the_device_refuses_is_emptied_and_compiled_again(tmp_path: Path) -> None:
    """What the NPU does after a driver upgrade (openvino.genai #2082): loading from the cache raises."""
    cache = tmp_path / "openvino-npu"
    cache.mkdir()
    (cache / "old-driver.blob").write_bytes(b"compiled by the last driver")
    calls: list[dict[str, object]] = []

    def create(properties: dict[str, object]) -> str:
        calls.append(properties)
        if (cache / "old-driver.blob").exists():
            raise RuntimeError("Exception from src/plugins/intel_npu: blob version mismatch\nlong C++ context")
        return "pipeline"

    said: list[str] = []
    assert create_with_cache(create, cache, said.append) == "pipeline"
    assert len(calls) == 2 and all(c["CACHE_MODE"] == "OPTIMIZE_SPEED" and c["CACHE_DIR"] == str(cache) for c in calls)
    assert said == ["the compile cache could not be used (Exception from src/plugins/intel_npu: blob version mismatch); "
                    "compiling again"]
    assert cache.is_dir() and not list(cache.iterdir())

    def broken(properties: dict[str, object]) -> str:
        raise RuntimeError("the model itself is broken")

    with pytest.raises(RuntimeError, match="itself is broken"):  # an empty cache: the failure is the model's
        create_with_cache(broken, cache, said.append)


def test_streamed_text_is_batched_to_one_message_per_interval_and_nothing_is_lost() -> None:
    sent: list[str] = []
    chunks = Coalescer(sent.append, interval=0.016)
    for index, at in enumerate((0.0, 0.004, 0.008, 0.017, 0.020, 0.050)):
        chunks.add(f"<{index}>", at)
    assert sent == ["<0>", "<1><2><3>", "<4><5>"]  # the first at once; the rest at most every 16 ms
    chunks.add("<6>", 0.051)
    chunks.flush()
    assert "".join(sent) == "".join(f"<{i}>" for i in range(7)) and sent[-1] == "<6>"


def test_the_draft_model_is_pulled_from_the_hub_and_drafts_for_the_model_it_serves(
        tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """`model pull phi-3-mini-fastdraft` from a local stand-in hub (serving the tiny Phi-3 as the draft), then
    the model host loads the main model with it: every answer says the draft model ran."""
    source = CATALOG[PHI3_DRAFT_MODEL].sources["openvino-cpu"]
    store = ModelStore(paths.models_dir)
    store.import_path(tiny_phi3 / "openvino-int4", "tiny-phi3")
    with FakeHub({source.repo_id: repo_of_folder(tiny_phi3 / "openvino-int4")}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        pulled = pull(store, PHI3_DRAFT_MODEL, "openvino-cpu", lambda text: None)
    assert pulled.folder == paths.models_dir / PHI3_DRAFT_MODEL / source.folder
    options = ChainOptions(("openvino-cpu",), "tiny-phi3", paths.compile_cache_dir, allow_pull=False,
                           draft_model=PHI3_DRAFT_MODEL)
    with ModelHost(options, paths) as host:
        info = host.start(timeout=120)
        generation = host.generate(Request("Hi", max_new_tokens=6, decoding="prompt-lookup"))
        assert "".join(generation).strip()
    assert generation.stats is not None and generation.stats.decoding == f"draft model {PHI3_DRAFT_MODEL}"
    assert info.decoding_for("plain") == f"draft model {PHI3_DRAFT_MODEL}"
