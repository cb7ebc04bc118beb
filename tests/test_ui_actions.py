"""The web UI's action functions called directly (no browser): guards, messages and library calls."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

gr = pytest.importorskip("gradio")

from posekit.config import load_config  # noqa: E402
from posekit.errors import PosekitError  # noqa: E402
from posekit.models.builder import build_pose_model  # noqa: E402
from posekit.ui import common, tab_infer, tab_track, tab_train, tab_validate  # noqa: E402
from tests.test_track_cli import clip  # noqa: E402,F401  (the 5-frame PoseTrack18 clip fixture)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def ui_root(tmp_path):
    """The UI writes only below its root (posekit ui --root): here each test's tmp_path."""
    root = common.set_root(tmp_path)
    yield root
    common._ROOT.clear()


def test_inside_refuses_paths_outside_the_output_folder(tmp_path):
    folder = common.output_folder(str(tmp_path / "out"))
    assert common.inside(folder, folder / "a" / "b.json") == folder / "a" / "b.json"
    with pytest.raises(PosekitError, match="outside the output folder"):
        common.inside(folder, folder / ".." / "escape.json")


def test_uploads_are_copied_under_the_output_folder_only(tmp_path):
    upload = tmp_path / "upload" / "photo.png"
    upload.parent.mkdir()
    png = cv2.imencode(".png", np.zeros((4, 6, 3), np.uint8))[1].tobytes()
    upload.write_bytes(png)
    folder = common.output_folder(str(tmp_path / "out"))
    (copy,) = tab_infer.copy_uploads([str(upload)], folder)
    assert copy == folder / "inputs" / "photo.png" and copy.read_bytes() == png


def test_output_folder_that_is_a_file_is_a_message(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(gr.Error, match="is a file, not a folder"):
        tab_validate.run_validate(
            "configs/tests/tiny_res18_128x96.yaml", "x.pth", "blazepose", str(tmp_path / "file"), False
        )


def test_infer_without_input_says_so(tmp_path):
    with pytest.raises(gr.Error, match="no input"):
        tab_infer.run_infer(None, None, "", tab_infer.DEFAULT_MODEL, "", "", "blazepose", str(tmp_path))


def test_missing_checkpoint_is_a_message_naming_it(tmp_path):
    with pytest.raises(gr.Error, match=r"missing\.pth"):
        tab_validate.run_validate(
            str(REPO / "configs/tests/tiny_res18_128x96.yaml"),
            str(tmp_path / "missing.pth"),
            "",
            str(tmp_path),
            False,
        )


def _tiny_cfg(coco_root: Path, tmp_path: Path) -> Path:
    text = (
        (REPO / "configs/tests/tiny_res18_128x96.yaml").read_text().replace("./data/coco/", f"{coco_root}/")
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return path


def test_train_streams_and_its_errors_are_messages(tmp_path):
    assert inspect.isgeneratorfunction(tab_train.run_train)  # Gradio streams generator functions only
    with pytest.raises(gr.Error, match=r"missing\.yaml"):
        next(tab_train.run_train(str(tmp_path / "missing.yaml"), 2, 1, "", "", "ui", str(tmp_path)))


def test_train_stop_leaves_a_resumable_checkpoint(coco_mini, tmp_path, monkeypatch):
    monkeypatch.setattr(tab_train, "REFRESH_SECONDS", 0.2)
    cfg = _tiny_cfg(coco_mini, tmp_path)
    updates = tab_train.run_train(str(cfg), 2, 50, "", "", "ui", str(tmp_path / "exp"))
    status = log = ""
    for status, log, _curves in updates:
        if "Train-0 epoch" in log and "Stopping" not in status:
            tab_train.stop_train()
    work = tmp_path / "exp" / "ui-tiny.yaml"
    assert status.startswith("Stopped.") and str(work / "checkpoint.pth") in status
    assert (work / "checkpoint.pth").is_file() and (work / "curves.png").is_file()
    assert "Train-0 epoch | loss:" in log
    assert "Starting Epoch 49" not in (work / "training.log").read_text()


def test_track_files_writes_tracked_json_and_frames(clip, tmp_path):  # noqa: F811
    out = tmp_path / "tracked"
    summary, frames, downloads = tab_track.run_track_files(
        str(clip["imgdir"]), str(clip["in_json"]), "oks", str(out)
    )
    tracked = json.loads((out / "alphapose-results-tracked.json").read_text())
    ids = {e["idx"] for entries in tracked.values() for e in entries}
    assert len(tracked) == 5 and len(ids) == clip["people"]
    assert f"**{clip['people']} people** tracked over 5 frame(s)" in summary
    assert [Path(f).name for f in frames] == [f"{t:06d}.jpg" for t in range(5)]
    assert downloads == [str(out / "alphapose-results-tracked.json")]


def _files(*roots: Path) -> set[Path]:
    """Every file and folder below the roots."""
    return {p for root in roots for p in root.rglob("*")}


def _written_outside(before: set[Path], after: set[Path], out: Path) -> set[Path]:
    """Paths that appeared outside `out`, or disappeared, between two listings."""
    return {p for p in after - before if not p.is_relative_to(out)} | (before - after)


def test_track_files_writes_nothing_beside_the_input(clip, tmp_path, monkeypatch):  # noqa: F811
    """The forvis json that tracker-general.py puts beside the input goes into the output folder."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    inputs = tmp_path / "input"
    shutil.copytree(clip["imgdir"], inputs / "images")
    shutil.copy(clip["in_json"], inputs / "alphapose-results.json")
    out = tmp_path / "out"
    before = _files(tmp_path)
    tab_track.run_track_files(str(inputs / "images"), str(inputs / "alphapose-results.json"), "oks", str(out))
    assert _written_outside(before, _files(tmp_path), out) == set()
    forvis = json.loads((out / "alphapose-results-forvis.json").read_text())
    assert sorted(forvis) == [f"{t:06d}.jpg" for t in range(5)]
    assert [len(people) for people in forvis.values()] == [clip["people"]] * 5


def test_validate_creates_a_missing_det_file_in_the_output_folder(coco_mini, tmp_path, monkeypatch):
    """DET_FILE ./exp/json/test_det_yolo.json (relative to the working directory) does not exist: the
    detector's boxes go to <output>/test_det_yolo.json instead, and nothing appears in the cwd."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    cfg = _tiny_cfg(coco_mini, tmp_path)
    given = f"{coco_mini}/annotations/person_detections_val2017.json"
    cfg.write_text(cfg.read_text().replace(given, "./exp/json/test_det_yolo.json"))
    torch.manual_seed(0)
    loaded = load_config(cfg)
    torch.save(build_pose_model(loaded.model, loaded.data_preset).state_dict(), tmp_path / "tiny.pth")
    out = tmp_path / "out"
    before = _files(tmp_path, coco_mini)
    table = tab_validate.run_validate(str(cfg), str(tmp_path / "tiny.pth"), "blazepose", str(out), False)
    assert _written_outside(before, _files(tmp_path, coco_mini), out) == set()
    assert sorted(p.name for p in out.iterdir()) == [
        "test_det_yolo.json",
        "validate_gt_kpt.json",
        "validate_rcnn_kpt.json",
    ]
    detections = json.loads((out / "test_det_yolo.json").read_text())
    ann = json.loads((coco_mini / "annotations/person_keypoints_val2017.json").read_text())
    assert len(detections) == 12  # BlazePose's person boxes, measured
    assert {d["image_id"] for d in detections} == {im["id"] for im in ann["images"]}
    assert f"`{out / 'validate_rcnn_kpt.json'}`" in table


def test_export_action_passes_the_soc_version_and_names_a_missing_onnxsim(tmp_path, monkeypatch):
    import importlib.util

    import torch

    from posekit.config import load_config
    from posekit.models.builder import build_pose_model
    from posekit.ui import tab_export

    cfg_path = REPO / "configs/tests/tiny_res18_128x96.yaml"
    cfg = load_config(cfg_path)
    torch.manual_seed(0)
    torch.save(build_pose_model(cfg.model, cfg.data_preset).state_dict(), tmp_path / "tiny.pth")
    out = tmp_path / "onnx" / "tiny.onnx"
    args = (str(cfg_path), str(tmp_path / "tiny.pth"), str(out), 1, False, 11, "none")
    summary, command = tab_export.run_export(*args, False, "Ascend310P3")
    assert "--soc_version=Ascend310P3" in command and out.is_file() and "Wrote" in summary
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxsim" else real_find_spec(name, *a)
    )
    with pytest.raises(gr.Error, match="pip install onnxsim"):
        tab_export.run_export(*args, True, "Ascend310")


@pytest.mark.parametrize("typed", ["/etc", "../../x", "../outside", "/tmp/../etc/posekit"])
def test_output_folders_outside_the_ui_root_are_refused(ui_root, typed):
    with pytest.raises(gr.Error, match=r"lies outside the UI's root folder"):
        tab_validate.run_validate(
            str(REPO / "configs/tests/tiny_res18_128x96.yaml"), "x.pth", "", typed, False
        )
    assert not (ui_root.parent / "outside").exists() and not Path("/etc/posekit").exists()
    assert common.output_folder("inside/deeper") == ui_root / "inside" / "deeper"  # relative: below the root


def test_a_symlink_out_of_the_root_is_refused(ui_root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (ui_root / "link").symlink_to(elsewhere)
    with pytest.raises(PosekitError, match="lies outside the UI's root folder"):
        common.output_folder("link/out")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("exp_id", ["..", "../../escape", "a/../../b"])
def test_experiment_ids_with_dots_or_slashes_are_refused(ui_root, exp_id):
    with pytest.raises(gr.Error, match="experiment id"):
        next(
            tab_train.run_train(
                str(REPO / "configs/tests/tiny_res18_128x96.yaml"), 2, 1, "", "", exp_id, "exp"
            )
        )
    assert not (ui_root.parent / "escape").exists() and not (ui_root / "exp").exists()


class _Request:
    """What Gradio passes as gr.Request: here only the session hash matters."""

    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def test_stop_ends_only_the_sessions_own_training(ui_root, monkeypatch):
    import threading

    from posekit.train import loop

    started = {"a": threading.Event(), "b": threading.Event()}

    def fake_train(opts):  # a training that runs until its stop event is set
        started[opts.exp_id].set()
        stopped = opts.stop_event.wait(timeout=20)
        return loop.TrainSummary(opts.work_dir, [], stopped, None)

    monkeypatch.setattr(loop, "train", fake_train)
    monkeypatch.setattr(tab_train, "REFRESH_SECONDS", 0.05)
    cfg = str(REPO / "configs/tests/tiny_res18_128x96.yaml")
    statuses = {}

    def session(name):
        for status, _log, _curves in tab_train.run_train(cfg, 2, 1, "", "", name, "exp", _Request(name)):
            statuses[name] = status

    threads = {name: threading.Thread(target=session, args=(name,)) for name in "ab"}
    for thread in threads.values():
        thread.start()
    assert started["a"].wait(10) and started["b"].wait(10)
    tab_train.stop_train(_Request("a"))
    threads["a"].join(10)
    assert statuses["a"].startswith("Stopped.") and threads["b"].is_alive()  # b trains on
    tab_train.stop_train(_Request("b"))
    threads["b"].join(10)
    assert statuses["b"].startswith("Stopped.")


def test_a_second_run_never_overwrites_the_first_runs_checkpoint(coco_mini, ui_root):
    cfg = _tiny_cfg(coco_mini, ui_root)
    *_, (status, _log, _curves) = tab_train.run_train(str(cfg), 12, 1, "", "", "ui", "exp", _Request("first"))
    work = ui_root / "exp" / "ui-tiny.yaml"
    assert status == f"Finished: `{work / 'final_DPG.pth'}`"
    saved = {p.name: p.read_bytes() for p in work.glob("*.pth")}
    with pytest.raises(
        gr.Error, match=r"already holds a training run \(checkpoint\.pth\), nothing overwritten"
    ):
        list(tab_train.run_train(str(cfg), 12, 1, "", "", "ui", "exp", _Request("second")))
    assert {p.name: p.read_bytes() for p in work.glob("*.pth")} == saved
