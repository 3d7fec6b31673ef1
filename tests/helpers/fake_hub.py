"""A local HTTP server that answers like the model hub, for `model pull` tests.

It serves the calls huggingface_hub makes: the revision info (file list), HEAD
for each file's metadata, and GET with Range, at one commit (COMMIT, or "main").
It can cut a file's first download short (to test resume) and counts requests.
While it runs, PHITRAY_PINS names a pins file made from the files it serves
(`pinned=False`: none), so pulls from it pass their checks; a test that changes
`repos[...]` afterwards serves bytes that differ from the pins.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from phitray.backends.pins import PINS_VARIABLE

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def pins_of(repos: dict[str, dict[str, bytes]], revision: str = COMMIT) -> dict[str, object]:
    """The pins file (pins.json's shape) for these repositories' files at `revision`."""
    return {"repos": {repo: {"revision": revision,
                             "files": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                                       for name, data in files.items()}}
                      for repo, files in repos.items()}}


class Pinned:
    """PHITRAY_PINS names a pins file for these repositories' files while the block runs (and for the
    processes started in it); no server, so a pull meets whatever HF_ENDPOINT is."""

    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.folder = Path()
        self.file = Path()
        self.before: str | None = None

    def __enter__(self) -> "Pinned":
        self.folder = Path(tempfile.mkdtemp(prefix="phitray-pins-"))
        self.file = self.folder / "pins.json"
        self.file.write_text(json.dumps(pins_of(self.repos)), encoding="utf-8")
        self.before = os.environ.get(PINS_VARIABLE)
        os.environ[PINS_VARIABLE] = str(self.file)
        return self

    def __exit__(self, *exc: object) -> None:
        if os.environ.get(PINS_VARIABLE) == str(self.file):  # a test may have named its own since
            if self.before is None:
                os.environ.pop(PINS_VARIABLE, None)
            else:
                os.environ[PINS_VARIABLE] = self.before
        shutil.rmtree(self.folder, ignore_errors=True)


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]], pinned: bool = True) -> None:
        self.repos = repos
        self.pins = Pinned(repos) if pinned else None
        self.requests: Counter[str] = Counter()
        self.ranges: list[str] = []
        self.cut_first_get: dict[str, int] = {}  # file path -> bytes to send before dropping the connection
        self.fail_files: set[str] = set()  # answer 403 for these (a status huggingface_hub does not retry)
        self.bytes_per_second = 0  # files' bodies sent at about this speed (0: as fast as it goes)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub._serve(self, body=False)

            def do_GET(self) -> None:
                hub._serve(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self.thread.start()
        if self.pins is not None:
            self.pins.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.pins is not None:
            self.pins.__exit__()

    def _serve(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(handler.path.split("?")[0])
        self.requests[f"{handler.command} {path}"] += 1
        if path.startswith("/api/models/"):
            repo = path[len("/api/models/"):].rsplit("/revision/", 1)[0]
            if repo not in self.repos:
                return self._send(handler, 404, b'{"error":"Repository not found"}', {"X-Error-Code": "RepoNotFound"})
            # Sizes as the hub lists them when asked for files' metadata (model_info(files_metadata=True)).
            siblings = [{"rfilename": name, "size": len(data)} for name, data in self.repos[repo].items()]
            info = {"id": repo, "sha": COMMIT, "siblings": siblings}
            return self._send(handler, 200, json.dumps(info).encode(), {"Content-Type": "application/json"})
        for repo, files in self.repos.items():
            prefix = f"/{repo}/resolve/"
            if path.startswith(prefix):
                revision, name = path[len(prefix):].split("/", 1)
                if revision not in (COMMIT, "main"):
                    return self._send(handler, 404, b"", {"X-Error-Code": "RevisionNotFound"})
                if name not in files:
                    return self._send(handler, 404, b"", {"X-Error-Code": "EntryNotFound"})
                if name in self.fail_files:
                    return self._send(handler, 403, b"", {})
                return self._file(handler, name, files[name], body)
        self._send(handler, 404, b"", {})

    def _file(self, handler: BaseHTTPRequestHandler, name: str, data: bytes, body: bool) -> None:
        headers = {"ETag": f'"{hashlib.sha1(data).hexdigest()}"', "X-Repo-Commit": COMMIT,
                   "Accept-Ranges": "bytes"}
        start, status = 0, 200
        requested = handler.headers.get("Range")
        if body and requested:
            self.ranges.append(f"{name} {requested}")
            start, status = int(requested.split("=")[1].split("-")[0]), 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        payload = data[start:]
        if not body:
            return self._send(handler, 200, b"", {**headers, "Content-Length": str(len(data))}, head=True)
        cut = self.cut_first_get.pop(name, None)
        if cut is not None:
            handler.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(payload))}.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(payload[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            return
        if self.bytes_per_second:
            return self._send_slowly(handler, status, payload, headers)
        self._send(handler, status, payload, headers)

    def _send_slowly(self, handler: BaseHTTPRequestHandler, status: int, payload: bytes,
                     headers: dict[str, str]) -> None:
        """A slow connection: the body in small pieces, each after the time it would take."""
        handler.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(payload))}.items():
            handler.send_header(key, value)
        handler.end_headers()
        piece = 64 * 1024
        for start in range(0, len(payload), piece):
            time.sleep(piece / self.bytes_per_second)
            try:
                handler.wfile.write(payload[start:start + piece])
            except OSError:  # the client stopped reading (a cancelled download)
                handler.close_connection = True
                return

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str],
              head: bool = False) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        if "Content-Length" not in headers:
            handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if not head:
            handler.wfile.write(payload)


def repo_of_folder(folder: Path, subfolder: str = "", extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A repository's files from a prepared model folder (e.g. the tiny Phi-3's), under `subfolder`."""
    prefix = f"{subfolder}/" if subfolder else ""
    files = {f"{prefix}{file.name}": file.read_bytes() for file in sorted(folder.iterdir()) if file.is_file()}
    return {**files, **(extra or {})}


def catalog_pins(folder: Path) -> Path:
    """A pins file naming one empty file in every hub repository of the catalog, for tests whose hub
    cannot be reached: a pull gets as far as the network, as it would with a release's pins."""
    from phitray.backends.catalog import CATALOG, HubSource

    repos: dict[str, dict[str, bytes]] = {}
    for model in CATALOG.values():
        for source in model.sources.values():
            if isinstance(source, HubSource):
                repos.setdefault(source.repo_id, {})[f"{source.subfolder}/model.bin".lstrip("/")] = b""
    file = folder / "pins.json"
    file.write_text(json.dumps(pins_of(repos)), encoding="utf-8")
    return file
