"""posekit.runtime: every backend against fp32 torch on real images, for the detectors' networks and their
boxes after post-processing; backend choice, precision and tracing rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from posekit.detectors import build_detector
from posekit.detectors.batched import RawOutputs
from posekit.detectors.darknet import DarknetModel, parse_cfg
from posekit.errors import PosekitError
from posekit.geometry import box_iou
from posekit.io.images import list_images, read_image_rgb
from posekit.runtime import (
    BACKEND_CHOICES,
    BACKENDS,
    build_runner,
    check_backend_device,
    on_cpu,
    resolve_backend,
)
from posekit.runtime.onnx_backend import OnnxBackend
from posekit.runtime.openvino_backend import OpenVinoBackend
from posekit.runtime.sized import MAX_CACHED_SIZES
from posekit.runtime.torch_backend import TorchBackend
from posekit.runtime.trace import trace_to_onnx
from tests.test_darknet import TINY_CFG, darknet_values, write_weights
from tests.test_detectors import _same, _yolox_checkpoint

pytest.importorskip("onnxruntime")
pytest.importorskip("openvino")

# (backend, precision) paths checked against torch fp32, with the tolerance each one meets.
FP32_PATHS = [("onnx", "fp32"), ("openvino", "fp32")]  # and the torch fp32 reference itself
BF16_PATHS = [("torch", "bf16"), ("openvino", "bf16")]


@pytest.fixture(scope="module")
def coco_images(coco_mini: Path) -> list[np.ndarray]:
    return [read_image_rgb(p) for p in list_images(coco_mini / "val2017")]


@pytest.fixture(scope="module")
def yolox_weights(tmp_path_factory, coco_images) -> Path:
    folder = tmp_path_factory.mktemp("yolox")
    return _yolox_checkpoint("nano", folder / "yolox_nano.pth", coco_images, 256)


@pytest.fixture(scope="module")
def tiny_yolo(tmp_path_factory) -> dict:
    """build_detector options for a tiny darknet network (tests.test_darknet's cfg) with random weights."""
    folder = tmp_path_factory.mktemp("tiny-yolo")
    cfg = folder / "tiny.cfg"
    cfg.write_text(TINY_CFG)
    net = DarknetModel(parse_cfg(cfg), source=str(cfg)).eval()
    write_weights(folder / "tiny.weights", darknet_values(net, np.random.default_rng(4)))
    return {"weights": str(folder / "tiny.weights"), "cfg": str(cfg), "inp_dim": 64, "conf_thres": 0.5}


def _inputs(detector, images) -> np.ndarray:
    return np.stack([detector.preprocess(image)[0] for image in images])


def match_boxes(got, want) -> tuple[float, float, float, int]:
    """Detections of each image against reference ones: (mean IoU of boxes matched one to one by least
    largest corner distance, over reference boxes of non-zero area; max corner distance of those
    matches in px; max difference of the scores ranked best first; max change in box count)."""
    ious, corner, score, count = [], 0.0, 0.0, 0
    for a, b in zip(got, want):
        count = max(count, abs(len(a) - len(b)))
        if len(a) == 0 or len(b) == 0:
            continue
        distance = np.abs(a.boxes[:, None, :] - b.boxes[None, :, :]).max(axis=2)
        rows, cols = linear_sum_assignment(distance)
        iou = box_iou(a.boxes[rows], b.boxes[cols]).diagonal()
        area = np.prod(b.boxes[cols, 2:] - b.boxes[cols, :2], axis=1)
        ious.extend(iou[area > 0])
        corner = max(corner, float(distance[rows, cols].max()))
        k = min(len(a), len(b))
        score = max(score, float(np.abs(np.sort(a.scores)[::-1][:k] - np.sort(b.scores)[::-1][:k]).max()))
    return (float(np.mean(ious)) if ious else float("nan")), corner, score, count


def _matched(got, want) -> tuple[float, float, int]:
    """(mean IoU, max score difference, boxes) of bf16 detections against fp32 ones; few boxes change."""
    iou, _, score, count = match_boxes(got, want)
    total = sum(len(b) for b in want)
    assert count <= max(2, total // 20)  # boxes at the thresholds may flip
    return iou, score, total


def test_registry_auto_and_precision_rules(tmp_path):
    assert set(BACKENDS) == {"torch", "onnx", "openvino"} and BACKEND_CHOICES[0] == "auto"
    assert resolve_backend("auto", tmp_path / "net.onnx") == "onnx"
    assert resolve_backend("auto", device="cpu") == "openvino"  # openvino is installed here
    assert resolve_backend("auto", device="cuda:0") == "torch"


def test_auto_without_openvino_is_torch_bf16_or_onnxruntime_fp32(monkeypatch):
    import posekit.runtime.build as build
    import posekit.runtime.openvino_backend as ov

    monkeypatch.setattr(ov, "openvino_available", lambda: False)
    monkeypatch.setattr(build, "cpu_has_native_bf16", lambda: True)
    assert resolve_backend("auto") == "torch"
    monkeypatch.setattr(build, "cpu_has_native_bf16", lambda: False)
    assert resolve_backend("auto") == "onnx" and resolve_backend("auto", device="cuda") == "torch"


def test_registry_builds_each_backend_and_refuses_bad_requests():
    net = torch.nn.Conv2d(3, 4, 3)
    assert isinstance(build_runner(net, (1, 3, 16, 16)), OpenVinoBackend)
    assert isinstance(build_runner(net, (1, 3, 16, 16), "onnx"), OnnxBackend)
    assert isinstance(build_runner(net, (1, 3, 16, 16), "torch"), TorchBackend)
    with pytest.raises(PosekitError, match="onnxruntime runs fp32"):
        build_runner(net, (1, 3, 16, 16), "onnx", precision="bf16")
    with pytest.raises(PosekitError, match=r"\(N, 3, H, W\)"):
        build_runner(net, (3, 16, 16))
    with pytest.raises(PosekitError, match="unknown backend"):
        build_runner(net, (1, 3, 16, 16), "tensorrt")
    refused = r"^the openvino backend runs on the CPU, not cuda:0: use --backend torch$"
    with pytest.raises(PosekitError, match=refused):
        build_runner(net, (1, 3, 16, 16), "openvino", device="cuda:0")
    with pytest.raises(PosekitError, match=refused):
        check_backend_device("openvino", "cuda:0")
    check_backend_device("openvino", torch.device("cpu"))
    assert on_cpu("cpu") and on_cpu("cpu:0") and on_cpu(torch.device("cpu")) and not on_cpu("cuda")


def test_every_backend_matches_torch_fp32_on_coco_images(yolox_weights, coco_images):
    """YOLOX-nano on the coco-val-mini images through each path: the raw per-scale maps (tensors) and
    the boxes after the detector's post-processing, against the torch fp32 network."""
    options = {"weights": str(yolox_weights), "inp_dim": 256}
    reference = build_detector("yolox-nano", backend="torch", precision="fp32", **options)
    want_boxes = reference.detect(coco_images)
    assert sum(len(d) for d in want_boxes) > 0
    batch = _inputs(reference, coco_images)
    with torch.inference_mode():
        want = [t.numpy() for t in RawOutputs(reference.model)(torch.from_numpy(batch))]
    assert [w.shape for w in want] == [(4, 85, 32, 32), (4, 85, 16, 16), (4, 85, 8, 8)]
    for backend, precision in [("torch", "fp32"), *FP32_PATHS, *BF16_PATHS]:
        det = reference if backend == "torch" and precision == "fp32" else None
        det = det or build_detector("yolox-nano", backend=backend, precision=precision, **options)
        got = det.runners(batch)
        assert isinstance(got, tuple) and len(got) == 3
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == np.float32
            # measured: fp32 paths <= 5e-7 of the largest value, bf16 <= 2.5e-3
            limit = 1e-5 if precision == "fp32" else 0.01
            assert np.abs(g - w).max() <= limit * np.abs(w).max(), (backend, precision)
        boxes = det.detect(coco_images)
        if precision == "fp32":
            _same(boxes, want_boxes)
        else:  # measured on 840 boxes: mean IoU >= 0.9990, scores within 0.0022
            iou, score, _ = _matched(boxes, want_boxes)
            assert iou > 0.995 and score < 0.01, (backend, iou, score)


def test_yolov3_boxes_match_torch_fp32_on_openvino(tiny_yolo, coco_images):
    options = tiny_yolo
    want = build_detector("yolo", backend="torch", precision="fp32", **options).detect(coco_images)
    assert sum(len(d) for d in want) > 0
    _same(build_detector("yolo", backend="openvino", precision="fp32", **options).detect(coco_images), want)
    bf16 = build_detector("yolo", **options)  # auto: openvino, bf16 on this CPU
    assert bf16.backend == "openvino"
    # measured: mean IoU 0.967, scores within 0.0075 (a random 8-filter net: ~780 dense boxes per image,
    # 6 of which cross the thresholds; bf16 noise is larger than on a trained network)
    iou, score, _ = _matched(bf16.detect(coco_images), want)
    assert iou > 0.95 and score < 0.02, (iou, score)


def test_runner_per_input_size_is_cached_and_bounded(tiny_yolo, coco_images):
    det = build_detector("yolo", backend="onnx", **tiny_yolo)
    first = det.detect(coco_images[:1])
    runner = det.runners.runner((64, 64))
    assert det.runners.runner((64, 64)) is runner
    det.conf_thres = 0.95  # few boxes: larger inputs give many more, and NMS time is not the point here
    for size in (96, 128, 160, 192):
        det.input_size = size
        assert len(det.detect(coco_images[:1])) == 1 and (size, size) in det.runners.runners
    assert len(det.runners.runners) == MAX_CACHED_SIZES and (64, 64) not in det.runners.runners
    det.input_size, det.conf_thres = 64, tiny_yolo["conf_thres"]
    assert sum(len(d) for d in first) > 0
    _same(det.detect(coco_images[:1]), first)


def test_dynamic_hw_trace_runs_any_size_like_a_fixed_one(tiny_yolo, tmp_path, coco_images):
    net = RawOutputs(build_detector("yolo", backend="torch", **tiny_yolo).model)
    sample = np.zeros((1, 3, 64, 64), np.float32)
    assert trace_to_onnx(net, sample, tmp_path / "a.onnx", 13, True, dynamic_hw=True) == [
        "output0",
        "output1",
    ]
    dynamic = OnnxBackend(tmp_path / "a.onnx")
    assert dynamic.input_hw is None and dynamic.fixed_batch is None
    ov_dynamic = build_runner(net, sample.shape, "openvino", "fp32", dynamic_hw=True)
    image = coco_images[0][:128, :96].transpose(2, 0, 1)[None].astype(np.float32) / 255
    fixed = build_runner(net, image.shape, "onnx")(image)
    for runner in (dynamic, ov_dynamic):
        for got, want in zip(runner(image), fixed):
            assert got.shape == want.shape
            assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_yolo_pose_network_on_every_backend_matches_torch_fp32(yolo11n_pose, coco_mini):
    """YOLO11n-pose on a real photo: the decoded head output and the people (boxes, keypoints, scores)
    of onnxruntime / OpenVINO against the torch fp32 network; each compiled once per letterbox size."""
    from posekit.families.yolo_pose.detector import YoloPoseDetector
    from posekit.families.yolo_pose.preprocess import preprocess

    image = read_image_rgb(coco_mini / "val2017" / "000000196141.jpg")
    batch, _ = preprocess([image])
    reference = YoloPoseDetector(weights=str(yolo11n_pose), backend="torch", precision="fp32")
    with torch.inference_mode():
        want = reference.network(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(reference.run_network(batch), want, atol=1e-3, rtol=1e-5)
    people = reference.predict([image])[0]
    assert len(people.boxes) >= 3
    # measured: fp32 paths' box rows (pixels) within 9e-4 of torch, class scores within 1.4e-5
    for backend, precision, px, prob in [("onnx", "fp32", 5e-3, 1e-4), ("openvino", "fp32", 5e-3, 1e-4)]:
        det = YoloPoseDetector(weights=str(yolo11n_pose), backend=backend, precision=precision)
        got = det.run_network(batch)
        assert list(det.runners.runners) == [tuple(batch.shape[2:])]
        np.testing.assert_allclose(got[:, :4], want[:, :4], atol=px)
        np.testing.assert_allclose(got[:, 4], want[:, 4], atol=prob)
        found = det.predict([image])[0]
        assert len(found.boxes) == len(people.boxes)
        np.testing.assert_allclose(found.boxes, people.boxes, atol=0.01)
        np.testing.assert_allclose(found.keypoints, people.keypoints, atol=0.01)
        np.testing.assert_allclose(found.scores, people.scores, atol=1e-4)
    bf16 = YoloPoseDetector(weights=str(yolo11n_pose))  # auto: OpenVINO bf16 on this CPU
    assert bf16.backend == "openvino"
    found = bf16.predict([image])[0]
    assert len(found.boxes) == len(people.boxes)
    # measured: IoU >= 0.991, keypoints within 0.68 px, scores within 0.0045 (the decode is fp32)
    assert box_iou(found.boxes, people.boxes).diagonal().min() > 0.98
    assert np.abs(found.keypoints - people.keypoints).max() < 2.0
    assert np.abs(found.scores - people.scores).max() < 0.015
