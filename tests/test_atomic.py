"""posekit.io.atomic: a write is all or nothing, and a temp file left by a killed writer is cleaned up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from posekit.io.atomic import atomic_path, atomic_write_text, remove_stale_temps


def _killed_mid_write(folder) -> None:
    """A real process that starts an atomic write of folder/checkpoint.pth and is killed with SIGKILL."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from posekit.io.atomic import atomic_path
        with atomic_path({str(folder / "checkpoint.pth")!r}) as tmp:
            tmp.write_bytes(b"half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), check=False)
    assert done.returncode == -signal.SIGKILL


def test_a_temp_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    atomic_write_text(tmp_path / "checkpoint.pth", "epoch 3")
    _killed_mid_write(tmp_path)
    (left,) = [p for p in tmp_path.iterdir() if p.name != "checkpoint.pth"]
    assert left.name.startswith(".checkpoint.pth.posekit-") and left.name.endswith(".tmp")
    assert (tmp_path / "checkpoint.pth").read_text() == "epoch 3"  # the old file is intact
    atomic_write_text(tmp_path / "other.json", "{}")  # any later write into the folder cleans it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pth", "other.json"]


def test_a_live_writers_temp_and_foreign_files_are_kept(tmp_path):
    (tmp_path / ".notes.txt.tmp").write_text("not ours")
    with atomic_path(tmp_path / "a.json") as tmp:
        tmp.write_text("{}")
        assert remove_stale_temps(tmp_path) == []  # this process is alive: its temp stays
        assert tmp.is_file()
    assert (tmp_path / "a.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.tmp", "a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    atomic_write_text(tmp_path / "a.json", "old")
    try:
        with atomic_path(tmp_path / "a.json") as tmp:
            tmp.write_text("new, half")
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert (tmp_path / "a.json").read_text() == "old"
