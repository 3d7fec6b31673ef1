"""Turn a Hugging Face checkpoint into a backend's format with the upstream tools.

OpenVINO: `optimum-cli export openvino` (NNCF weight compression; for the NPU
symmetric INT4, channel-wise, ratio 1.0). ONNX: the onnxruntime-genai model
builder. Both come with `pip install phitray[prepare]`.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from phitray.backends.base import Progress
from phitray.errors import BackendUnavailable, ConfigError, ModelError

WEIGHT_FORMATS = ("int4", "int8", "fp16", "fp32")
PREPARE_HINT = "pip install phitray[prepare]"


@dataclass(frozen=True)
class PrepareOptions:
    source: str  # a checkpoint folder, or a hub id when the hub is reachable
    backend_id: str
    weight_format: str = "int4"
    group_size: int | None = None  # None: the tool's default (128), or channel-wise for the NPU


def export_command(options: PrepareOptions, output: Path, work: Path) -> list[str]:
    """The upstream tool's command line for these options."""
    if options.weight_format not in WEIGHT_FORMATS:
        raise ConfigError(f"Weight format {options.weight_format!r} is not one of {', '.join(WEIGHT_FORMATS)}.")
    if options.backend_id.startswith("openvino-"):
        command = [sys.executable, "-m", "optimum.commands.optimum_cli", "export", "openvino",
                   "--model", options.source, "--task", "text-generation-with-past",
                   "--weight-format", options.weight_format]
        if options.weight_format == "int4":
            npu = options.backend_id == "openvino-npu"
            group = options.group_size if options.group_size is not None else (-1 if npu else None)
            # The NPU only runs symmetric INT4 with every layer compressed.
            command += ["--sym"] + (["--ratio", "1.0"] if npu else [])
            if group is not None:
                command += ["--group-size", str(group)]
        return command + [str(output)]
    if options.backend_id in ("onnx-cpu", "directml"):
        if options.weight_format == "int8":
            raise ConfigError("The onnxruntime-genai builder makes int4 or fp16 models, not int8.")
        source_flag = "-i" if Path(options.source).exists() else "-m"
        return [sys.executable, "-m", "onnxruntime_genai.models.builder", source_flag, options.source,
                "-o", str(output), "-p", options.weight_format,
                "-e", "dml" if options.backend_id == "directml" else "cpu", "-c", str(work)]
    raise ConfigError(f"`model prepare` makes OpenVINO or ONNX models; {options.backend_id} takes a checkpoint as is.")


def prepare(options: PrepareOptions, output: Path, progress: Progress) -> Path:
    """Run the export into `output` (replaced if present); raises with the tool's last words."""
    tool = "optimum" if options.backend_id.startswith("openvino-") else "onnxruntime_genai"
    if importlib.util.find_spec(tool) is None:
        raise BackendUnavailable(f"`model prepare` for {options.backend_id} needs {tool}: {PREPARE_HINT}")
    with tempfile.TemporaryDirectory(prefix="phitray-prepare-") as work:
        staged = Path(work) / "out"
        command = export_command(options, staged, Path(work) / "cache")
        progress("running " + " ".join(command[2:]))
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
            raise ModelError(f"Preparing {options.source} for {options.backend_id} failed: {lines[-1] if lines else done.returncode}")
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), str(output))
    return output
