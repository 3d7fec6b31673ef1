#!/usr/bin/env bash
# The Windows test stage: the project's Windows adapters and the Windows wheels, run for real by a
# Windows CPython 3.11 (with Tk) under Wine on a private Xvfb (tests/windows, with pytest inside Wine),
# and the Windows installer, built here and installed into a prefix made fresh for this run
# (tests/windows/test_installed.py). Needs the test models the Linux stage caches (.cache/test);
# builds them when missing. PHITRAY_WINDOWS_INSTALLER=0 leaves the installer out (no build; the installed-agent
# tests skip), for a quick run of the adapters' tests: PHITRAY_WINDOWS_INSTALLER=0 bash .ci/windows/run.sh -k tray;
# PHITRAY_WINDOWS_INSTALLER=path/to/setup.exe tests that installer instead of building one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
started=$(date +%s)
installer=""
if [ -f "${PHITRAY_WINDOWS_INSTALLER:-}" ]; then
    installer=$PHITRAY_WINDOWS_INSTALLER  # an installer built elsewhere, tested as it is
elif [ "${PHITRAY_WINDOWS_INSTALLER:-1}" != 0 ]; then
    bash "$repo/scripts/windows-installer.sh"
    installer="$repo/dist/PhiTray-$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/pyproject.toml")-setup.exe"
fi
bash "$here/setup.sh"
source "$here/env.sh"
venv="${PHITRAY_VENV:-$repo/.venv}"
"$venv/bin/python" "$repo/tests/fixtures/models.py" >/dev/null
# The installer's signing, with a certificate made for the test (Linux side: osslsigncode and makensis are here now).
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/tests/test_windows_signing.py"

scratch=$(mktemp -d)
pids=()
cleanup() {
    wineserver -k 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT

# A private X server (it picks a free display) and the driver the tests send xdotool commands to.
# -noreset: a server whose last client leaves resets, and a client connecting meanwhile fails.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$scratch/display" </dev/null >"$scratch/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$scratch/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -1 "$scratch/display")"
# A window manager from Debian, as every desktop has one: with none, Wine can activate a window
# (SetForegroundWindow) without the X focus following, which no Windows desktop does.
openbox --sm-disable </dev/null >"$scratch/openbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break; sleep 0.1; done
python3 "$here/xdriver.py" "$scratch/port" </dev/null >"$scratch/xdriver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done

wineserver -k 2>/dev/null || true  # Wine's desktop process must start on this display
# A prefix nothing has touched: what a person's fresh Windows account has, for the installer.
export WINEPREFIX="$scratch/prefix"
wine_new_prefix
wine_start
export PHITRAY_XDRIVER_PORT=$(cat "$scratch/port")
export PHITRAY_TEST_DATA=$(winepath -w "${PHITRAY_TEST_CACHE:-$repo/.cache/test}/data")
[ -z "$installer" ] || export PHITRAY_INSTALLER=$(winepath -w "$installer")
export PHITRAY_TIMINGS=$(winepath -w "$scratch/timings.txt")
cd "$repo"
status=0
winpy -m pytest "$(winepath -w "$repo/tests/windows")" -p no:cacheprovider -q "$@" || status=$?
[ -f "$scratch/timings.txt" ] && sed 's/^/installed agent under Wine: /' "$scratch/timings.txt"
[ -z "$installer" ] || echo "installer: $(basename "$installer"), $(( $(stat -c %s "$installer") / 1000000 )) MB"
echo "windows stage: $(( $(date +%s) - started )) s, pytest exit $status"
exit $status
