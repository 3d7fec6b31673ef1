"""Walk the fallback chain: the first backend that probes, finds its model and loads, wins.

Every backend passed over gets a recorded reason, so `phitray devices` and the
tray can say exactly why the agent is on the CPU and not the NPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collections.abc import Callable

from phitray.backends.base import Backend, BackendInfo, DecodingOptions, ModelRef, Probe, Progress, first_line
from phitray.backends.catalog import CATALOG, STARTER_MODEL
from phitray.backends.registry import create_backend
from phitray.backends.store import ModelStore
from phitray.errors import BackendLoadError, NoBackendLoaded, PhiTrayError


@dataclass(frozen=True)
class Decision:
    backend_id: str
    model_id: str
    installed: bool  # the backend's library imports
    device_present: bool
    outcome: str  # "chosen" | "skipped" | "not tried" | "available"
    reason: str = ""


@dataclass(frozen=True)
class ChainOptions:
    chain: tuple[str, ...]
    model_id: str
    cache_dir: Path
    allow_pull: bool = True
    fallback_model: str | None = STARTER_MODEL
    # Backends to pass over with the reason: the model host's client fills it in for one that
    # keeps crashing the process while it probes or loads (a driver fault no exception can catch).
    skip: tuple[tuple[str, str], ...] = ()
    # Generation options over the model's catalog defaults (benchmarks compare settings with it).
    generation: tuple[tuple[str, float], ...] = ()
    prompt_lookup: bool = True  # settings' engine.prompt_lookup: off loads a plain pipeline
    draft_model: str = ""  # settings' engine.draft_model: a catalog id, used where it is installed
    # Seconds a backend may take to probe and load before its model host is ended and it is passed
    # over, where LOAD_SECONDS' do not suit (tests, slow machines).
    load_seconds: tuple[tuple[str, float], ...] = ()


# How long probing and loading may take on each backend (a download in between does not count), generous:
# NPU compiles take 80-100 s the first time, minutes on slow drivers, and intel-npu-acceleration-library
# compiles at every load; a GPU compiles too; a CPU converts a GGUF model once.
LOAD_SECONDS = {"openvino-npu": 1200.0, "npu-legacy": 1800.0, "directml": 600.0, "openvino-gpu": 900.0}
DEFAULT_LOAD_SECONDS = 600.0


def load_deadline(options: ChainOptions, backend_id: str) -> float:
    """Seconds `backend_id` may take to probe and load before it is passed over."""
    return dict(options.load_seconds).get(backend_id, LOAD_SECONDS.get(backend_id, DEFAULT_LOAD_SECONDS))


def _ignore_attempt(backend_id: str, model_id: str, seconds: float | None) -> None:
    """Default `attempting` hook: nobody watches."""


class ChainLoader:
    """Loads the first usable backend of a chain; remembers probes across models."""

    def __init__(self, options: ChainOptions, store: ModelStore, progress: Progress,
                 attempting: Callable[[str, str, float | None], None] = _ignore_attempt) -> None:
        """`attempting(backend_id, model_id, seconds)` is called before a backend is probed and loaded, with
        the seconds it may take from then on; again with None while a download runs, then with fresh seconds."""
        self.options = options
        self.store = store
        self.progress = progress
        self.attempting = attempting
        self.decisions: list[Decision] = []
        self._probes: dict[str, tuple[Backend, Probe]] = {}
        self._reported: set[tuple[str, str]] = set()  # say each reason once, not once per model

    def probe(self, backend_id: str) -> tuple[Backend, Probe]:
        """The backend and what its probe found; a probe that raises is a "no" with the library's first line."""
        if backend_id not in self._probes:
            backend = create_backend(backend_id, self.options.cache_dir, self._decoding(backend_id))
            try:
                probe = backend.probe()
            except Exception as error:  # e.g. openvino.Core() failing on a broken driver
                probe = Probe(backend_id, True, False, f"its probe failed: {first_line(error)}")
            self._probes[backend_id] = (backend, probe)
        return self._probes[backend_id]

    def _decoding(self, backend_id: str) -> DecodingOptions:
        """The decoding options for one backend: the draft model only where it is installed for it."""
        draft = None
        if self.options.draft_model:
            found = self.store.find(self.options.draft_model, backend_id)
            if found is not None:
                draft = found.ref()
            elif backend_id.startswith("openvino-"):
                self.progress(f"the draft model {self.options.draft_model} is not installed for {backend_id}; "
                              f"decoding without it (phitray model pull {self.options.draft_model} --backend {backend_id})")
        return DecodingOptions(prompt_lookup=self.options.prompt_lookup, draft=draft)

    def load(self) -> tuple[Backend, BackendInfo]:
        models = [self.options.model_id]
        fallback = self.options.fallback_model
        if fallback and fallback != self.options.model_id:
            models.append(fallback)
        for index, model_id in enumerate(models):
            if index:
                self.progress(
                    f"{self.options.model_id} could not be loaded on any backend; "
                    f"falling back to the {model_id} model."
                )
            loaded = self._load_model(model_id)
            if loaded:
                return loaded
        reasons = "; ".join(f"{d.backend_id} ({d.model_id}): {d.reason}" for d in self.decisions)
        raise NoBackendLoaded(f"No backend could load a model. {reasons}")

    def _load_model(self, model_id: str) -> tuple[Backend, BackendInfo] | None:
        skipped = dict(self.options.skip)
        for position, backend_id in enumerate(self.options.chain):
            if backend_id in skipped:
                self.decisions.append(Decision(backend_id, model_id, True, True, "skipped", skipped[backend_id]))
                continue
            self.attempting(backend_id, model_id, load_deadline(self.options, backend_id))
            backend, probe = self.probe(backend_id)

            def skip(reason: str) -> None:
                self.decisions.append(
                    Decision(backend_id, model_id, probe.installed, probe.device_present, "skipped", reason)
                )
                if (backend_id, reason) not in self._reported:
                    self._reported.add((backend_id, reason))
                    self.progress(f"skipped {backend_id}: {reason}")

            if not probe.available:
                skip(probe.reason)
                continue
            try:
                model = self._find_or_pull(model_id, backend_id)
                info = backend.load(model, self.progress)
            except Exception as error:
                # Our own errors say what went wrong; a library's raw exception becomes one
                # BackendLoadError with its first line (they carry pages of C++ context).
                if not isinstance(error, PhiTrayError):
                    error = BackendLoadError(f"{backend_id} could not load {model_id}: {first_line(error)}")
                _unload_quietly(backend)
                skip(str(error))
                continue
            self.decisions.append(Decision(backend_id, model_id, True, True, "chosen", info.library))
            for later in self.options.chain[position + 1 :]:
                self.decisions.append(Decision(later, model_id, False, False, "not tried"))
            return backend, info
        return None

    def _find_or_pull(self, model_id: str, backend_id: str) -> ModelRef:
        if self.store.find(model_id, backend_id) is None and self.options.allow_pull and model_id in CATALOG:
            if backend_id in CATALOG[model_id].sources:
                from phitray.backends.pull import pull  # the daemon imports this module too; it downloads nothing

                self.attempting(backend_id, model_id, None)  # a download's time is not the backend's
                try:
                    pull(self.store, model_id, backend_id, self.progress)
                finally:
                    self.attempting(backend_id, model_id, load_deadline(self.options, backend_id))
        return self.store.resolve(model_id, backend_id)


def _unload_quietly(backend: Backend) -> None:
    try:
        backend.unload()
    except Exception:
        pass  # the load already failed; its reason is the one worth reporting


def survey(options: ChainOptions, store: ModelStore, extra: tuple[str, ...] = ()) -> list[Decision]:
    """What `devices` shows: every backend probed, none loaded; the one the chain would pick marked."""
    loader = ChainLoader(options, store, lambda message: None)
    decisions = []
    picked = False
    for backend_id in options.chain + tuple(b for b in extra if b not in options.chain):
        _, probe = loader.probe(backend_id)
        in_chain = backend_id in options.chain
        if not probe.available:
            outcome, reason = ("skipped" if in_chain else "not in chain"), probe.reason
        else:
            has_model = store.find(options.model_id, backend_id) is not None
            catalog = CATALOG.get(options.model_id)
            can_pull = bool(catalog and backend_id in catalog.sources)
            if not in_chain:
                outcome, reason = "not in chain", probe.detail
            elif picked:
                outcome, reason = "not tried", probe.detail
            elif has_model or can_pull:
                picked = True
                outcome = "chosen"
                reason = f"{probe.detail}; {options.model_id} " + ("installed" if has_model else "will be pulled")
            else:
                outcome, reason = "skipped", f"{options.model_id} has no files for {backend_id}"
        decisions.append(Decision(backend_id, options.model_id, probe.installed, probe.device_present, outcome, reason))
    return decisions
