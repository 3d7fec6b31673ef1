#!/usr/bin/env bash
# The Windows test stage: the project's Windows adapters and the Windows wheels, run for real by a
# Windows CPython under Wine on a private Xvfb (tests/windows, with pytest inside Wine).
# Needs the test models the Linux stage caches (.cache/test); builds them when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
started=$(date +%s)
bash "$here/setup.sh"
source "$here/env.sh"
venv="${PHITRAY_VENV:-$repo/.venv}"
"$venv/bin/python" "$repo/tests/fixtures/models.py" >/dev/null

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
python3 "$here/xdriver.py" "$scratch/port" </dev/null >"$scratch/xdriver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done

wineserver -k 2>/dev/null || true  # Wine's desktop process must start on this display
wine_start
export PHITRAY_XDRIVER_PORT=$(cat "$scratch/port")
export PHITRAY_TEST_DATA=$(winepath -w "${PHITRAY_TEST_CACHE:-$repo/.cache/test}/data")
cd "$repo"
status=0
winpy -m pytest "$(winepath -w "$repo/tests/windows")" -p no:cacheprovider -q "$@" || status=$?
echo "windows stage: $(( $(date +%s) - started )) s, pytest exit $status"
exit $status
