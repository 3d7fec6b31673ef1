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
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from phitray.backends.base import ModelRef
from phitray.backends.catalog import CATALOG
from phitray.backends.formats import BACKENDS_FOR_FORMAT, check_complete, context_length, detect_format, model_file
from phitray.errors import ModelCorrupt, ModelNotInstalled
from phitray.files import write_text

MANIFEST = "phitray-model.json"
PARTIAL = ".partial"


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
