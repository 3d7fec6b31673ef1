"""Backend ids, the default chain, and the one place that builds a backend."""

from __future__ import annotations

from pathlib import Path

from phitray.backends.base import Backend, DecodingOptions
from phitray.errors import ConfigError

# Best first: the NPU is the reason the product exists; the CPU always works.
DEFAULT_CHAIN = ("openvino-npu", "directml", "openvino-gpu", "openvino-cpu")
# Not in the default chain: npu-legacy is end-of-life upstream, onnx-cpu duplicates openvino-cpu.
OPT_IN = ("npu-legacy", "onnx-cpu")
BACKEND_IDS = DEFAULT_CHAIN + OPT_IN


def create_backend(backend_id: str, cache_dir: Path, decoding: DecodingOptions = DecodingOptions()) -> Backend:
    """A fresh, unloaded backend; imports nothing heavy. Only OpenVINO decodes faster than plainly."""
    if backend_id.startswith("openvino-") and backend_id in BACKEND_IDS:
        from phitray.backends.openvino import OpenVINOBackend

        return OpenVINOBackend(backend_id, cache_dir, decoding)
    if backend_id in ("directml", "onnx-cpu"):
        from phitray.backends.onnx import ONNXBackend

        return ONNXBackend(backend_id)
    if backend_id == "npu-legacy":
        from phitray.backends.npu_legacy import NPULegacyBackend

        return NPULegacyBackend(cache_dir)
    raise ConfigError(f"Unknown backend {backend_id!r}; known backends: {', '.join(BACKEND_IDS)}.")


def parse_chain(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A chain from settings or `--backend a,b`: known ids, in order, no repeats."""
    items = text.split(",") if isinstance(text, str) else list(text)
    chain = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [item for item in chain if item not in BACKEND_IDS]
    if unknown or not chain:
        raise ConfigError(
            f"Unknown backend {', '.join(map(repr, unknown)) or '(none given)'} in the chain; "
            f"known backends: {', '.join(BACKEND_IDS)}."
        )
    return chain
