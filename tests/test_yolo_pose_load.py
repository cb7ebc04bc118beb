"""Loading Ultralytics YOLO-pose checkpoints: the restricted unpickler, refusals, v8 and custom keypoints."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from devkit.shared_data import shared_data
from posekit.errors import MissingFileError, PosekitError
from posekit.families.yolo_pose.checkpoint import load_checkpoint, state_dict_of
from posekit.families.yolo_pose.unpickler import read_checkpoint
from tests.yolo_pose_helpers import random_network, save_ultralytics_checkpoint


def _torch_zip(path: Path, pickled: bytes) -> Path:
    """A torch.save-style zip archive holding `pickled` as its data.pkl."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{path.stem}/data.pkl", pickled)
        archive.writestr(f"{path.stem}/version", "3\n")
    return path


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def _one_line(info: pytest.ExceptionInfo) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"model": _RunsCode(marker)}, protocol=2)
    assert b"system" in payload
    for path in (_torch_zip(tmp_path / "evil.pt", payload), tmp_path / "evil-plain.pt"):
        if not path.exists():
            path.write_bytes(payload)  # a plain pickle, not a torch zip: refused before unpickling
        with pytest.raises(PosekitError) as info:
            load_checkpoint(path)
        message = _one_line(info)
        assert str(path) in message
        assert not marker.exists()
    with pytest.raises(PosekitError) as info:
        read_checkpoint(tmp_path / "evil.pt")
    assert _one_line(info) == (
        f"{tmp_path / 'evil.pt'}: refused: the pickle names the global posix.system, which a YOLO-pose "
        "checkpoint does not use (nothing in the file was run)"
    )
    # torch's own globals outside the list are refused too (here: an arbitrary torch function).
    sneaky = b"\x80\x02ctorch\nload\nq\x00."
    with pytest.raises(PosekitError, match=r"sneaky\.pt: refused: the pickle names the global torch\.load,"):
        read_checkpoint(_torch_zip(tmp_path / "sneaky.pt", sneaky))


@pytest.mark.parametrize(
    ("task_class", "expected"),
    [
        ("DetectionModel", "a YOLO detect checkpoint"),
        ("SegmentationModel", "a YOLO segment checkpoint"),
        ("ClassificationModel", "a YOLO classify checkpoint"),
        ("OBBModel", "a YOLO obb (oriented boxes) checkpoint"),
    ],
)
def test_other_tasks_are_refused_naming_what_they_are(tmp_path, task_class, expected):
    path = _torch_zip(
        tmp_path / "other.pt", f"\x80\x02cultralytics.nn.tasks\n{task_class}\n)\x81.".encode("latin1")
    )
    with pytest.raises(PosekitError) as info:
        load_checkpoint(path)
    assert _one_line(info).startswith(f"{path}: {expected} (it holds ultralytics.nn.tasks.{task_class})")


def test_detect_head_and_end_to_end_variants_are_refused(tmp_path, monkeypatch):
    net = random_network((17, 3))
    detect = save_ultralytics_checkpoint(tmp_path / "detect.pt", net, monkeypatch, head_class="Detect")
    with pytest.raises(PosekitError) as info:
        load_checkpoint(detect)
    assert _one_line(info) == (
        f"{detect}: a YOLO detect checkpoint (last layer Detect); "
        "posekit reads Ultralytics YOLOv8/YOLO11-pose checkpoints only"
    )
    monkeypatch.undo()
    from tests.yolo_pose_helpers import YOLOV8_POSE_ARCH

    e2e = save_ultralytics_checkpoint(
        tmp_path / "e2e.pt", random_network((17, 3)), monkeypatch, arch=dict(YOLOV8_POSE_ARCH, end2end=True)
    )
    with pytest.raises(PosekitError, match=r"e2e\.pt: an end-to-end \(NMS-free\) pose head"):
        load_checkpoint(e2e)
    monkeypatch.undo()
    yolo26 = _torch_zip(tmp_path / "y26.pt", b"\x80\x02cultralytics.nn.modules.head\nPose26\n)\x81.")
    with pytest.raises(PosekitError, match=r"y26\.pt: a YOLO26-pose end-to-end \(NMS-free\) checkpoint"):
        load_checkpoint(yolo26)


def test_the_keypoint_shape_comes_from_the_head_else_the_model_and_is_required(tmp_path, monkeypatch):
    net = random_network((5, 2))
    del net.model[-1].kpt_shape
    from_model = save_ultralytics_checkpoint(tmp_path / "from_model.pt", net, monkeypatch)
    assert load_checkpoint(from_model).kpt_shape == (5, 2)
    monkeypatch.undo()
    nowhere = save_ultralytics_checkpoint(tmp_path / "nowhere.pt", net, monkeypatch, model_kpt_shape=False)
    with pytest.raises(PosekitError) as info:
        load_checkpoint(nowhere)
    assert _one_line(info).startswith(f"{nowhere}: a pose model without its keypoint shape (kpt_shape)")


def test_truncated_non_pickle_and_missing_files_are_one_line(tmp_path):
    synthetic = shared_data("yolo-pose-synthetic") / "yolov8n-pose-random.pt"
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(synthetic.read_bytes()[:3_000_000])
    text = tmp_path / "notes.pt"
    text.write_text("these are not weights\n")
    garbage = _torch_zip(tmp_path / "garbage.pt", b"\x80\x02not a pickle at all")
    for path, expected in (
        (truncated, "not a torch checkpoint (a torch.save zip archive): truncated, or not a .pt file"),
        (text, "not a torch checkpoint (a torch.save zip archive): truncated, or not a .pt file"),
        (garbage, "not a readable checkpoint pickle"),
    ):
        with pytest.raises(PosekitError) as info:
            load_checkpoint(path)
        assert _one_line(info).startswith(f"{path}: {expected}")
    with pytest.raises(MissingFileError, match="YOLO-pose checkpoint not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_yolov8_c2f_branch_matches_the_synthetic_output():
    folder = shared_data("yolo-pose-synthetic")
    checkpoint = load_checkpoint(folder / "yolov8n-pose-random.pt")
    assert (checkpoint.family, checkpoint.scale, checkpoint.kpt_shape) == ("YOLOv8", "n", (17, 3))
    assert sum(p.numel() for p in checkpoint.network.parameters()) == 3_295_470
    assert all(p.dtype == torch.float32 for p in checkpoint.network.parameters())
    reference = np.load(folder / "yolov8n-pose-random-output.npz")
    with torch.no_grad():
        output = checkpoint.network(torch.from_numpy(reference["input"])).numpy()
    assert output.shape == reference["output"].shape == (1, 56, 1680)
    np.testing.assert_allclose(output, reference["output"], atol=2e-4, rtol=0)


def test_real_yolo11n_pose_state_dict_is_strict_and_complete(yolo11n_pose):
    checkpoint = load_checkpoint(yolo11n_pose)
    assert (checkpoint.family, checkpoint.scale, checkpoint.kpt_shape) == ("YOLO11", "n", (17, 3))
    assert checkpoint.license == "AGPL-3.0 License (https://ultralytics.com/license)"
    assert checkpoint.names == {0: "person"}
    stored = state_dict_of(read_checkpoint(yolo11n_pose)["model"])
    assert len(stored) == 541 and sum(v.numel() for k, v in stored.items() if "num_batches" not in k)
    assert sum(p.numel() for p in checkpoint.network.parameters()) == 2_874_462
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())


@pytest.mark.parametrize(("kpt_shape", "half"), [((5, 2), True), ((26, 3), False)])
def test_custom_keypoint_sets_load_in_fp16_and_fp32(tmp_path, monkeypatch, kpt_shape, half):
    net = random_network(kpt_shape, seed=3)
    x = torch.rand(1, 3, 128, 160, generator=torch.Generator().manual_seed(0))
    path = save_ultralytics_checkpoint(tmp_path / f"k{half}.pt", net, monkeypatch, half=half)
    monkeypatch.undo()
    loaded = load_checkpoint(path)
    assert loaded.kpt_shape == kpt_shape
    expected_net = random_network(kpt_shape, seed=3).half().float() if half else net
    with torch.no_grad():
        got, expected = loaded.network(x), expected_net(x)
    assert got.shape == (1, 4 + 1 + kpt_shape[0] * kpt_shape[1], 20 * 16 + 10 * 8 + 5 * 4)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-5)


def test_ema_is_preferred_over_model(tmp_path, monkeypatch):
    model_net, ema_net = random_network((17, 3), seed=1), random_network((17, 3), seed=2)
    path = save_ultralytics_checkpoint(tmp_path / "ema.pt", model_net, monkeypatch, half=False, ema=ema_net)
    monkeypatch.undo()
    loaded = load_checkpoint(path).network.state_dict()
    expected, other = ema_net.state_dict(), model_net.state_dict()
    key = "model.0.conv.weight"
    assert torch.equal(loaded[key], expected[key]) and not torch.equal(loaded[key], other[key])
