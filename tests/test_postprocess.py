"""Heatmap decoding, flip test, pose NMS and the results writer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from posekit.errors import PosekitError
from posekit.geometry import crop_person, heatmap_to_image_coords
from posekit.io.results import OPENPOSE_ORDER, read_results, result_entries, write_results
from posekit.pose.decode import decode_heatmaps
from posekit.pose.estimator import TopDownEstimator
from posekit.pose.flip import flip_heatmaps
from posekit.pose.nms import pose_nms
from posekit.runtime.torch_backend import TorchBackend
from posekit.skeleton import FLIP_PAIRS
from posekit.types import Detections, PoseResult

HM = (64, 48)


def _gaussian_maps(centers: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    ys, xs = np.mgrid[0 : HM[0], 0 : HM[1]]
    maps = [np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)) for cx, cy in centers]
    return np.array(maps, dtype=np.float32)[None]


def test_decode_subpixel_centres_plain_and_refined():
    rng = np.random.default_rng(0)
    centres = np.column_stack([rng.uniform(4, 43, 17), rng.uniform(4, 59, 17)])
    maps = _gaussian_maps(centres)
    box = np.array([[0.0, 0.0, 48.0, 64.0]])  # heatmap px == image px
    plain, scores = decode_heatmaps(maps, box)
    refined, _ = decode_heatmaps(maps, box, subpixel=True)
    assert np.abs(plain[0] - centres).max() <= 0.25 + 1e-6
    assert np.abs(refined[0] - centres).max() <= 0.05
    assert np.all(scores > 0.85)


def test_decode_quarter_offset_rules():
    maps = np.zeros((1, 2, *HM), np.float32)
    maps[0, 0, 10, 10], maps[0, 0, 10, 11], maps[0, 0, 11, 10] = 1.0, 0.5, 0.5  # right and down
    maps[0, 1, 0, 30] = 1.0  # on the border: no offset
    coords, scores = decode_heatmaps(maps, np.array([[0.0, 0.0, 48.0, 64.0]]))
    np.testing.assert_allclose(coords[0], [[10.25, 10.25], [30.0, 0.0]])
    np.testing.assert_allclose(scores[0], [1.0, 1.0])
    empty, _ = decode_heatmaps(-np.ones((1, 1, *HM), np.float32), np.array([[5.0, 7.0, 53.0, 71.0]]))
    np.testing.assert_allclose(empty[0, 0], [5.0, 7.0])  # zeroed, then mapped to the crop corner


def test_decode_after_crop_round_trips_image_points():
    image = np.zeros((400, 600, 3), np.uint8)
    box = np.array([220.0, 80.0, 330.0, 360.0])
    _, crop_box = crop_person(image, box, (256, 192))
    points = np.array([[250.0, 100.0], [300.0, 340.0], [275.5, 210.25]])
    hm_xy = (points - crop_box[:2]) / (crop_box[2:] - crop_box[:2]) * [48, 64]
    maps = _gaussian_maps(hm_xy)
    decoded, _ = decode_heatmaps(maps, crop_box[None], subpixel=True)
    cell = (crop_box[2] - crop_box[0]) / 48
    assert np.abs(decoded[0] - points).max() < 0.05 * cell
    np.testing.assert_allclose(heatmap_to_image_coords(hm_xy[None], crop_box[None], HM)[0], points)


def test_flip_heatmaps_mirrors_swaps_and_shifts():
    maps = np.zeros((1, 17, *HM), np.float32)
    maps[0, 5, 20, 10] = 1.0  # left shoulder at x=10
    back = flip_heatmaps(maps, FLIP_PAIRS)
    assert np.argwhere(back[0, 6]).tolist() == [[20, 48 - 1 - 10 + 1]]  # right shoulder, mirrored + shift
    assert not back[0, 5].any()


def test_flip_test_on_symmetric_input_gives_symmetric_pose():
    from posekit.config import load_config
    from posekit.models.builder import build_pose_model

    torch.manual_seed(1)
    cfg = load_config("configs/tests/tiny_res18_128x96.yaml")
    estimator = TopDownEstimator(
        TorchBackend(build_pose_model(cfg.model, cfg.data_preset)), (128, 96), (32, 24), flip=True
    )
    rng = np.random.default_rng(0)
    half = rng.integers(0, 255, (200, 100, 3), dtype=np.uint8)
    image = np.concatenate([half, half[:, ::-1]], axis=1)  # mirror-symmetric about x = 99.5
    # The crop maps the box centre to pixel 48 of 96, so it samples the image symmetrically when the
    # centre sits half a crop pixel right of the axis: the crop itself is then mirror-symmetric.
    crop_scale = 96 / (160 * 1.25 * 0.75)
    centre = 99.5 + 0.5 / crop_scale
    box = np.array([[centre - 60, 20.0, centre + 60, 180.0]])
    keypoints = estimator.estimate(image, Detections.from_boxes(box)).keypoints
    for a, b in FLIP_PAIRS:
        assert keypoints[0, a, 1] == pytest.approx(keypoints[0, b, 1])
        assert (keypoints[0, a, 0] + keypoints[0, b, 0]) / 2 == pytest.approx(centre)


def _gt_people(coco_mini, image_id: int):
    data = json.loads((coco_mini / "annotations/person_keypoints_val2017.json").read_text())
    anns = [a for a in data["annotations"] if a["image_id"] == image_id and a["num_keypoints"] > 0]
    kps = np.array([a["keypoints"] for a in anns], dtype=float).reshape(len(anns), 17, 3)
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)])
    scores = np.where(kps[..., 2] > 0, 0.9, 0.05)
    return boxes, kps[..., :2], scores


def test_pose_nms_merges_duplicates_and_keeps_distinct_people(coco_mini):
    boxes, keypoints, scores = _gt_people(coco_mini, 197388)  # five people, some overlapping
    rng = np.random.default_rng(3)
    dup_kp = keypoints + rng.normal(0, 1.5, keypoints.shape)
    all_boxes = np.concatenate([boxes, boxes + 2])
    all_kp = np.concatenate([keypoints, dup_kp])
    all_scores = np.concatenate([scores, scores * 0.9])
    box_scores = np.concatenate([np.full(len(boxes), 0.95), np.full(len(boxes), 0.8)])
    result = pose_nms(all_boxes, box_scores, all_kp, all_scores)
    assert len(result) == len(boxes) == 5
    assert sorted(int(np.flatnonzero((all_boxes == b).all(axis=1))[0]) for b in result.boxes) == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert result.ids == []  # no tracker ran
    for ids in result.merged:  # each kept pose merged itself and its duplicate
        assert len(ids) == 2 and abs(ids[1] - ids[0]) == 5
    expected = result.keypoint_scores.mean(1) + result.box_scores + 1.25 * result.keypoint_scores.max(1)
    np.testing.assert_allclose(result.scores, expected)
    distinct = pose_nms(boxes, np.full(len(boxes), 0.9), keypoints, scores)
    assert len(distinct) == 5
    np.testing.assert_allclose(np.sort(distinct.keypoints[:, 0, 0]), np.sort(keypoints[:, 0, 0]))
    oks = pose_nms(all_boxes, box_scores, all_kp, all_scores, method="oks")
    assert len(oks) == 5


def test_pose_nms_drops_low_scores_and_small_poses():
    kp = np.tile(np.array([[10.0 + i, 20.0 + 2 * i] for i in range(17)]), (2, 1, 1))
    kp[1] += 200
    scores = np.array([np.full(17, 0.2), np.full(17, 0.9)])
    boxes = np.array([[0.0, 0, 40, 60], [200, 200, 240, 260]])
    result = pose_nms(boxes, np.array([0.9, 0.9]), kp, scores)
    assert len(result) == 1 and result.boxes[0, 0] == 200
    assert len(pose_nms(boxes, np.array([0.9, 0.9]), kp, scores, min_box_area=1e6)) == 0
    assert len(pose_nms(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 17, 2)), np.zeros((0, 17)))) == 0
    with pytest.raises(PosekitError, match="unknown pose NMS method 'soft'"):
        pose_nms(boxes, np.array([0.9, 0.9]), kp, scores, method="soft")


def _result(n: int) -> PoseResult:
    rng = np.random.default_rng(n)
    kp = rng.uniform(0, 100, (n, 17, 2))
    s = rng.uniform(0, 1, (n, 17))
    return PoseResult(
        np.array([[1.0, 2.0, 11.0, 22.0]] * n),
        np.full(n, 0.9),
        kp,
        s,
        np.arange(n) + 1.0,
        [[i] for i in range(n)],
    )


def test_results_writer_alphapose_format_round_trip(tmp_path):
    path = write_results([("000000000785.jpg", _result(2)), ("000000040083.jpg", _result(1))], tmp_path)
    assert path.name == "alphapose-results.json"
    entries = read_results(path)
    assert len(entries) == 3
    assert list(entries[0]) == ["image_id", "category_id", "keypoints", "score", "box", "idx"]
    assert entries[0]["image_id"] == "000000000785.jpg" and entries[0]["box"] == [1.0, 2.0, 10.0, 20.0]
    assert len(entries[0]["keypoints"]) == 51 and entries[0]["idx"] == [0]
    assert result_entries("000000000785.jpg", _result(1), for_eval=True)[0]["image_id"] == 785


@pytest.mark.parametrize(
    ("fmt", "key", "joints"), [("cmu", "bodies", "joints"), ("open", "people", "pose_keypoints_2d")]
)
def test_results_writer_openpose_formats(tmp_path, fmt, key, joints):
    result = _result(1)
    path = write_results([("a.jpg", result)], tmp_path, fmt=fmt)
    document = json.loads(path.read_text())["a.jpg"]
    assert document["version"] == "AlphaPose v0.3"
    person = np.array(document[key][0][joints]).reshape(18, 3)
    np.testing.assert_allclose(person[0, :2], result.keypoints[0, 0])  # nose
    np.testing.assert_allclose(person[1, :2], (result.keypoints[0, 5] + result.keypoints[0, 6]) / 2)  # neck
    np.testing.assert_allclose(person[2, :2], result.keypoints[0, 6])  # right shoulder
    assert len(OPENPOSE_ORDER) == 18
    assert json.loads((tmp_path / "sep-json" / "a.json").read_text()) == document


@pytest.mark.parametrize("fmt", ["cmu", "open"])
def test_openpose_formats_write_nothing_for_a_frame_without_people(tmp_path, fmt):
    """AlphaPose's write_json (facts §13): an image key, its version and list, and its sep-json file exist
    only once a person of that image is written; a frame without people has neither."""
    frames = [("a.jpg", _result(2)), ("empty.jpg", PoseResult.empty(17)), ("b.jpg", _result(1))]
    path = write_results(frames, tmp_path, fmt=fmt)
    key = "bodies" if fmt == "cmu" else "people"
    alphapose: dict[str, int] = {}  # image -> people written, built person by person as AlphaPose does
    for name, result in frames:
        for _ in range(len(result)):
            alphapose[name] = alphapose.get(name, 0) + 1
    documents = json.loads(path.read_text())
    assert {name: len(doc[key]) for name, doc in documents.items()} == alphapose == {"a.jpg": 2, "b.jpg": 1}
    assert sorted(p.name for p in (tmp_path / "sep-json").iterdir()) == ["a.json", "b.json"]


def _reference_parametric_nms(boxes, keypoints, scores):
    """Plain-loop transcription of AlphaPose's parametric pose NMS (facts §5), for comparison."""
    s = np.where(scores == 0, 1e-5, scores)
    ref = 0.1 * np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    human = s.mean(axis=1)
    remaining, rounds = list(range(len(boxes))), []
    while remaining:
        pick = max(remaining, key=lambda i: human[i])
        cluster = []
        for j in remaining:
            simi, match = 0.0, 0
            for k in range(keypoints.shape[1]):
                d = float(np.hypot(*(keypoints[j, k] - keypoints[pick, k])))
                simi += np.tanh(s[pick, k]) * np.tanh(s[j, k]) if d <= 1 else 0.0
                simi += 1.7 * np.exp(-d / 2.65)
                match += d / min(ref[pick], 7) <= 1
            if simi > 22.48 or match >= 5:
                cluster.append(j)
        cluster = cluster or [pick]
        remaining = [i for i in remaining if i not in cluster]
        rounds.append((pick, cluster))
    kept = []
    for pick, cluster in rounds:
        if s[pick].max() < 0.3:
            continue
        xy, merged = np.zeros((keypoints.shape[1], 2)), np.zeros(keypoints.shape[1])
        for k in range(keypoints.shape[1]):
            w = [
                s[j, k] if np.hypot(*(keypoints[j, k] - keypoints[pick, k])) <= min(ref[pick], 15) else 0.0
                for j in cluster
            ]
            total = sum(w)
            for j, wj in zip(cluster, w):
                xy[k] += wj / total * keypoints[j, k]
                merged[k] += wj * wj / total
        if merged.max() >= 0.3:
            kept.append((pick, xy, merged, cluster))
    return kept


@pytest.mark.parametrize("noise", [0.5, 6.0, 12.0])  # all merge, partly, none
def test_parametric_nms_equals_plain_loop_reference(coco_mini, noise):
    data = json.loads((coco_mini / "annotations/person_keypoints_val2017.json").read_text())
    rng = np.random.default_rng(int(noise * 10))
    for image_id in sorted({a["image_id"] for a in data["annotations"] if a["num_keypoints"] > 0}):
        boxes, keypoints, _ = _gt_people(coco_mini, image_id)
        copies = 3
        all_kp = np.concatenate([keypoints + rng.normal(0, noise, keypoints.shape) for _ in range(copies)])
        all_boxes = np.concatenate([boxes + rng.normal(0, noise, boxes.shape) for _ in range(copies)])
        all_scores = rng.uniform(0, 1, all_kp.shape[:2]) * (rng.uniform(size=all_kp.shape[:2]) > 0.1)
        result = pose_nms(all_boxes, np.full(len(all_boxes), 0.8), all_kp, all_scores)
        reference = _reference_parametric_nms(all_boxes, all_kp, all_scores)
        assert len(result) == len(reference) > 0
        np.testing.assert_allclose(result.boxes, all_boxes[[r[0] for r in reference]])
        np.testing.assert_allclose(result.keypoints, np.stack([r[1] for r in reference]), atol=1e-9)
        np.testing.assert_allclose(result.keypoint_scores, np.stack([r[2] for r in reference]), atol=1e-12)
        assert result.merged == [sorted(r[3]) for r in reference]


COCO_SIGMAS = (
    np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
    )
    / 10
)


def _reference_oks_pose_nms(boxes, box_scores, keypoints, scores, aspect=0.75):
    """Plain-loop transcription of AlphaPose's validate.py --oks-nms for one image (facts §13): entries
    carry score = det + mean + 1.25 max and area = the crop box area; each is rescored by the mean of
    its keypoint scores above 0.2; greedy NMS in descending rescored order (scores.argsort()[::-1])
    drops OKS > 0.9 over all 17 joints with the mean of the two areas. Returns (picks, rescored)."""
    entries = []
    for box, det, kp_scores in zip(boxes, box_scores, scores):
        w, h = box[2] - box[0], box[3] - box[1]
        if w > aspect * h:
            h = w / aspect
        elif w < aspect * h:
            w = h * aspect
        above = [s for s in kp_scores if s > 0.2]
        score = det + np.mean(kp_scores) + 1.25 * np.max(kp_scores)
        rescored = (sum(above) / len(above) if above else 0.0) * score
        entries.append({"score": rescored, "area": 1.25 * w * 1.25 * h})
    order = sorted(range(len(entries)), key=lambda i: entries[i]["score"])[::-1]
    picks = []
    while order:
        first, order = order[0], order[1:]
        picks.append(first)
        survivors = []
        for other in order:
            scale = (entries[first]["area"] + entries[other]["area"]) / 2 + np.spacing(1)
            d2 = [np.sum((keypoints[other, j] - keypoints[first, j]) ** 2) for j in range(17)]
            e = [d2[j] / (2 * COCO_SIGMAS[j]) ** 2 / scale / 2 for j in range(17)]
            oks = np.mean(np.exp(-np.array(e)))
            if oks <= 0.9:
                survivors.append(other)
        order = survivors
    return picks, [entries[i]["score"] for i in picks]


@pytest.mark.parametrize(("noise", "kept"), [(0.5, 12), (4.0, 18), (12.0, 36)])  # of 36 people
def test_oks_nms_equals_alphapose_validate_transcription(coco_mini, noise, kept):
    data = json.loads((coco_mini / "annotations/person_keypoints_val2017.json").read_text())
    rng = np.random.default_rng(int(noise * 10) + 1)
    total_kept = total = 0
    for image_id in sorted({a["image_id"] for a in data["annotations"] if a["num_keypoints"] > 0}):
        boxes, keypoints, _ = _gt_people(coco_mini, image_id)
        copies = 3
        all_kp = np.concatenate([keypoints + rng.normal(0, noise, keypoints.shape) for _ in range(copies)])
        all_boxes = np.concatenate([boxes + rng.normal(0, noise, boxes.shape) for _ in range(copies)])
        all_scores = rng.uniform(0, 1, all_kp.shape[:2]) * (rng.uniform(size=all_kp.shape[:2]) > 0.1)
        all_scores[0] = 0.15  # no joint above 0.2: rescored 0 (AlphaPose keeps it if nothing suppresses it)
        all_scores[1] = 0.25  # max below 0.3: the parametric NMS would drop it, OKS NMS does not
        box_scores = rng.uniform(0.1, 1.0, len(all_boxes))
        result = pose_nms(all_boxes, box_scores, all_kp, all_scores, method="oks")
        picks, rescored = _reference_oks_pose_nms(all_boxes, box_scores, all_kp, all_scores)
        np.testing.assert_array_equal(result.boxes, all_boxes[picks])
        np.testing.assert_array_equal(result.keypoints, all_kp[picks])
        np.testing.assert_array_equal(result.keypoint_scores, all_scores[picks])  # written unchanged
        np.testing.assert_allclose(result.scores, rescored, rtol=1e-12)
        assert sorted(i for group in result.merged for i in group) == list(range(len(all_boxes)))
        total_kept += len(picks)
        total += len(all_boxes)
    assert (total_kept, total) == (kept, 36)
