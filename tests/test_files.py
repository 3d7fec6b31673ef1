"""The one way the agent writes a file: whole or not at all, on a full disk, when the move fails, when the
writing process is killed; a link stays a link, a file keeps its permissions."""

from __future__ import annotations

import errno
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray import files
from phitray.files import decode_text, encode_text, write_file, write_text

from helpers.disks import fill, small_disk


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 64 KiB file system of its own (a tmpfs: needs root), holding `keep.toml`, then filled."""
    folder = tmp_path / "small"
    folder.mkdir()
    with small_disk(folder):
        (folder / "keep.toml").write_text('id = "keep"\n', encoding="utf-8")
        fill(folder)
        yield folder


def test_a_write_replaces_the_file_whole_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "settings.toml"
    assert write_text(target, "first\r\nline\n") == target
    assert target.read_bytes() == b"first\r\nline\n"  # line ends as given
    write_file(target, b"second")
    assert target.read_bytes() == b"second"
    assert leftovers(target.parent) == []


def test_the_file_and_then_its_folder_reach_the_disk_before_the_write_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(handle: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "file")
        real_fsync(handle)

    def replace(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        synced.append("replace")
        real_replace(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_text(tmp_path / "a.toml", "x")
    assert synced == ["file", "replace", "folder"]


def test_a_link_stays_a_link_and_the_file_it_points_to_is_written(tmp_path: Path) -> None:
    (tmp_path / "dotfiles").mkdir()
    real = tmp_path / "dotfiles" / "settings.toml"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "config" / "settings.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    assert write_text(link, "new") == real
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "new"
    assert leftovers(link.parent) == [] and leftovers(real.parent) == []


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_umasks(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text("old", encoding="utf-8")
    mine.chmod(0o640)
    write_text(mine, "new")
    assert stat.S_IMODE(mine.stat().st_mode) == 0o640
    old_mask = os.umask(0o027)
    try:
        write_text(tmp_path / "fresh.toml", "new")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "fresh.toml").stat().st_mode) == 0o640


def test_a_move_that_fails_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "settings.toml"
    target.write_bytes(b"the person's")

    def refuse(source: object, destination: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_text(target, "ours")
    assert target.read_bytes() == b"the person's"
    assert leftovers(tmp_path) == []


def test_a_file_another_program_holds_on_windows_is_tried_again_and_other_refusals_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "settings.toml"
    target.write_bytes(b"old")
    real_replace = os.replace
    tries: list[int] = []

    def held_twice(source: str, destination: str) -> None:
        tries.append(1)
        if len(tries) <= 2:
            error = PermissionError(errno.EACCES, "The process cannot access the file")
            error.winerror = 32  # type: ignore[attr-defined]  # ERROR_SHARING_VIOLATION, as Windows sets it
            raise error
        real_replace(source, destination)

    monkeypatch.setattr(files.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(os, "replace", held_twice)
    write_text(target, "new")
    assert target.read_bytes() == b"new" and len(tries) == 3

    tries.clear()

    def refused(source: str, destination: str) -> None:
        tries.append(1)
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(PermissionError):
        write_text(target, "newer")
    assert len(tries) == 1 and target.read_bytes() == b"new" and leftovers(tmp_path) == []


def test_a_full_disk_leaves_the_old_file_whole(full_disk: Path) -> None:
    target = full_disk / "keep.toml"
    with pytest.raises(OSError) as raised:
        write_text(target, 'id = "keep"\ntitle = "Longer now"\n' + "# padding\n" * 500)
    assert raised.value.errno == errno.ENOSPC
    assert target.read_bytes() == b'id = "keep"\n'
    assert leftovers(full_disk) == []


WRITER = """
import sys
from pathlib import Path
from phitray.files import write_file
target, payloads = Path(sys.argv[1]), [b"a" * 3_000_000, b"b" * 2_000_000]
print("writing", flush=True)
n = 0
while True:
    write_file(target, payloads[n % 2])
    n += 1
"""


def test_a_writer_killed_at_any_moment_leaves_one_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "settings.toml"
    target.write_bytes(b"b" * 2_000_000)
    shapes = set()
    rng = random.Random(7)
    for _ in range(12):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline() == b"writing\n"
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        data = target.read_bytes()
        assert data in (b"a" * 3_000_000, b"b" * 2_000_000), f"{len(data)} bytes after a kill"
        shapes.add(data[:1])
    assert shapes == {b"a", b"b"}, "the kills never landed between two writes: the test proves nothing"


def test_a_byte_order_mark_is_read_past_and_can_be_written_back() -> None:
    assert decode_text("\ufeffid = 1\n".encode()) == ("id = 1\n", True)
    assert decode_text(b"id = 1\n") == ("id = 1\n", False)
    assert encode_text("id = 1\n", bom=True) == b"\xef\xbb\xbfid = 1\n"
    with pytest.raises(UnicodeDecodeError):
        decode_text(b"caf\xe9")
