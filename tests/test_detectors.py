"""Detector behaviour shared by YOLOv3-SPP and YOLOX: NMS, un-letterboxing, batching, results files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from scipy.optimize import linear_sum_assignment

from posekit.detectors import build_detector
from posekit.detectors.batched import BatchedYoloDetector, fuse_batchnorm
from posekit.detectors.darknet import DarknetModel, parse_cfg_text
from posekit.detectors.letterbox import Placement, boxes_to_image, fit_image
from posekit.detectors.nms import crowd_nms
from posekit.detectors.yolov3 import YOLOv3SPPDetector, build_darknet
from posekit.detectors.yolox import YOLOXDetector
from posekit.detectors.yolox_net import YOLOX
from posekit.errors import MissingFileError, PosekitError
from posekit.geometry import box_iou as iou_matrix
from posekit.geometry import nms
from posekit.io.detections import write_detections
from posekit.io.images import list_images, read_image_rgb
from posekit.types import Detections, Poses
from tests.test_darknet import TINY_CFG, darknet_values, write_weights


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: these are correctness tests, and on a shared 2-core machine two OpenMP threads
    spin against other processes and run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_nms_greedy_is_not_transitive() -> None:
    # B overlaps A (IoU 0.8) and is dropped; C overlaps B (IoU 0.8) but A only 0.6, so C stays.
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [2, 0, 12, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    ious = iou_matrix(boxes, boxes)
    assert ious[0, 1] == pytest.approx(9 / 11) and ious[0, 2] == pytest.approx(8 / 12)
    assert nms(boxes, scores, 0.7).tolist() == [3, 0, 2]
    assert nms(boxes, scores, 0.9).tolist() == [3, 0, 1, 2]
    assert nms(boxes, scores, 0.5).tolist() == [3, 0]
    # IoU exactly at the threshold is kept (only IoU > threshold suppresses)
    assert nms(boxes[:2], scores[:2], 9 / 11).tolist() == [0, 1]
    # equal scores: the earlier index wins
    assert nms(boxes[:2], np.array([0.5, 0.5]), 0.5).tolist() == [0]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def _pairs(count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` far-apart pairs of boxes whose two members have IoU 0.58 (between 0.55 and 0.6)."""
    boxes, scores = [], []
    shift = 10 * 0.58 * 2 / (1 + 0.58)  # overlap width giving IoU 0.58 for 10x10 boxes shifted sideways
    for i in range(count):
        x = 100.0 * i
        boxes += [[x, 0, x + 10, 10], [x + 10 - shift, 0, x + 20 - shift, 10]]
        scores += [0.9 - i * 1e-3, 0.5 - i * 1e-3]
    return np.array(boxes), np.array(scores)


def test_crowd_rule_redoes_nms_stricter() -> None:
    boxes, scores = _pairs(60)
    assert iou_matrix(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(0.58)
    assert len(nms(boxes, scores, 0.6)) == 120  # more than 100 survive at 0.6 ...
    assert crowd_nms(boxes, scores, 0.6).tolist() == list(range(0, 120, 2))  # ... so redo at 0.55
    few_boxes, few_scores = _pairs(40)
    assert len(crowd_nms(few_boxes, few_scores, 0.6)) == 80  # 80 <= 100: no redo


def test_nms_matches_brute_force_on_random_boxes() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 300, (1500, 2))
    boxes = np.c_[xy, xy + rng.uniform(5, 80, (1500, 2))]
    scores = rng.uniform(size=1500)
    keep = nms(boxes, scores, 0.45)
    kept = boxes[keep]
    assert np.all(np.diff(scores[keep]) <= 0)
    assert (iou_matrix(kept, kept)[np.triu_indices(len(kept), 1)] <= 0.45).all()  # survivors never overlap
    dropped = np.setdiff1d(np.arange(1500), keep)  # every dropped box overlaps a better kept one
    overlaps = iou_matrix(boxes[dropped], kept) > 0.45
    better = scores[keep][None, :] >= scores[dropped][:, None]
    assert (overlaps & better).any(axis=1).all()


def test_letterbox_centered_and_back_exact() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[25:75, 50:150] = 255
    canvas, placement = fit_image(image, 64, 128, True, cv2.INTER_CUBIC)
    assert placement == Placement(0.32, 0.32, 0, 16)
    assert np.all(canvas[:16] == 128) and np.all(canvas[48:] == 128)
    assert np.all(canvas[26:38, 18:46] == 255)  # the white block lands at y 24..40, x 16..48
    box_in_input = np.array([[16, 24, 48, 40]], float)
    np.testing.assert_allclose(boxes_to_image(box_in_input, placement, (100, 200)), [[50, 25, 150, 75]])
    outside = np.array([[-10, 0, 70, 70]], float)  # AlphaPose clamps to [0, W] x [0, H] (facts §13)
    np.testing.assert_allclose(boxes_to_image(outside, placement, (100, 200)), [[0, 0, 200, 100]])
    _, top_left = fit_image(np.zeros((50, 20, 3), np.uint8), 64, 114, False, cv2.INTER_LINEAR)
    assert top_left == Placement(25 / 20, 64 / 50, 0, 0)


class FixedModel(torch.nn.Module):
    """Returns the same decoded predictions for every image of the batch."""

    def __init__(self, rows: list[list[float]]) -> None:
        super().__init__()
        self.register_buffer("rows", torch.tensor(rows, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rows.expand(x.shape[0], -1, -1)


def _row(cx: float, cy: float, w: float, h: float, obj: float, person: float, other: float) -> list[float]:
    return [cx, cy, w, h, obj, person, other]


def test_yolov3_postprocess_end_to_end() -> None:
    rows = [
        _row(32, 32, 32, 16, 0.9, 0.8, 0.1),  # person, letterbox coords x 16..48, y 24..40
        _row(33, 32, 32, 16, 0.8, 0.9, 0.0),  # same person, lower objectness: suppressed
        _row(10, 10, 4, 4, 0.95, 0.2, 0.7),  # best class is not person: dropped
        _row(50, 20, 8, 8, 0.1, 0.9, 0.0),  # objectness not > 0.1: dropped
        _row(50, 20, 8, 8, 0.3, 0.9, 0.0),  # kept, second
    ]
    det = YOLOv3SPPDetector.__new__(YOLOv3SPPDetector)
    BatchedYoloDetector.__init__(det, "yolo", FixedModel(rows), "cpu", 64, 0.1, 0.6, 2)
    image = np.zeros((100, 200, 3), np.uint8)
    results = det.detect([image, image, image])
    assert len(results) == 3
    for result in results:
        np.testing.assert_allclose(result.boxes, [[50, 25, 150, 75], [143.75, 0, 168.75, 25]], rtol=1e-6)
        np.testing.assert_allclose(result.scores, [0.9, 0.3], rtol=1e-6)


def _alphapose_yolox_postprocess(rows, ratio, image_hw, conf=0.1, nms_thres=0.6):
    """Transcription of AlphaPose's YOLOX post-processing (facts §13): class_conf = max over all
    classes; keep obj * class_conf >= conf when the argmax class is person; NMS in descending
    obj * class_conf; hand on (box / letterbox ratio, clamped to [0, W] x [0, H], objectness)."""
    candidates = []
    for cx, cy, w, h, obj, *classes in rows:
        class_conf = max(classes)
        if obj * class_conf >= conf and classes.index(class_conf) == 0:
            candidates.append(([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], obj * class_conf, obj))
    candidates.sort(key=lambda c: -c[1])
    kept = []
    for box, rank, obj in candidates:
        if all(iou_matrix(np.array([box]), np.array([k[0]]))[0, 0] <= nms_thres for k in kept):
            kept.append((box, rank, obj))
    height, width = image_hw
    limits = [width, height, width, height]
    boxes = [[min(max(v / ratio, 0), lim) for v, lim in zip(box, limits)] for box, _, _ in kept]
    return np.array(boxes), np.array([obj for _, _, obj in kept])


def test_yolox_thresholds_and_ranks_by_obj_times_class_but_reports_objectness() -> None:
    rows = [
        [32, 16, 32, 16, 0.5, 0.9, 0.0],  # kept: rank 0.45, score 0.5
        [33, 16, 32, 16, 0.9, 0.4, 0.0],  # higher objectness, lower product (0.36): suppressed by the first
        [10, 40, 4, 4, 0.9, 0.3, 0.6],  # best class is not person: dropped
        [50, 5, 8, 8, 0.2, 0.45, 0.0],  # product 0.09 < 0.1 (objectness alone would pass): dropped
        [60, 30, 10, 8, 0.25, 0.8, 0.1],  # kept: rank 0.2, score 0.25; past the right and bottom edges
        [5, 5, 6, 6, 0.95, 0.3, 0.2],  # kept: rank 0.285, score 0.95 (ranked by product, not objectness)
    ]
    det = YOLOXDetector.__new__(YOLOXDetector)
    BatchedYoloDetector.__init__(det, "yolox-s", FixedModel(rows), "cpu", 64, 0.1, 0.6, None)
    image = np.zeros((100, 200, 3), np.uint8)  # fits 64x64 at ratio 0.32 exactly (top-left)
    result = det.detect([image])[0]
    boxes, scores = _alphapose_yolox_postprocess(rows, 0.32, (100, 200))
    np.testing.assert_allclose(result.boxes, boxes, rtol=1e-6)
    np.testing.assert_allclose(result.scores, scores, rtol=1e-6)
    assert result.scores.tolist() == pytest.approx([0.5, 0.95, 0.25])
    assert result.boxes[2].tolist() == pytest.approx([171.875, 81.25, 200.0, 100.0])  # clamped to W, H


def _yolov3_weights(path: Path) -> None:
    """Random YOLOv3-SPP weights, damped so activations stay finite; outputs give some persons."""
    model = build_darknet()
    arrays = darknet_values(model, np.random.default_rng(0))
    i = 0
    for layer in model.conv_layers():
        n = 4 if hasattr(layer, "bn") else 1
        arrays[i + n] *= 0.5
        if n == 1:  # output layers: spread the logits, objectness mostly low, person often the top class
            arrays[i + n] *= 40
            bias = arrays[i].reshape(3, 85)
            bias[:, 4], bias[:, 5] = -3.0, 6.0
        i += n + 1
    write_weights(path, arrays)


@pytest.fixture(scope="module")
def coco_images(coco_mini: Path) -> list[np.ndarray]:
    return [read_image_rgb(p) for p in list_images(coco_mini / "val2017")]


def _same(a: list[Detections], b: list[Detections]) -> None:
    """Same detections per image up to float noise (near-equal scores may swap places)."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert len(x) == len(y)
        rows_x = np.c_[x.boxes, x.scores * 1000]
        rows_y = np.c_[y.boxes, y.scores * 1000]
        distance = np.abs(rows_x[:, None, :] - rows_y[None, :, :]).max(axis=2)
        rows, cols = linear_sum_assignment(distance)
        assert distance[rows, cols].max(initial=0) < 1e-2


def _batch_invariant(detector: BatchedYoloDetector, images: list[np.ndarray]) -> list[Detections]:
    """Network outputs and detections agree between batch size 1 and one batch of all images."""
    single = torch.cat([detector.forward([image])[0] for image in images])
    torch.testing.assert_close(detector.forward(images)[0], single, rtol=1e-4, atol=1e-3)
    detector.batch_size = 1
    one = detector.detect(images)
    detector.batch_size = len(images)
    _same(one, detector.detect(images))
    return one


def test_yolov3_batch_size_does_not_change_results(tmp_path: Path, coco_images: list[np.ndarray]) -> None:
    _yolov3_weights(tmp_path / "yolov3-spp.weights")
    weights = str(tmp_path / "yolov3-spp.weights")
    detections = _batch_invariant(build_detector("yolo", weights=weights, inp_dim=128), coco_images[:3])
    assert sum(len(d) for d in detections) > 0


def _yolox_checkpoint(size: str, path: Path, images: list[np.ndarray], inp_dim: int) -> Path:
    """Random YOLOX weights in the official layout whose objectness lets ~3% of anchors through."""
    torch.manual_seed(0)
    state = YOLOX(size).state_dict()
    for key, value in state.items():  # random batch-norm statistics so features vary across the image
        if key.endswith(("running_var", "bn.weight")):
            value.uniform_(0.5, 1.5)
        elif key.endswith(("running_mean", "bn.bias")):
            value.normal_(0, 0.1)
    for k in range(3):
        state[f"head.obj_preds.{k}.weight"] *= 100
        state[f"head.cls_preds.{k}.bias"][0] = 4.0  # person the likeliest class
    torch.save({"model": state}, path)
    preds, _ = build_detector(f"yolox-{size}", weights=str(path), inp_dim=inp_dim).forward(images[:1])
    logits = torch.logit(preds[..., 4]).flatten()
    shift = float(torch.logit(torch.tensor(0.11)) - torch.quantile(logits, 0.97))
    for k in range(3):
        state[f"head.obj_preds.{k}.bias"] += shift
    torch.save({"model": state}, path)
    return path


@pytest.mark.parametrize("size", ["nano", "s"])
def test_yolox_batch_size_does_not_change_results(
    size: str, tmp_path: Path, coco_images: list[np.ndarray]
) -> None:
    weights = str(_yolox_checkpoint(size, tmp_path / f"yolox_{size}.pth", coco_images, 256))
    detections = _batch_invariant(build_detector(f"yolox-{size}", weights=weights, inp_dim=256), coco_images)
    assert sum(len(d) for d in detections) > 0
    for dets, image in zip(detections, coco_images):
        assert np.all(dets.boxes[:, [0, 2]] <= image.shape[1]) and np.all(dets.boxes >= 0)
        assert np.all(dets.boxes[:, [1, 3]] <= image.shape[0])


class ConstantPose:
    """A PoseModel stand-in: every keypoint at the box centre with score 0.5."""

    num_joints = 17
    pose_nms = True

    def estimate(self, image: np.ndarray, people: Detections, hints: object = None) -> Poses:
        boxes = people.boxes
        centres = (boxes[:, None, :2] + boxes[:, None, 2:]) / 2
        return Poses(np.repeat(centres, 17, axis=1), np.full((len(boxes), 17), 0.5))


def test_validation_reads_the_detections_a_detector_writes(
    tmp_path: Path, coco_mini: Path, coco_images: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DET_FILE missing: validation runs the detector (found at the seed path) and reads its file back."""
    from posekit.config import DatasetSplit, load_config
    from posekit.evaluate.validate import det_box_results, ensure_detections

    weights = tmp_path / "detector/yolox/data/yolox_nano.pth"
    weights.parent.mkdir(parents=True)
    _yolox_checkpoint("nano", weights, coco_images, 640)
    monkeypatch.chdir(tmp_path)
    cfg = load_config(Path(__file__).parents[1] / "configs/tests/tiny_res18_128x96.yaml")
    cfg.dataset.test = DatasetSplit(
        root=str(coco_mini),
        ann="annotations/person_keypoints_val2017.json",
        img_prefix="val2017",
        det_file=str(tmp_path / "dets/test_det.json"),
    )
    det_file = ensure_detections(cfg, "yolox-nano")
    written = json.loads(det_file.read_text())
    ids = sorted(COCO(str(cfg.dataset.test.ann_path)).getImgIds())
    assert {e["image_id"] for e in written} <= set(ids) and len(written) > 0
    first = next(e["image_id"] for e in written)
    image = read_image_rgb(coco_mini / f"val2017/{first:012d}.jpg")
    again = build_detector("yolox-nano").detect([image])[0]  # same weights, found at the seed path
    entries = [e for e in written if e["image_id"] == first]
    assert len(entries) == len(again)
    np.testing.assert_allclose([e["bbox"][:2] for e in entries], again.boxes[:, :2], rtol=1e-5, atol=1e-3)
    results = det_box_results(ConstantPose(), cfg, det_file)
    assert len(results) == len(written)


def test_missing_weights_say_where_they_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    with pytest.raises(MissingFileError) as err:
        build_detector("yolo")
    message = str(err.value)
    assert "yolov3-spp.weights" in message and "./detector/yolo/data/yolov3-spp.weights" in message
    assert "posekit models list" in message and "\n" not in message
    with pytest.raises(MissingFileError, match=r"\./detector/yolox/data/yolox_x\.pth"):
        build_detector("yolox")
    with pytest.raises(MissingFileError, match=r"not found: nowhere\.pth"):
        build_detector("yolox-s", weights="nowhere.pth")
    with pytest.raises(PosekitError, match="multiple of 32"):
        torch.save({"model": YOLOX("nano").state_dict()}, tmp_path / "n.pth")
        build_detector("yolox-nano", weights=str(tmp_path / "n.pth"), inp_dim=100)


def test_weights_lookup_order_explicit_then_seed_path_then_models_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posekit.paths import find_user_file

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    seed = "detector/yolox/data/yolox_s.pth"
    in_models = tmp_path / "home" / "models" / "yolox_s.pth"
    in_models.parent.mkdir(parents=True)
    in_models.write_bytes(b"m")
    assert find_user_file(seed) == in_models
    (tmp_path / seed).parent.mkdir(parents=True)
    (tmp_path / seed).write_bytes(b"s")
    assert find_user_file(seed) == tmp_path / seed  # the seed path under the working directory wins
    (tmp_path / "mine.pth").write_bytes(b"e")
    assert find_user_file(seed, explicit="mine.pth") == Path("mine.pth")
    with pytest.raises(MissingFileError) as err:
        find_user_file(seed, explicit="other.pth", what="yolox-s weights")
    message = str(err.value)
    assert message.startswith("yolox-s weights not found: other.pth (the path given); put yolox_s.pth at")
    assert "./detector/yolox/data/yolox_s.pth" in message and "posekit models list" in message


@pytest.mark.parametrize(
    ("extra", "weights", "tracking"),
    [([], None, False), (["--detector_weights", "w.pth", "--pose_track"], "w.pth", True)],
)
def test_infer_passes_detector_weights_and_tracking(
    extra: list[str], weights: str | None, tracking: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--detector_weights reaches the detector, and so does tracking (YOLOv3's 0.3 threshold)."""
    from posekit.cli.main import main

    seen: dict = {}

    def capture(name: str, **kwargs):
        seen.update(kwargs, name=name)
        raise PosekitError("detector captured")

    monkeypatch.setattr("posekit.detectors.build_detector", capture)
    (tmp_path / "a.jpg").write_bytes(b"")
    argv = ["infer", "--detector", "yolo", "--indir", str(tmp_path), "--outdir", str(tmp_path / "o")]
    assert main(argv + extra) == 1
    assert seen == {
        "name": "yolo",
        "weights": weights,
        "device": "cpu",
        "tracking": tracking,
        "backend": "auto",
        "precision": "auto",
    }


def test_yolov3_threshold_is_03_while_tracking(tmp_path: Path) -> None:
    _yolov3_weights(tmp_path / "yolov3-spp.weights")
    weights = str(tmp_path / "yolov3-spp.weights")
    assert build_detector("yolo", weights=weights).conf_thres == pytest.approx(0.1)
    assert build_detector("yolo", weights=weights, tracking=True).conf_thres == pytest.approx(0.3)


def test_detection_results_for_coco_mini(tmp_path: Path, coco_mini: Path) -> None:
    """Real detections re-written through write_detections read back identically and load in pycocotools."""
    reference = json.loads((coco_mini / "annotations/person_detections_val2017.json").read_text())
    gt = COCO(str(coco_mini / "annotations/person_keypoints_val2017.json"))
    image_ids = sorted(gt.getImgIds())
    per_image = []
    for image_id in image_ids:
        entries = [e for e in reference if e["image_id"] == image_id]
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (e["bbox"] for e in entries)], np.float64)
        per_image.append(Detections(boxes.reshape(-1, 4), np.array([e["score"] for e in entries])))
    out = write_detections(tmp_path / "dets.json", per_image, image_ids)
    written = json.loads(out.read_text())
    assert len(written) == len(reference)
    expected = sorted(reference, key=lambda e: (e["image_id"], -e["score"]))
    got = sorted(written, key=lambda e: (e["image_id"], -e["score"]))
    for w, e in zip(got, expected):
        assert list(w) == ["image_id", "category_id", "bbox", "score"]
        assert (w["image_id"], w["category_id"]) == (e["image_id"], 1)
        np.testing.assert_allclose(w["bbox"], e["bbox"], rtol=1e-9, atol=1e-9)
        assert w["score"] == pytest.approx(e["score"], rel=1e-7)
    loaded = gt.loadRes(str(out))
    assert len(loaded.getAnnIds()) == len(reference)
    with pytest.raises(ValueError, match="2 detection sets for 1 image ids"):
        write_detections(tmp_path / "bad.json", per_image[:2], image_ids[:1])


def test_batchnorm_fusion_keeps_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = YOLOX("nano").eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.1)
    x = torch.rand(2, 3, 96, 128) * 255
    with torch.no_grad():
        expected = model(x)
        fused = fuse_batchnorm(model)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
        torch.testing.assert_close(fused(x), expected, rtol=1e-4, atol=1e-4)
    darknet = DarknetModel(parse_cfg_text(TINY_CFG)).eval()
    for module in darknet.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        x = torch.rand(1, 3, 64, 64)
        expected = darknet(x)
        torch.testing.assert_close(fuse_batchnorm(darknet)(x), expected, rtol=1e-4, atol=1e-4)


def test_batchnorm_without_running_statistics_is_left_unfolded() -> None:
    # Such a BatchNorm normalises by each batch's own statistics even in eval mode: no conv can hold it.
    block = torch.nn.Module()
    block.conv, block.bn = torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4, track_running_stats=False)
    block.eval()
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        expected = block.bn(block.conv(x))
        fuse_batchnorm(block)
        assert isinstance(block.bn, torch.nn.BatchNorm2d)
        torch.testing.assert_close(block.bn(block.conv(x)), expected)
