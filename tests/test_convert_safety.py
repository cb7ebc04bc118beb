"""The converter never loses data: its output never swallows its input, and a re-run killed at any step
leaves coco/ all old or all new (never a mix); bad image paths are one skipped file each."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from PIL import Image

from posekit.cli.main import main
from posekit.convert import convert_labelme
from posekit.convert.sample import write_sample_labelme
from posekit.errors import PosekitError
from posekit.io import atomic
from posekit.io.atomic import atomic_dir
from posekit.io.labelme import LabelmeError, read_labelme
from tests.test_convert_labelme import labelme_doc, person, write_doc


def snapshot(coco_root: Path) -> dict[str, bytes]:
    """Every file under coco/ (relative path -> bytes)."""
    return {
        str(p.relative_to(coco_root)): p.read_bytes() for p in sorted(coco_root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory):
    """Two Labelme sets (6 and 4 files, same names, other pictures) and the coco/ tree of each alone."""
    base = tmp_path_factory.mktemp("sets")
    old, new = base / "old", base / "new"
    write_sample_labelme(old, count=6, seed=1)
    write_sample_labelme(new, count=4, seed=2)
    convert_labelme(old, base / "old_out", seed=0)
    convert_labelme(new, base / "new_out", seed=0)
    return old, new, snapshot(base / "old_out" / "coco"), snapshot(base / "new_out" / "coco")


def test_input_inside_the_output_split_folder_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "OUT"
    write_sample_labelme(tmp_path / "labelme", count=3, seed=0)
    convert_labelme(tmp_path / "labelme", out)
    inside = out / "coco" / "train2017"
    for path in (tmp_path / "labelme").glob("*.json"):
        shutil.copy(path, inside / path.name)
    before = snapshot(out / "coco")
    assert main(["convert", "labelme", "--input", str(inside), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {inside}: the input folder and the output {out / 'coco'} lie inside one another"
    )
    assert snapshot(out / "coco") == before  # not one Labelme json lost
    with pytest.raises(PosekitError, match="lie inside one another"):  # and the other way round
        convert_labelme(out / "coco", out / "coco" / "train2017")


# Where a kill -9 lands in a re-run: (function patched, which call kills).
KILL_POINTS = [
    ("posekit.convert.labelme_coco:_place_image", 1),  # first image linked into the new tree
    ("posekit.convert.labelme_coco:_place_image", 4),  # the last image
    ("posekit.convert.labelme_coco:write_coco", 1),  # before the train json
    ("posekit.convert.labelme_coco:write_coco", 2),  # before the val json
    ("posekit.io.atomic:exchange_paths", 1),  # the swap itself
    ("posekit.io.atomic:shutil.rmtree", 1),  # swapped, old tree not yet deleted
]
KILLER = textwrap.dedent(
    """
    import importlib, os, signal, sys
    from posekit.convert import convert_labelme
    target, when, fallback = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    module_name, path = target.split(":")
    module = importlib.import_module(module_name)
    *owners, attr = path.split(".")
    for name in owners:
        module = getattr(module, name)
    real, calls = getattr(module, attr), []
    def kill_at(*args, **kwargs):
        calls.append(1)
        if len(calls) == when:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(module, attr, kill_at)
    if fallback:  # a file system without RENAME_EXCHANGE
        import errno, posekit.io.atomic as atomic
        def no_exchange(a, b):
            raise OSError(errno.EINVAL, "not supported")
        atomic.exchange_paths = no_exchange
    convert_labelme(sys.argv[4], sys.argv[5], seed=0)
    """
)


def _killed_rerun(target: str, when: int, fallback: bool, source: Path, out: Path) -> None:
    argv = [sys.executable, "-c", KILLER, target, str(when), "1" if fallback else "0", str(source), str(out)]
    done = subprocess.run(argv, env=os.environ.copy(), capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize(("target", "when"), KILL_POINTS)
def test_a_rerun_killed_at_any_step_leaves_all_old_or_all_new(old_and_new, tmp_path, target, when):
    old, new, old_tree, new_tree = old_and_new
    out = tmp_path / "out"
    convert_labelme(old, out, seed=0)
    _killed_rerun(target, when, False, new, out)
    seen = snapshot(out / "coco")
    assert seen == (new_tree if target.endswith("rmtree") else old_tree)
    convert_labelme(new, out, seed=0)  # the next run completes and cleans what the kill left
    assert snapshot(out / "coco") == new_tree and [p.name for p in out.iterdir()] == ["coco"]


def test_without_rename_exchange_a_kill_between_the_renames_is_repaired(old_and_new, tmp_path):
    old, new, old_tree, _ = old_and_new
    out = tmp_path / "out"
    convert_labelme(old, out, seed=0)
    _killed_rerun("posekit.io.atomic:os.rename", 2, True, new, out)  # old moved aside, new not yet in
    assert not (out / "coco").exists()
    (aside,) = [p for p in out.iterdir() if p.name.endswith("-previous")]
    assert snapshot(aside) == old_tree  # nothing mixed: the old tree, whole, beside
    with pytest.raises(RuntimeError), atomic_dir(out / "coco"):  # any next use puts it back
        raise RuntimeError("stop before writing")
    assert snapshot(out / "coco") == old_tree and [p.name for p in out.iterdir()] == ["coco"]


def test_the_fallback_swap_gives_the_new_tree(old_and_new, tmp_path, monkeypatch):
    old, new, _, new_tree = old_and_new
    monkeypatch.setattr(atomic, "exchange_paths", lambda a, b: (_ for _ in ()).throw(OSError(22, "no")))
    convert_labelme(old, tmp_path, seed=0)
    convert_labelme(new, tmp_path, seed=0)
    assert snapshot(tmp_path / "coco") == new_tree and [p.name for p in tmp_path.iterdir()] == ["coco"]


def test_an_image_path_longer_than_the_file_system_allows_is_one_skipped_file(tmp_path):
    write_doc(tmp_path / "in", labelme_doc([person()], "x" * 300 + ".jpg"), "long.json")
    write_doc(tmp_path / "in", labelme_doc([person()]), "good.json")
    summary = convert_labelme(tmp_path / "in", tmp_path / "out", ratio=0.5)
    assert [item.json_path.name for item in summary.converted] == ["good.json"]
    ((path, reason),) = [(s.path.name, s.reason) for s in summary.skipped]
    assert (path, reason) == ("long.json", "imagePath of 304 characters: File name too long")


def test_a_nul_byte_in_image_path_is_reported_as_such(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person()], "img\x00.jpg"))
    with pytest.raises(LabelmeError) as err:
        read_labelme(path)
    assert err.value.problems == [
        "imagePath 'img\\x00.jpg' contains a NUL byte (\\x00), which no file name can hold"
    ]


def test_the_decompression_bomb_warning_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 64x48 = 3072 pixels: warned, not refused
    path = write_doc(tmp_path, labelme_doc([person()]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_labelme(path)
    (warning,) = caught
    assert warning.category is Image.DecompressionBombWarning
    assert str(warning.message).startswith(
        f"{tmp_path / 'img.jpg'}: image 'img.jpg': Image size (3072 pixels)"
    )
    assert json.loads(path.read_text())["imagePath"] == "img.jpg"
