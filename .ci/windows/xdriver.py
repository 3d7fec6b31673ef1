"""Runs xdotool and xclip for the Windows tests inside Wine, which cannot wait on Linux programs.

    python3 xdriver.py PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE). Each connection sends
one JSON list of arguments (the first must be xdotool, xclip or import) and
gets back {"code": …, "stdout": …}. Output goes through a file, never a pipe.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

ALLOWED = ("xdotool", "xclip", "import")


def main() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    with open(sys.argv[1] + ".tmp", "w") as file:
        file.write(str(server.getsockname()[1]))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        connection, _ = server.accept()
        with connection, connection.makefile("rwb") as stream:
            request = json.loads(stream.readline())
            args, stdin_text = request["args"], request.get("stdin")
            if not args or args[0] not in ALLOWED:
                reply = {"code": 127, "stdout": f"not allowed: {args[:1]}"}
            else:
                with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as given:
                    if stdin_text is not None:
                        given.write(stdin_text.encode("utf-8"))
                        given.seek(0)
                    code = subprocess.call(args, stdin=given, stdout=out, stderr=subprocess.STDOUT, timeout=30)
                    out.seek(0)
                    reply = {"code": code, "stdout": out.read().decode("utf-8", "replace")}
            stream.write((json.dumps(reply) + "\n").encode())


if __name__ == "__main__":
    main()
