"""Build the Windows installer from inputs scripts/windows-installer.sh has downloaded and checked.

    python build.py --downloads DIR --wheels DIR --work DIR --out DIR [--variant cpu|directml]

Runs in the build's own venv (pynsist, Pillow and the project). Writes pynsist's
`installer.cfg` into WORK, lets pynsist lay out the files and write the NSIS
script, then runs Debian's makensis for a 64-bit installer (Wine without i386
multiarch cannot start the 32-bit stub pynsist's default produces).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import windows_python

HERE = Path(__file__).resolve().parent
APP_NAME = "Phi Tray"
# The shortcut runs pythonw on the launch script pynsist writes from this entry point.
ENTRY_POINT = "phitray.cli.main:main"
# Run before the entry point: the agent's start-on-login entry repeats exactly what the
# shortcut runs (see phitray.desktop.autostart.launch_command).
PREAMBLE = "os.environ['PHITRAY_LAUNCH_SCRIPT'] = os.path.abspath(__file__)\n"
# pynsist's launch script sends pythonw's output to %APPDATA%\<script>.log opened with 'w' as it is
# imported, and multiprocessing's spawn runs it again in every child (model host, download, settings):
# each child emptied the log. Ours appends, in the agent's log folder in the local profile; the first
# process of a launch starts a new file past LAUNCH_LOG_LIMIT and says who it is.
PYNSIST_OUTPUT = re.compile(r"^if 'pythonw' in sys\.executable:\n.*?^    sys\.excepthook = excepthook\n",
                            re.MULTILINE | re.DOTALL)
LAUNCH_LOG_LIMIT = 1_000_000
LAUNCH_OUTPUT = f"""\
logdir = os.environ.get('PHITRAY_LOG_DIR') or os.path.join(os.environ.get('LOCALAPPDATA') or appdata, 'phitray', 'Logs')
launch_log = os.path.join(logdir, 'launch.log')
try:
    os.makedirs(logdir, exist_ok=True)
    if __name__ == '__main__' and os.path.getsize(launch_log) > {LAUNCH_LOG_LIMIT}:
        os.replace(launch_log, launch_log + '.1')
except OSError:
    pass
if 'pythonw' in sys.executable:
    # No console: every process's output, appended (children run this script again).
    sys.stdout = sys.stderr = open(launch_log, 'a', errors='replace', buffering=1)
    if __name__ == '__main__':
        import time
        print(time.strftime('%Y-%m-%d %H:%M:%S'), 'launched, process', os.getpid())
else:
    def excepthook(etype, value, tb):
        "Write unhandled exceptions to stderr and the launch log: a console started for this program closes."
        import traceback
        traceback.print_exception(etype, value, tb)
        with open(launch_log, 'a', errors='replace') as f:
            traceback.print_exception(etype, value, tb, file=f)
    sys.excepthook = excepthook
"""


def version() -> str:
    text = (HERE.parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    assert found, "pyproject.toml has no version"
    return found.group(1)


def write_icon(target: Path) -> None:
    """The tray's "ready" icon in the sizes Explorer asks for, stored as BMP (Wine draws PNG icons with red and blue swapped)."""
    from phitray.ui.icons import state_icon

    sizes = [16, 24, 32, 48, 64, 128, 256]
    state_icon("ready", 256).save(target, format="ICO", sizes=[(s, s) for s in sizes], bitmap_format="bmp")


def msvc_dlls(wheel: Path, target: Path) -> list[Path]:
    """The MSVC runtime DLLs from msvc-runtime's wheel (its .data folder, which pynsist would drop)."""
    target.mkdir(parents=True, exist_ok=True)
    found = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            # The same DLLs sit in .data/data/ and .data/data/Scripts/: one copy beside python.exe is enough.
            if ".data/data/" in name and name.lower().endswith(".dll"):
                path = target / Path(name).name
                path.write_bytes(archive.read(name))
                found.add(path)
    if not found:
        sys.exit(f"{wheel.name} holds no DLLs")
    return sorted(found)


def config(work: Path, wheels: list[Path], dlls: list[Path], lib: Path, name: str) -> str:
    # One entry per line, the first on the key's own line (pynsist reads a leading newline as a file '').
    wheel_lines = "\n    ".join(str(w) for w in wheels)
    # `files` entries with a destination: the runtime DLLs beside python.exe, where Windows finds them
    # for every extension module; Tcl's script library as $INSTDIR\lib (Tcl looks in <exe>\..\lib).
    file_lines = "\n    ".join([f"{dll} > $INSTDIR\\Python" for dll in dlls] + [f"{lib}"])
    return f"""\
[Application]
name = {APP_NAME}
version = {version()}
publisher = Phi Tray
entry_point = {ENTRY_POINT}
icon = {work / "phitray.ico"}
extra_preamble = {work / "preamble.py"}

[Python]
version = {windows_python.PYTHON_VERSION}
bitness = 64
include_msvcrt = false

[Include]
local_wheels = {wheel_lines}
files = {file_lines}

[Build]
directory = {work / "nsis"}
installer_name = {name}
nsi_template = phitray.nsi
"""


def per_user_only(nsi: Path) -> None:
    """Install for the current user without ever asking for administrator rights.

    pynsist's template asks for the highest level the user has (a UAC prompt for an
    administrator); "Standard" makes MultiUser.nsh install per user with no prompt.
    """
    text = nsi.read_text(encoding="utf-8")
    highest = "!define MULTIUSER_EXECUTIONLEVEL Highest"
    if highest not in text:
        sys.exit(f"{nsi} no longer says {highest!r}: check the per-user install by hand")
    nsi.write_text(text.replace(highest, "!define MULTIUSER_EXECUTIONLEVEL Standard"), encoding="utf-8")


def own_launch_output(script: Path) -> None:
    """Put LAUNCH_OUTPUT in place of pynsist's output block in the launch script it wrote."""
    text = script.read_text(encoding="utf-8")
    text, found = PYNSIST_OUTPUT.subn(lambda match: LAUNCH_OUTPUT, text)
    if found != 1:
        sys.exit(f"{script} no longer has pynsist's output block: check where the launch log goes by hand")
    script.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--downloads", type=Path, required=True, help="embed.txt's sdists")
    parser.add_argument("--wheels", type=Path, required=True, help="the locked Windows wheels and the starter's")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default=f"PhiTray-{version()}-setup.exe", help="the installer's file name")
    args = parser.parse_args()

    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cache = work / "pynsist-cache"
    # The embeddable zip where pynsist looks before it would go to python.org; Tk's files in
    # pynsist_pkgs/ (copied into pkgs/ as they are) and lib/.
    windows_python.make_pynsist_inputs(args.downloads, cache, work)
    (work / "pkgs").rename(work / "pynsist_pkgs")
    write_icon(work / "phitray.ico")
    (work / "preamble.py").write_text(PREAMBLE, encoding="utf-8")
    shutil.copy(HERE / "phitray.nsi", work / "phitray.nsi")  # pynsist finds templates in its working folder

    wheels = sorted(args.wheels.glob("*.whl"))
    runtime = [w for w in wheels if w.name.startswith("msvc_runtime-")]
    if len(runtime) != 1:
        sys.exit(f"expected one msvc_runtime wheel in {args.wheels}, found {len(runtime)}")
    dlls = msvc_dlls(runtime[0], work / "msvc")
    shipped = [w for w in wheels if w not in runtime]
    (work / "installer.cfg").write_text(config(work, shipped, dlls, work / "lib", args.name), encoding="utf-8")

    environment = {"PYNSIST_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "nsist", "--no-makensis", "installer.cfg"],
                   cwd=work, check=True, env=environment)
    nsi = work / "nsis" / "installer.nsi"
    per_user_only(nsi)
    own_launch_output(work / "nsis" / f"{APP_NAME.replace(' ', '_')}.launch.pyw")
    subprocess.run(["makensis", "-V2", "-XTarget amd64-unicode", nsi.name], cwd=nsi.parent, check=True)
    args.out.mkdir(parents=True, exist_ok=True)
    installer = args.out / args.name
    shutil.move(str(nsi.parent / args.name), installer)
    print(f"{installer}: {installer.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
