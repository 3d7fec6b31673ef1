"""Sign Windows programs with the release's code-signing certificate, when the environment names one.

    python3 sign.py FILE...        sign each file in place (build.py's makensis runs it on the installer
                                   and on the uninstaller it holds)

    PHITRAY_SIGN_PFX        the certificate and its key, a PKCS#12 (.pfx) file; unset: nothing is signed
    PHITRAY_SIGN_PASSWORD   its password (may be empty)
    PHITRAY_SIGN_TIMESTAMP  an RFC 3161 timestamp server; without one a signature lapses with the certificate

Windows' SmartScreen warns about an unsigned download, and Smart App Control, on by default on a fresh
Windows 11, blocks an unsigned installer outright and can refuse unsigned .pyd modules. With a
certificate, build.py signs the installer, its uninstaller and every program file it ships that carries
no signature of its own (osslsigncode, from Debian).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROGRAM_SUFFIXES = (".exe", ".dll", ".pyd")


def requested() -> bool:
    return bool(os.environ.get("PHITRAY_SIGN_PFX"))


def is_signed(path: Path) -> bool:
    """Whether `path` carries an Authenticode signature (anyone's: Microsoft's runtime DLLs keep theirs)."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(["osslsigncode", "extract-signature", "-in", str(path), "-out", f"{scratch}/signature"],
                              capture_output=True, text=True)
    return done.returncode == 0


def sign(path: Path) -> None:
    """Sign `path` in place; SystemExit naming the file and osslsigncode's words when it cannot."""
    pfx = os.environ["PHITRAY_SIGN_PFX"]
    if shutil.which("osslsigncode") is None:
        sys.exit("signing needs osslsigncode (apt-get install osslsigncode)")
    with tempfile.TemporaryDirectory() as scratch:
        secret = Path(scratch) / "password"  # a file, not an argument other users could read in the process list
        secret.write_text(os.environ.get("PHITRAY_SIGN_PASSWORD", ""), encoding="utf-8")
        secret.chmod(0o600)
        signed = Path(scratch) / path.name
        command = ["osslsigncode", "sign", "-pkcs12", pfx, "-readpass", str(secret), "-h", "sha256",
                   "-n", "Phi Tray", "-in", str(path), "-out", str(signed)]
        if timestamp := os.environ.get("PHITRAY_SIGN_TIMESTAMP"):
            command[-4:-4] = ["-ts", timestamp]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not signed.exists():
            sys.exit(f"could not sign {path}: {(done.stderr or done.stdout).strip()}")
        shutil.copyfile(signed, path)
    print(f"signed {path}")


def sign_unsigned(folder: Path) -> int:
    """Sign every program file under `folder` that carries no signature yet; how many were signed."""
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in PROGRAM_SUFFIXES and path.is_file() and not is_signed(path):
            sign(path)
            count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        sign(Path(name))
