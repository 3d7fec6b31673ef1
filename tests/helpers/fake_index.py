"""A local package index (PEP 503 simple pages over HTTP) serving wheels made here, for `pull`'s pip path.

`pip download --index-url` reads the project's page and fetches the wheel from it; the wheel is a
real one (dist-info with METADATA, WHEEL and RECORD), so pip checks its name and version as it would
any other. Bodies can be sent slowly, to watch progress or to cancel half-way.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_wheel(name: str, version: str, files: dict[str, bytes]) -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel holding `files` (paths inside the wheel)."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: phitray-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # stored: the size is what is sent
        for path, data in contents.items():
            archive.writestr(path, data)
    return f"{module}-{version}-py3-none-any.whl", buffer.getvalue()


class FakeIndex:
    def __init__(self, project: str, wheel_name: str, wheel: bytes) -> None:
        self.bytes_per_second = 0  # 0: as fast as it goes
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == f"/simple/{project}":
                    page = f'<html><body><a href="/files/{wheel_name}">{wheel_name}</a></body></html>'.encode()
                    return index._send(self, page, "text/html")
                if self.path == f"/files/{wheel_name}":
                    return index._send(self, wheel, "application/octet-stream")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeIndex":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, handler: BaseHTTPRequestHandler, body: bytes, kind: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        piece = 64 * 1024
        try:
            for start in range(0, len(body), piece):
                if self.bytes_per_second:
                    time.sleep(piece / self.bytes_per_second)
                handler.wfile.write(body[start:start + piece])
        except OSError:  # pip stopped reading (a cancelled pull)
            pass
