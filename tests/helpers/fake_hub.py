"""A local HTTP server that answers like the model hub, for `model pull` tests.

It serves the three calls huggingface_hub's snapshot_download makes: the
revision info (file list), HEAD for each file's metadata, and GET with Range.
It can cut a file's first download short (to test resume) and counts requests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.requests: Counter[str] = Counter()
        self.ranges: list[str] = []
        self.cut_first_get: dict[str, int] = {}  # file path -> bytes to send before dropping the connection
        self.fail_files: set[str] = set()  # answer 403 for these (a status huggingface_hub does not retry)
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
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

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
                name = path[len(prefix):].split("/", 1)[1]
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
        self._send(handler, status, payload, headers)

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
