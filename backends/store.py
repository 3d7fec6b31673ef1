"""The model store: prepared model folders under the user data dir.

    models/<model-id>/<folder>/          one prepared format of one model
    models/<model-id>/<folder>/phitray-model.json   what it is, for which backends, file sizes
    models/.partial/<model-id>/<folder>/ downloads in progress (kept so they resume)

The manifest is written last, so a folder without one is an unfinished
download or import and is never loaded. Its file sizes let every load check,
without reading gigabytes, that nothing went missing or was cut short.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from phitray.backends.base import ModelRef
from phitray.backends.catalog import CATALOG, HubSource, PackageSource
from phitray.backends.formats import BACKENDS_FOR_FORMAT, check_complete, context_length, detect_format, model_file
from phitray.backends.pins import file_sha256, find_pin, mismatch
from phitray.errors import ModelCorrupt, ModelError, ModelNotInstalled
from phitray.files import write_text

MANIFEST = "phitray-model.json"
PARTIAL = ".partial"
# What makes a model folder load native code: a library file in it, or a config entry naming one
# (onnxruntime-genai's session_options.custom_ops_library, a provider's library_path). Refused.
NATIVE_FILE = re.compile(r"\.(so|dll|dylib|pyd)(\.[0-9]+)*$", re.IGNORECASE)
NATIVE_KEY = re.compile(r"custom_?ops?|librar(y|ies)(_?paths?)?$", re.IGNORECASE)  # not library_name


@dataclass(frozen=True)
class InstalledModel:
    model_id: str
    folder: Path
    model_format: str
    quantization: str
    context_length: int
    backends: tuple[str, ...]
    source: str
    files: dict[str, int]  # relative path -> size in bytes

    @property
    def size_bytes(self) -> int:
        return sum(self.files.values())

    def verify(self) -> None:
        """ModelCorrupt naming the first file that is missing or has the wrong size."""
        for name, size in self.files.items():
            file = self.folder / name
            if not file.is_file():
                raise ModelCorrupt(f"{self.model_id} in {self.folder} is damaged: {name} is missing.")
            actual = file.stat().st_size
            if actual != size:
                raise ModelCorrupt(
                    f"{self.model_id} in {self.folder} is damaged: {name} is {actual} bytes, expected {size} "
                    f"(truncated download?). Remove it with `phitray model remove {self.model_id}` and pull again."
                )
        check_complete(self.folder, self.model_format)
        refuse_native_code(self.folder, self.model_id)

    def ref(self) -> ModelRef:
        return ModelRef(
            model_id=self.model_id,
            path=model_file(self.folder, self.model_format),
            model_format=self.model_format,
            quantization=self.quantization,
            context_length=self.context_length,
        )


@dataclass(frozen=True)
class UnreadableModel:
    """A model folder whose manifest is damaged: listed with its problem, never loaded."""

    model_id: str
    folder: Path
    problem: str


class ModelStore:
    def __init__(self, models_dir: Path) -> None:
        self.root = models_dir

    def installed(self) -> list[InstalledModel]:
        return self.scan()[0]

    def scan(self) -> tuple[list[InstalledModel], list[UnreadableModel]]:
        """Every installed model, and apart from them each folder whose manifest cannot be read.

        One broken folder must not hide the others: the starter keeps working
        beside a damaged download.
        """
        models, unreadable = [], []
        for manifest in sorted(self.root.glob(f"*/*/{MANIFEST}")):
            if manifest.parts[-3] == PARTIAL:
                continue
            try:
                models.append(self._read(manifest))
            except ModelCorrupt as problem:
                unreadable.append(UnreadableModel(manifest.parts[-3], manifest.parent, str(problem)))
        return models, unreadable

    def _read(self, manifest: Path) -> InstalledModel:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            return InstalledModel(
                model_id=data["model_id"],
                folder=manifest.parent,
                model_format=data["model_format"],
                quantization=data["quantization"],
                context_length=int(data["context_length"]),
                backends=tuple(data["backends"]),
                source=data["source"],
                files={str(k): int(v) for k, v in data["files"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelCorrupt(f"{manifest} cannot be read ({error}); remove the folder and pull again.") from error

    def find(self, model_id: str, backend_id: str) -> InstalledModel | None:
        """The installed folder of this model for this backend, preferring the catalog's own."""
        candidates = [m for m in self.installed() if m.model_id == model_id and backend_id in m.backends]
        if not candidates:
            return None
        catalog = CATALOG.get(model_id)
        preferred = catalog.sources.get(backend_id) if catalog else None
        for model in candidates:
            if preferred and model.folder.name == preferred.folder:
                return model
        return candidates[0]

    def resolve(self, model_id: str, backend_id: str) -> ModelRef:
        """The verified files to load, or ModelNotInstalled / ModelCorrupt."""
        model = self.find(model_id, backend_id)
        if model is None:
            raise ModelNotInstalled(
                f"{model_id} is not installed for {backend_id}: run `phitray model pull {model_id} --backend {backend_id}`."
            )
        model.verify()
        return model.ref()

    def staging_dir(self, model_id: str, folder: str) -> Path:
        path = self.root / PARTIAL / model_id / folder
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add(
        self,
        model_id: str,
        staged: Path,
        folder: str,
        source: str,
        quantization: str = "",
        move: bool = True,
    ) -> InstalledModel:
        """Put prepared files (a folder or a .gguf file) into the store and write the manifest last."""
        model_format = detect_format(staged)
        check_complete(staged, model_format)
        target = self.root / model_id / folder
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        transfer = shutil.move if move else (shutil.copytree if staged.is_dir() else shutil.copy2)
        if staged.is_file():
            target.mkdir()
            transfer(str(staged), str(target / staged.name))
        else:
            transfer(str(staged), str(target))
        # Download caches and half-written files are not part of the model.
        shutil.rmtree(target / ".cache", ignore_errors=True)
        files = {
            file.relative_to(target).as_posix(): file.stat().st_size
            for file in sorted(target.rglob("*"))
            if file.is_file() and file.name != MANIFEST
        }
        model = InstalledModel(
            model_id=model_id,
            folder=target,
            model_format=model_format,
            quantization=quantization or "as imported",
            context_length=context_length(target, model_format),
            backends=BACKENDS_FOR_FORMAT[model_format],
            source=source,
            files=files,
        )
        record = {k: v for k, v in asdict(model).items() if k != "folder"}
        write_text(target / MANIFEST, json.dumps(record, indent=2))
        return model

    def import_path(self, path: Path, model_id: str | None = None) -> InstalledModel:
        """Copy a prepared model (folder or .gguf) into the store."""
        path = path.expanduser().resolve()
        if not path.exists():
            raise ModelNotInstalled(f"{path} does not exist.")
        model_format = detect_format(path)
        name = model_id or (path.stem if path.is_file() else path.name)
        return self.add(name, path, f"{model_format}-imported", source=f"imported from {path}", move=False)

    def remove(self, model_id: str, backend_id: str | None = None) -> list[Path]:
        """Delete a model (or only the folder one backend uses); returns what was removed."""
        removed = []
        models, unreadable = self.scan()
        for model in models:
            if model.model_id == model_id and (backend_id is None or backend_id in model.backends):
                shutil.rmtree(model.folder)
                removed.append(model.folder)
        for broken in unreadable:  # which backends it serves is unknown: it goes whatever was asked
            if broken.model_id == model_id:
                shutil.rmtree(broken.folder)
                removed.append(broken.folder)
        if not removed:
            raise ModelNotInstalled(f"{model_id} is not installed{f' for {backend_id}' if backend_id else ''}.")
        model_dir = self.root / model_id
        if model_dir.is_dir() and not any(model_dir.iterdir()):
            model_dir.rmdir()
        return removed


# --- what a model folder may hold, and whether it is what its pins say ----------------------------


def native_code(path: Path) -> str:
    """The first thing in a model folder that would load native code, in words ("" when there is none):
    a library file, or a config entry naming one. Configs that do not parse are the loader's problem."""
    if not path.is_dir():
        return ""
    files = sorted(file for file in path.rglob("*") if file.is_file())
    for file in files:
        if NATIVE_FILE.search(file.name):
            return f"{file.relative_to(path).as_posix()} is a native library"
    for file in files:
        if file.suffix != ".json" or "config" not in file.name:
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entry = _native_entry(data, "")
        if entry:
            return f"{file.relative_to(path).as_posix()} names a native library ({entry})"
    return ""


def _native_entry(data: object, where: str) -> str:
    """The dotted key of the first entry naming a library, at any depth ("" for none)."""
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{where}.{key}" if where else str(key)
            if NATIVE_KEY.search(str(key)) and value not in ("", None, [], {}):
                return f"{name} = {json.dumps(value)[:120]}"
            found = _native_entry(value, name)
            if found:
                return found
    elif isinstance(data, list):
        for value in data:
            found = _native_entry(value, where)
            if found:
                return found
    return ""


def refuse_native_code(path: Path, model_id: str) -> None:
    """ModelError when the folder would load native code: a model is data, and is loaded as data only."""
    found = native_code(path)
    if found:
        raise ModelError(f"{model_id} in {path} is refused: {found}, which the library would load and run. "
                         "Models are loaded as data only.")


PinStatus = Literal["matches", "differs", "unpinned"]


@dataclass(frozen=True)
class PinCheck:
    """An installed model held against the pins of the catalog source it came from."""

    model: InstalledModel
    status: PinStatus
    detail: str  # what differs, what it matches, or why nothing can be compared


def check_pins(model: InstalledModel, between_chunks: Callable[[], None] = lambda: None) -> PinCheck:
    """Every file of an installed catalog model re-read and held against this release's pins (minutes for
    gigabytes); a model the catalog did not fetch, or whose source has no pins, is "unpinned"."""
    catalog = CATALOG.get(model.model_id)
    sources = [s for s in catalog.sources.values() if s.folder == model.folder.name] if catalog else []
    if not sources:
        return PinCheck(model, "unpinned", f"not a catalog download ({model.source}); sizes checked only")
    source = sources[0]
    found = native_code(model.folder)
    if found:
        return PinCheck(model, "differs", found)
    if isinstance(source, PackageSource):
        name = Path(source.member).name
        pinned = {name}
        if not (model.folder / name).is_file():
            problem = f"{name} is missing"
        else:
            digest = file_sha256(model.folder / name, between_chunks)
            problem = "" if digest == source.sha256 else f"{name} has sha256 {digest}, its pin {source.sha256}"
        against = f"{source.requirement}'s pinned sha256"
    else:
        assert isinstance(source, HubSource)
        pin, why = find_pin(source)
        if pin is None:
            return PinCheck(model, "unpinned", f"this release has no pins for it ({why}); sizes checked only")
        prefix = f"{source.subfolder}/" if source.subfolder else ""
        problem, pinned = "", set()
        for file_pin in pin.files:
            name = file_pin.path[len(prefix):]
            pinned.add(name)
            problem = problem or mismatch(model.folder / name, file_pin, name, between_chunks)
        against = f"{pin.repo_id} at {pin.revision[:12]}"
    present = (file.relative_to(model.folder).as_posix() for file in model.folder.rglob("*") if file.is_file())
    extra = sorted(name for name in present if name != MANIFEST and name not in pinned)
    if not problem and extra:
        problem = f"{extra[0]} is not one of the pinned files"
    if problem:
        return PinCheck(model, "differs", f"{problem} ({against})")
    return PinCheck(model, "matches", f"{len(pinned)} file{'s' if len(pinned) != 1 else ''} match {against}")
