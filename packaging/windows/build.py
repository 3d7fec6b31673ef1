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

import sign
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


# What the installed agent never loads, left out of pkgs\ (below 150 MB with the starter model): OpenVINO's
# frontends for other model formats (it reads IR and GGUF), its C++ headers, CMake files and import
# libraries, the NPU compiler-in-plugin (a preview in 2026; the NPU driver's own compiler is the default),
# the ONNX Runtime packages' model tools and Python API, Pillow's AVIF, WebP, FreeType and colour-profile
# modules, the Xet transfer client (huggingface_hub falls back to HTTP), and test suites. Licence files stay.
PRUNED = (
    "openvino/libs/openvino_*_frontend.*",
    "!openvino/libs/openvino_ir_frontend.dll",
    "!openvino/libs/openvino_gguf_frontend.dll",
    "openvino/frontend/jax", "openvino/frontend/onnx", "openvino/frontend/paddle", "openvino/frontend/pytorch",
    "openvino/frontend/tensorflow",
    "openvino/include", "openvino/cmake", "openvino/libs/*.lib",
    "openvino/libs/openvino_intel_npu_compiler.dll",
    "onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools", "onnxruntime/datasets",
    "onnxruntime/capi/onnxruntime_pybind11_state.pyd",  # ONNX Runtime's Python API; GenAI loads onnxruntime.dll
    "onnxruntime_genai/models",
    "PIL/_avif.*", "PIL/_webp.*", "PIL/_imagingft.*", "PIL/_imagingcms.*",  # the icons are drawn shapes, PNG and ICO
    "hf_xet", "hf_xet-*.dist-info",
    "*/tests", "*/*/tests", "*/*/*/tests",
)


def prune(pkgs: Path) -> int:
    """Remove PRUNED from the staged pkgs folder ("!" keeps a path an earlier pattern named); bytes removed."""
    keep = {pkgs / pattern[1:] for pattern in PRUNED if pattern.startswith("!")}
    removed = 0
    for pattern in (pattern for pattern in PRUNED if not pattern.startswith("!")):
        for path in sorted(pkgs.glob(pattern)):
            if path in keep or not path.exists():
                continue
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            removed += sum(f.stat().st_size for f in files)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    if not any(pkgs.glob("openvino/libs/openvino_intel_cpu_plugin.dll")) or keep - {p for p in keep if p.exists()}:
        sys.exit("pruning removed what the agent needs: check PRUNED against the staged pkgs")
    return removed


def version() -> str:
    text = (HERE.parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version = "([^"]+)"', text, re.MULTILINE)
    assert found, "pyproject.toml has no version"
    return found.group(1)


def write_icon(target: Path) -> None:
    """The tray's "ready" icon in the sizes Explorer asks for, stored as BMP (Wine draws PNG icons with red and
    blue swapped); and as a PNG beside it, the picture Windows shows for the agent's AppUserModelID."""
    from phitray.ui.icons import state_icon

    sizes = [16, 24, 32, 48, 64, 128, 256]
    state_icon("ready", 256).save(target, format="ICO", sizes=[(s, s) for s in sizes], bitmap_format="bmp")
    state_icon("ready", 256).save(target.with_suffix(".png"), format="PNG")


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
    file_lines = "\n    ".join([f"{dll} > $INSTDIR\\Python" for dll in dlls] + [f"{lib}", f"{work / 'phitray.png'}"])
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


def solid_compression(nsi: Path) -> None:
    """One LZMA stream over the whole program with a 64 MB dictionary: the many small modules and the DLLs
    share far more than each file alone (about 14 MB less than pynsist's file-by-file LZMA), the starter
    model included, which LZMA shrinks a little too (SetCompress off would store it, but has no effect in
    a solid stream)."""
    text = nsi.read_text(encoding="utf-8")
    if "\nSetCompressor lzma\n" not in text:
        sys.exit(f"{nsi} no longer says 'SetCompressor lzma': check the compression by hand")
    nsi.write_text(text.replace("\nSetCompressor lzma\n", "\nSetCompressor /SOLID lzma\nSetCompressorDictSize 64\n"),
                   encoding="utf-8")


def signing_directives() -> str:
    """NSIS lines that sign the installer and the uninstaller it writes (sign.py), each as makensis finishes
    it; a signing that fails fails the build."""
    command = f'"{sys.executable}" "{HERE / "sign.py"}" "%1"'
    return f"!finalize '{command}' = 0\n!uninstfinalize '{command}' = 0\n"


def install_list(nsis: Path) -> list[str]:
    """What the installer lays out, relative to the install folder: "f <file>" lines, then "d <folder>" lines
    deepest first, for the uninstaller to remove exactly these (phitray.nsi). The staged tree, as the NSIS
    script places it (the MSVC DLLs at its root go into Python), the modules compileall byte-compiles at
    install, and what the installer itself writes."""
    files = {"uninstall.exe", "_user_install_marker", "install-list.txt"}
    for path in nsis.iterdir():
        if path.name in ("installer.nsi", "stop_agent.py", "install-list.txt"):
            continue
        if path.is_dir() and path.name in ("Python", "lib", "pkgs"):
            files |= {str(f.relative_to(nsis)) for f in path.rglob("*") if f.is_file()}
        elif path.suffix == ".dll":
            files.add(f"Python/{path.name}")
        elif path.suffix in (".pyw", ".ico", ".png"):
            files.add(path.name)
        else:
            sys.exit(f"{path.name} is staged but install_list does not know where the installer puts it")
    tag = f"cpython-{windows_python.TAG[2:]}"
    files |= {f"{Path(f).parent}/__pycache__/{Path(f).stem}.{tag}.pyc" for f in list(files)
              if f.startswith("pkgs/") and f.endswith(".py")}
    folders = {str(parent) for f in files for parent in Path(f).parents if str(parent) != "."}
    deepest_first = sorted(folders, key=lambda folder: (-folder.count("/"), folder))
    return [f"f {f}".replace("/", "\\") for f in sorted(files)] + [f"d {d}".replace("/", "\\") for d in deepest_first]


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
    solid_compression(nsi)
    own_launch_output(work / "nsis" / f"{APP_NAME.replace(' ', '_')}.launch.pyw")
    print(f"left out of pkgs: {prune(work / 'nsis' / 'pkgs') / 1e6:.0f} MB")
    listing = install_list(work / "nsis")
    # UTF-16 with a byte-order mark: what NSIS's FileReadUTF16LE reads, whatever the names hold.
    (work / "nsis" / "install-list.txt").write_bytes(("\ufeff" + "\r\n".join(listing) + "\r\n").encode("utf-16-le"))
    shutil.copy(HERE / "stop_agent.py", work / "nsis")
    if sign.requested():  # a certificate is given (PHITRAY_SIGN_PFX): every program file, then the installer
        print(f"signed {sign.sign_unsigned(work / 'nsis')} program files that had no signature")
        nsi.write_text(signing_directives() + nsi.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["makensis", "-V2", "-XTarget amd64-unicode", nsi.name], cwd=nsi.parent, check=True)
    args.out.mkdir(parents=True, exist_ok=True)
    installer = args.out / args.name
    shutil.move(str(nsi.parent / args.name), installer)
    print(f"{installer}: {installer.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
