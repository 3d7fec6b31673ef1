"""The `phitray` command as a person runs it: a real process, output to files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phitray.paths import Paths

from helpers.agent import strict_action
from helpers.env import environment_for


def phitray(paths: Paths, tmp_path: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    # Files, not pipes: a process that touches the clipboard can hold a pipe open forever.
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        done = subprocess.run([sys.executable, "-m", "phitray", *args], input=stdin, text=True,
                              stdout=stdout, stderr=stderr, env=environment_for(paths), timeout=300)
    return done.returncode, out.read_text(), err.read_text()


def test_devices_shows_the_decision(shared_paths: Paths, tmp_path: Path) -> None:
    code, out, _ = phitray(shared_paths, tmp_path, "devices", "--json")
    assert code == 0
    decisions = {row["backend_id"]: row for row in json.loads(out)}
    assert list(decisions) == ["openvino-npu", "directml", "openvino-gpu", "openvino-cpu", "npu-legacy", "onnx-cpu"]
    assert decisions["openvino-cpu"]["outcome"] == "chosen"
    code, table, _ = phitray(shared_paths, tmp_path, "devices")
    assert code == 0 and "no NPU in openvino.Core().available_devices (['CPU'])" in table


def test_ask_streams_from_the_starter_when_the_hub_is_unreachable(shared_paths: Paths, tmp_path: Path) -> None:
    code, out, err = phitray(shared_paths, tmp_path, "ask", "--stats", "--max-new-tokens", "40",
                             stdin="Name three colours of the rainbow.")
    assert code == 0, err
    assert out.strip()
    assert "Cannot reach the model hub" in err
    assert err.count("falling back to the starter model") == 1
    assert "backend openvino-cpu" in err and "model starter" in err and "tokens_per_second" in err


def test_ask_json_with_an_explicit_backend_and_model(shared_paths: Paths, tmp_path: Path) -> None:
    code, out, err = phitray(shared_paths, tmp_path, "ask", "--json", "--quiet", "--backend", "onnx-cpu",
                             "--model", "tiny-phi3", "--max-new-tokens", "8", "Hello")
    assert code == 0, err
    result = json.loads(out)
    assert result["backend"] == "onnx-cpu" and result["model"] == "tiny-phi3" and result["text"]
    assert result["ttft_seconds"] > 0 and err == ""


def test_ask_with_nothing_to_ask_is_a_clear_usage_error(shared_paths: Paths, tmp_path: Path) -> None:
    code, out, err = phitray(shared_paths, tmp_path, "ask", stdin="  \n\t ")
    assert (code, out) == (2, "")
    assert err == "phitray: nothing to ask: give a prompt as an argument or on stdin.\n"


def test_an_unknown_backend_is_named(shared_paths: Paths, tmp_path: Path) -> None:
    code, _, err = phitray(shared_paths, tmp_path, "ask", "--backend", "openvino-cpu,tpu", "hi")
    assert code == 1 and "Unknown backend 'tpu'" in err and "Traceback" not in err


def test_model_import_list_remove(paths: Paths, tiny_phi3: Path, tmp_path: Path) -> None:
    code, out, _ = phitray(paths, tmp_path, "model", "list")
    assert code == 0 and "No models installed" in out
    code, out, _ = phitray(paths, tmp_path, "model", "import", str(tiny_phi3 / "openvino-int4"), "--name", "mine")
    assert code == 0 and "mine: openvino for openvino-npu, openvino-gpu, openvino-cpu" in out
    code, out, _ = phitray(paths, tmp_path, "model", "list", "--json")
    assert [row["model"] for row in json.loads(out)] == ["mine"]
    code, out, _ = phitray(paths, tmp_path, "model", "remove", "mine")
    assert code == 0 and out.startswith("removed ")
    code, _, err = phitray(paths, tmp_path, "model", "remove", "mine")
    assert code == 1 and err == "phitray: mine is not installed.\n"


def test_model_pull_offline_is_one_line(paths: Paths, tmp_path: Path) -> None:
    code, _, err = phitray(paths, tmp_path, "model", "pull", "phi-3-mini-4k-instruct", "--backend", "openvino-cpu")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("phitray:")]
    assert lines[-1].startswith("phitray: Cannot reach the model hub") and "Traceback" not in err


def test_model_prepare_builds_an_openvino_model(paths: Paths, tiny_phi3: Path, tmp_path: Path) -> None:
    code, out, err = phitray(paths, tmp_path, "model", "prepare", str(tiny_phi3 / "hf"), "--backend", "openvino-cpu",
                             "--weight-format", "int8", "--name", "tiny-int8")
    assert code == 0, err
    code, out, err = phitray(paths, tmp_path, "ask", "--quiet", "--no-pull", "--backend", "openvino-cpu",
                             "--model", "tiny-int8", "--max-new-tokens", "4", "Hi")
    assert code == 0 and out.strip(), err




def test_act_reports_every_check_and_a_flagged_answer_exits_3(shared_paths: Paths, tmp_path: Path) -> None:
    paths = Paths(tmp_path / "config", shared_paths.data_dir, tmp_path / "cache", tmp_path / "log")
    (paths.user_actions_dir).mkdir(parents=True)
    (paths.user_actions_dir / "strict.toml").write_text(strict_action(), encoding="utf-8")
    text = "The cat sat on the mat near the door."
    code, out, err = phitray(paths, tmp_path, "act", "strict", "--json", "--quiet", "--model", "starter",
                             "--backend", "openvino-cpu", "--no-pull", stdin=text)
    assert code == 3, err
    result = json.loads(out)
    assert result["flagged"] is True
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["close_to_input"]["passed"] is False and "an edit should" in checks["close_to_input"]["reason"]
    assert checks["not_empty"]["passed"] is True and "same_language" in checks
    # The starter also echoes the instruction here, which no_prompt_echo may flag too.
    assert "close_to_input" in err and f"failed {sum(not c['passed'] for c in checks.values())} check" in err
    code, out, err = phitray(paths, tmp_path, "act", "strict", "--quiet", "--model", "starter",
                             "--backend", "openvino-cpu", "--no-pull", stdin=text)
    assert code == 3 and out.strip() and "close_to_input" in err


def test_act_prints_exactly_the_text_its_json_gives_when_the_starter_wraps_its_answer(shared_paths: Paths,
                                                                                      tmp_path: Path) -> None:
    # On these the starter answers "Here's a corrected version of the text:\n\n<text>\n…" and "To ensure accuracy,
    # please provide the text as follows:\n\n<text>\n…\n</text>": what a script piping `act` gets is the answer.
    for text in ("Their team do not has the numbers for 2025 yet, so we can't ship on Friday the 14th.\n",
                 "me and him goes to school every days.\n"):
        options = ("--quiet", "--model", "starter", "--backend", "openvino-cpu", "--no-pull")
        code, out, err = phitray(shared_paths, tmp_path, "act", "proofread", "--json", *options, stdin=text)
        assert code in (0, 3), err
        answer = json.loads(out)["text"]
        code, out, err = phitray(shared_paths, tmp_path, "act", "proofread", *options, stdin=text)
        assert code in (0, 3), err
        assert out.encode() == answer.encode() and out.endswith(".\n"), (out, answer)
        assert not any(wrapper in out for wrapper in ("<text>", "</text>", "Here's", "ensure accuracy")), out
