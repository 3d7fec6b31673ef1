"""The installed agent's launch log (packaging/windows/build.py's LAUNCH_OUTPUT, which replaces the output
block of pynsist's launch script): every process appends, so the model host and the other children that
multiprocessing's spawn starts by running the launch script again no longer empty it; it lives in the
agent's log folder, and a launch past the size limit starts a new file.

Run for real here with a Python named `pythonw` (the launch script's test for "no console"), whose
spawned children run the script again exactly as on Windows; tests/windows/test_installed.py checks the
installed agent's log after its model host started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.windows_packaging import load


# The head of pynsist 2.8's launch script (the names LAUNCH_OUTPUT uses), then a child as the agent spawns them.
SCRIPT = """\
import sys, os
scriptdir, script = os.path.split(os.path.abspath(__file__))
appdata = os.environ.get('APPDATA', None) or os.path.expanduser('~')
{output}

def child():
    print('child', os.getpid())

if __name__ == '__main__':
    import multiprocessing
    context = multiprocessing.get_context('spawn')
    for _ in range(2):
        process = context.Process(target=child)
        process.start()
        process.join(60)
    print('main done')
"""


@pytest.fixture
def launch(tmp_path: Path) -> object:
    build = load("build")
    script = tmp_path / "Phi_Tray.launch.pyw"
    script.write_text(SCRIPT.format(output=build.LAUNCH_OUTPUT), encoding="utf-8")  # type: ignore[attr-defined]
    pythonw = tmp_path / "bin" / "pythonw"
    pythonw.parent.mkdir()
    pythonw.symlink_to(os.path.realpath(sys.executable))
    local = tmp_path / "Local"
    env = {"PATH": os.environ.get("PATH", ""), "LOCALAPPDATA": str(local), "APPDATA": str(tmp_path / "Roaming")}

    def run() -> Path:
        done = subprocess.run([str(pythonw), str(script)], env=env, cwd=tmp_path, timeout=120,
                              stdin=subprocess.DEVNULL, capture_output=True)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert done.stdout == b"", "a pythonw launch writes to its log, not to a console"
        return local / "phitray" / "Logs" / "launch.log"
    run.build = build  # type: ignore[attr-defined]
    return run


def test_children_append_to_the_launch_log_and_the_launch_line_survives_them(launch: object) -> None:
    assert callable(launch)
    log = launch()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert "launched, process" in lines[0], lines
    assert [line.split()[0] for line in lines[1:]] == ["child", "child", "main"], lines
    launch()  # a second launch keeps the first one's lines
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sum("launched, process" in line for line in lines) == 2 and len(lines) == 8, lines


def test_a_launch_past_the_limit_starts_a_new_log_and_keeps_the_old_one_beside_it(launch: object) -> None:
    assert callable(launch)
    log = launch()
    limit = launch.build.LAUNCH_LOG_LIMIT  # type: ignore[attr-defined]
    with log.open("a", encoding="utf-8") as out:
        out.write("x" * limit + "\n")
    launch()
    assert log.with_name("launch.log.1").stat().st_size > limit
    assert len(log.read_text(encoding="utf-8").splitlines()) == 4  # launched, child, child, main done
