#!/usr/bin/env bash
# Install everything the test suite needs into .venv (or $PHITRAY_VENV) and run it.
# Safe to run on a fresh Debian machine with Python 3.11+; re-runs reuse what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PHITRAY_VENV:-.venv}"
python="${PYTHON:-python3}"

# The desktop the end-to-end tests run on (Xvfb, trayer, dunst, xdotool…) and the tray's GTK.
bash scripts/desktop-deps.sh --test

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip
"${pip[@]}" install -q -c .ci/constraints.txt -e ".[test,onnx,prepare,gtk]"
# optimum-intel pulls a torchvision that breaks beside CPU torch ("operator torchvision::nms does not
# exist") and is not needed for text models.
"${pip[@]}" uninstall -q -y torchvision 2>/dev/null || true

# Type-check the installed layout (the editable finder hides the package-dir mapping from mypy).
typecheck=$(mktemp -d)
trap 'rm -rf "$typecheck"' EXIT
"${pip[@]}" install -q --no-deps --no-build-isolation --target "$typecheck" . >/dev/null 2>&1
repo=$PWD
(cd "$typecheck" && "$repo/$venv/bin/python" -m mypy --config-file "$repo/pyproject.toml" -p phitray)
# And as Windows sees it: the win32 adapters, winreg and the named-pipe/mutex code.
(cd "$typecheck" && "$repo/$venv/bin/python" -m mypy --config-file "$repo/pyproject.toml" --platform win32 -p phitray)

"$venv/bin/python" -m pytest "$@"
