"""Recognise prepared model files and read what the store needs from them.

A model is an OpenVINO IR folder, an onnxruntime-genai folder, a GGUF file
(or a folder holding one), or a Hugging Face checkpoint. Each format says
which backends can run it and, from its own config, its context length.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import BinaryIO

from phitray.errors import ModelCorrupt

BACKENDS_FOR_FORMAT = {
    "openvino": ("openvino-npu", "openvino-gpu", "openvino-cpu"),
    "gguf": ("openvino-gpu", "openvino-cpu"),
    "onnx": ("directml", "onnx-cpu"),
    "hf": ("npu-legacy",),
}
# What must be present for each format to be loadable at all.
REQUIRED_FILES = {
    "openvino": ("openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml"),
    "onnx": ("genai_config.json",),
    "hf": ("config.json",),
}


def detect_format(path: Path) -> str:
    """'openvino' | 'onnx' | 'gguf' | 'hf', or ModelCorrupt naming what is missing."""
    if path.is_file() and path.suffix.lower() == ".gguf":
        return "gguf"
    if not path.is_dir():
        raise ModelCorrupt(f"{path} is neither a model folder nor a .gguf file.")
    if (path / "openvino_model.xml").exists():
        return "openvino"
    if (path / "genai_config.json").exists():
        return "onnx"
    if list(path.glob("*.gguf")):
        return "gguf"
    if (path / "config.json").exists() and (list(path.glob("*.safetensors")) or list(path.glob("*.bin"))):
        return "hf"
    raise ModelCorrupt(
        f"{path} holds no model this agent can run: expected openvino_model.xml (OpenVINO IR), "
        "genai_config.json (onnxruntime-genai), a .gguf file, or a Hugging Face checkpoint."
    )


def model_file(path: Path, model_format: str) -> Path:
    """The path a backend loads: the folder, or the GGUF file inside it."""
    if model_format == "gguf" and path.is_dir():
        return sorted(path.glob("*.gguf"))[0]
    return path


def check_complete(path: Path, model_format: str) -> None:
    """ModelCorrupt naming the first required file that is missing or empty."""
    for name in REQUIRED_FILES.get(model_format, ()):
        file = path / name
        if not file.exists():
            raise ModelCorrupt(f"{path} is incomplete: {name} is missing.")
        if file.stat().st_size == 0:
            raise ModelCorrupt(f"{path} is incomplete: {name} is empty.")


def context_length(path: Path, model_format: str, default: int = 2048) -> int:
    """The model's context window from its own config files."""
    if model_format == "gguf":
        metadata = read_gguf_metadata(model_file(path, model_format), wanted_suffix=".context_length")
        for key, value in metadata.items():
            if key.endswith(".context_length") and isinstance(value, int):
                return value
        return default
    if model_format == "onnx":
        config = _read_json(path / "genai_config.json")
        return int(config.get("model", {}).get("context_length", default))
    config = _read_json(path / "config.json")
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        if key in config:
            return int(config[key])
    return default


def _read_json(file: Path) -> dict:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ModelCorrupt(f"{file} cannot be read: {error}.") from error


# GGUF value types, from the GGUF specification.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def read_gguf_metadata(file: Path, wanted_suffix: str | None = None) -> dict[str, object]:
    """The key/value header of a GGUF file (arrays skipped); stops early at a wanted key."""
    try:
        with file.open("rb") as stream:
            if stream.read(4) != b"GGUF":
                raise ModelCorrupt(f"{file} is not a GGUF file (bad magic).")
            _version, _tensors, count = struct.unpack("<IQQ", stream.read(20))
            metadata: dict[str, object] = {}
            for _ in range(count):
                key = _read_string(stream)
                value = _read_value(stream, struct.unpack("<I", stream.read(4))[0])
                if value is not None:
                    metadata[key] = value
                if wanted_suffix and key.endswith(wanted_suffix):
                    break
            return metadata
    except struct.error as error:
        raise ModelCorrupt(f"{file} is truncated (its GGUF header ends early).") from error


def _read_string(stream: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", stream.read(8))
    return stream.read(length).decode("utf-8", errors="replace")


def _read_value(stream: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, stream.read(struct.calcsize(fmt)))[0]
    if kind == _STRING:
        return _read_string(stream)
    if kind == _ARRAY:
        item_kind, length = struct.unpack("<IQ", stream.read(12))
        for _ in range(length):
            _read_value(stream, item_kind)
        return None
    raise struct.error(f"unknown GGUF value type {kind}")
