"""Pins: the hub revision and the size and sha256 of every file a hub download may install.

A pull of a hub source fetches the pinned revision, file by file, and checks
each file against its pin before anything is installed. A source this release
has no pins for is not downloaded at all: whatever the hub, or a mirror named by
`HF_ENDPOINT`, serves today would be installed unchecked. The pins live in
`pins.json` beside this module, keyed by repository:

    {"repos": {"OpenVINO/…-ov": {"revision": "<40 hex>",
                                "files": {"openvino_model.bin": {"size": 123, "sha256": "<64 hex>"}, …}}}}

A release fills it in with `scripts/pin_models.py`; `PHITRAY_PINS` names
another file of the same shape to use instead (a release's candidate pins, the
tests' stand-in hub). A file that cannot be read pins nothing, and says why.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from phitray.backends.catalog import CATALOG, HubSource, PackageSource

PINS_FILE = Path(__file__).with_name("pins.json")
PINS_VARIABLE = "PHITRAY_PINS"
REVISION = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FilePin:
    path: str  # in the repository, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class SourcePin:
    """What one catalog source may install: its repository at one commit, and the files under its subfolder."""

    repo_id: str
    revision: str
    files: tuple[FilePin, ...]

    @property
    def size(self) -> int:
        return sum(pin.size for pin in self.files)


def pins_file() -> Path:
    return Path(os.environ[PINS_VARIABLE]) if os.environ.get(PINS_VARIABLE) else PINS_FILE


def read_pins(path: Path) -> tuple[dict[str, tuple[str, tuple[FilePin, ...]]], str]:
    """({repository: (revision, files)}, problem): a repository whose pins are malformed is left out and
    named in the problem, so it is refused rather than half-checked; never raises."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        repos = data["repos"]
        if not isinstance(repos, dict):
            raise TypeError("'repos' is not a table")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return {}, f"the pins file {path} cannot be read ({error})"
    pins, problems = {}, []
    for repo_id, entry in repos.items():
        try:
            pins[repo_id] = _repo_pin(entry)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problems.append(f"{repo_id}: {error}")
    return pins, f"{path} has malformed pins ({'; '.join(problems)})" if problems else ""


def _repo_pin(entry: dict[str, object]) -> tuple[str, tuple[FilePin, ...]]:
    revision = entry["revision"]
    if not isinstance(revision, str) or not REVISION.match(revision):
        raise ValueError(f"revision {revision!r} is not a 40-hex commit")
    files = []
    for name, pin in entry["files"].items():  # type: ignore[attr-defined]
        parts = PurePosixPath(name).parts
        if not name or name.startswith("/") or "\\" in name or ".." in parts or "." in parts:
            raise ValueError(f"{name!r} is not a path inside the repository")
        size, digest = pin["size"], pin["sha256"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"{name}: size {size!r} is not a byte count")
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise ValueError(f"{name}: sha256 {digest!r} is not 64 hex digits")
        files.append(FilePin(name, size, digest))
    if not files:
        raise ValueError("no files")
    return revision, tuple(sorted(files, key=lambda pin: pin.path))


def pinned(model_id: str, backend_id: str) -> bool:
    """Whether a pull of this catalog entry would be tried: a package source carries its hash, a hub
    source needs pins."""
    source = CATALOG[model_id].sources.get(backend_id) if model_id in CATALOG else None
    return isinstance(source, PackageSource) or (isinstance(source, HubSource) and find_pin(source)[0] is not None)


def find_pin(source: HubSource) -> tuple[SourcePin | None, str]:
    """(the source's pins or None, why there are none: "" when there are)."""
    path = pins_file()
    pins, problem = read_pins(path)
    where = f"{source.repo_id}/{source.subfolder}" if source.subfolder else source.repo_id
    if source.repo_id not in pins:
        return None, f"{path} has no pins for {source.repo_id}" + (f"; {problem}" if problem else "")
    revision, files = pins[source.repo_id]
    prefix = f"{source.subfolder}/" if source.subfolder else ""
    mine = tuple(pin for pin in files if pin.path.startswith(prefix))
    if not mine:
        return None, f"{path} pins no file under {where}"
    return SourcePin(source.repo_id, revision, mine), ""


def file_sha256(path: Path, between_chunks: Callable[[], None] = lambda: None) -> str:
    """The file's sha256; `between_chunks` runs after each MiB (a pull's cancel check raises there)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            between_chunks()
    return digest.hexdigest()


def mismatch(path: Path, pin: FilePin, name: str, between_chunks: Callable[[], None] = lambda: None) -> str:
    """How the file differs from its pin, in words calling it `name` ("" when it matches); the size
    first, so a cut-short file is not read through."""
    if not path.is_file():
        return f"{name} is missing"
    size = path.stat().st_size
    if size != pin.size:
        return f"{name} is {size} bytes, its pin {pin.size}"
    digest = file_sha256(path, between_chunks)
    if digest != pin.sha256:
        return f"{name} has sha256 {digest}, its pin {pin.sha256}"
    return ""
