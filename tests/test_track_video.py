"""Video that keeps people: --det_interval 1 is the per-frame path exactly; a person the detector misses
keeps their id and pose through the gap; a person who leaves the frame ends their track (real frames
of posetrack18-mini, the default model)."""

from __future__ import annotations

import json
import warnings
from collections import defaultdict

import numpy as np
import pytest

from posekit.cli.main import main
from posekit.detectors import build_detector
from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel
from posekit.geometry import box_iou
from posekit.infer.sources import Frame, Source, open_video
from posekit.infer.stages import process
from posekit.infer.tracked import PoseStep, VideoOptions
from posekit.io.images import read_image_rgb
from posekit.io.results import result_entries
from posekit.one_euro import FrameClock, OneEuroParams
from posekit.pose.nms import pose_nms
from posekit.track import build_tracker
from tests.pipeline_fakes import FakeDetector, FakePoseModel
from tests.test_pipeline_cli import MP4, fake_models  # noqa: F401  (the fake detector and pose model)

CLIP = "videos/000001_mpiinew_test"
FRAMES = [f"{k:06d}.jpg" for k in range(5)]


def test_det_interval_1_writes_what_the_per_frame_path_wrote(posetrack_mini, tmp_path, fake_models):  # noqa: F811
    """`posekit infer --video --pose_track --det_interval 1` against a transcription of the pipeline as
    it was before guided crops: detect every frame, pose model, pose NMS, tracker."""
    out = tmp_path / "run"
    argv = ["infer", "--video", str(posetrack_mini / MP4), "--outdir", str(out), "--pose_track"]
    assert main([*argv, "--det_interval", "1"]) == 0
    written = json.loads((out / "alphapose-results.json").read_text())
    detector, model, tracker = FakeDetector(), FakePoseModel(), build_tracker("oks")
    expected = []
    for frame in open_video(posetrack_mini / MP4).frames:
        (dets,) = detector.detect([frame.image])
        poses = model.estimate(frame.image, dets)
        keypoints, scores = poses.keypoints, poses.scores
        result = tracker.update(frame.image, pose_nms(dets.boxes, dets.scores, keypoints, scores))
        expected += result_entries(frame.name, result)
    assert written == json.loads(json.dumps(expected))
    assert main([*argv, "--det_interval", "3"]) == 0  # guided crops do change the results
    assert json.loads((out / "alphapose-results.json").read_text()) != written


@pytest.fixture(scope="module")
def clip_detections(posetrack_mini) -> dict[str, np.ndarray]:
    """The default detector's boxes on each frame of the 5-frame clip."""
    detector = build_detector("blazepose")
    return {
        name: detector.detect([read_image_rgb(posetrack_mini / CLIP / name)])[0].boxes.astype(float)
        for name in FRAMES
    }


def _write_detfile(path, boxes: dict[str, np.ndarray]) -> None:
    entries = [
        {"image_id": name, "category_id": 1, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": 0.9}
        for name, frame_boxes in boxes.items()
        for b in frame_boxes.tolist()
    ]
    path.write_text(json.dumps(entries))


def _people(outdir) -> dict[str, list[dict]]:
    by_frame: dict[str, list[dict]] = {name: [] for name in FRAMES}
    for entry in json.loads((outdir / "alphapose-results.json").read_text()):
        by_frame[entry["image_id"]].append(entry)
    return by_frame


def _xyxy(entry: dict) -> np.ndarray:
    x, y, w, h = entry["box"]
    return np.array([[x, y, x + w, y + h]])


def _find(people: list[dict], box: np.ndarray) -> dict | None:
    """The person whose box overlaps `box` most (IoU >= 0.3), or None."""
    best = max(people, key=lambda e: box_iou(_xyxy(e), box)[0, 0], default=None)
    return best if best is not None and box_iou(_xyxy(best), box)[0, 0] >= 0.3 else None


@pytest.mark.parametrize("tracker_flag", ["--pose_track", "--pose_flow"])
def test_a_person_the_detector_misses_keeps_id_and_pose(
    posetrack_mini, tmp_path, clip_detections, tracker_flag
):
    """The person left in frame 0 is removed from the detections of frames 1-3: with --det_interval 2
    (detector on frames 0, 2, 4) their crop follows their pose through the gap, same id, same pose as
    when detected; with --det_interval 1 they are simply gone in those frames. With either tracker."""
    first = clip_detections[FRAMES[0]]
    person = first[np.argmin(first[:, 0])][None]  # the leftmost person of frame 0
    missing = {
        name: boxes if k in (0, 4) else boxes[box_iou(boxes, person)[:, 0] < 0.3]
        for k, (name, boxes) in enumerate(clip_detections.items())
    }
    assert all(len(missing[n]) == len(clip_detections[n]) - 1 for n in FRAMES[1:4])
    _write_detfile(tmp_path / "all.json", clip_detections)
    _write_detfile(tmp_path / "missing.json", missing)
    runs = {}
    for label, detfile, interval in (("all", "all", 1), ("gap", "missing", 2), ("per-frame", "missing", 1)):
        out = tmp_path / label
        argv = ["infer", "--indir", str(posetrack_mini / CLIP), "--outdir", str(out), "--no_save_img"]
        argv += ["--detfile", str(tmp_path / f"{detfile}.json"), tracker_flag]
        assert main([*argv, "--det_interval", str(interval)]) == 0
        runs[label] = _people(out)
    reference = [_find(runs["all"][n], person) for n in FRAMES]
    followed = [_find(runs["gap"][n], person) for n in FRAMES]
    assert all(p is not None for p in reference + followed)
    assert len({p["idx"] for p in followed}) == 1  # one id through the gap
    for ref, got in zip(reference[1:4], followed[1:4]):
        a = np.reshape(ref["keypoints"], (-1, 3))
        b = np.reshape(got["keypoints"], (-1, 3))
        confident = (a[:, 2] > 0.5) & (b[:, 2] > 0.5)
        assert confident.sum() >= 10
        height = ref["box"][3]
        assert np.linalg.norm(a[confident, :2] - b[confident, :2], axis=1).mean() < 0.05 * height
    assert [_find(runs["per-frame"][n], person) is None for n in FRAMES] == [False, True, True, True, False]


@pytest.mark.parametrize("tracker", ["oks", "poseflow"])
def test_a_person_who_leaves_the_frame_ends_their_track(posetrack_mini, tracker):
    """A 700 px wide camera window slides right over clip frame 0, 40 px per frame, so the leftmost
    person leaves the view on the left; the detector runs on the first frame only (--det_interval 100):
    their track follows them while they are in view and ends once they are out, the others (whole
    people: the thorough scan also finds a sliver of legs cut by the top edge, which may end) stay."""
    image = read_image_rgb(posetrack_mini / CLIP / FRAMES[0])
    width, offsets = 700, [*range(200, 561, 40), 580]
    images = [np.ascontiguousarray(image[:, x : x + width]) for x in offsets]
    source = Source((Frame(i, f"{i}.jpg", im) for i, im in enumerate(images)), len(images), 25.0, "pan", True)
    stream = process(
        source,
        build_detector("blazepose"),
        BlazePoseLandmarkModel(),
        tracker=build_tracker(tracker),
        single_thread=True,
        video=VideoOptions(det_interval=100),
    )
    results = [frame.result for frame in stream]
    start = results[0]
    assert len(start) >= 2
    left = int(np.argmin(start.boxes[:, 0]))
    tid, box = start.ids[left], start.boxes[left]
    whole = start.boxes[:, 1] > 0.5
    others = {i for i, w in zip(start.ids, whole) if w} - {tid}
    assert others
    for x, result in zip(offsets, results):
        moved = box - np.array([1, 0, 1, 0]) * (x - offsets[0])
        inside = (min(moved[2], width) - max(moved[0], 0)) / (moved[2] - moved[0])
        if inside > 0.8:
            assert tid in result.ids, x  # followed without the detector
        if inside <= 0:
            assert tid not in result.ids, x  # gone with the person
        assert others <= set(result.ids), x
        assert len(result) <= len(start), x  # no duplicates of the people followed
    assert tid not in results[-1].ids


def test_a_guided_crop_costs_one_landmark_pass_when_it_is_confident(posetrack_mini, monkeypatch):
    """Clip frame 0 detected, frame 1 not (--det_interval 10): each guided crop of frame 1 runs exactly
    one landmark pass (MediaPipe's region of the hint's alignment points, 1.25x, not moved) when that
    pass is confident (mean score >= doubtful), two when it is doubtful; the same boxes without hints
    get the thorough search. The tracker's next state is the pass's alignment points after the guided
    crops' One-Euro filter (MediaPipe's: min_cutoff 0.01 Hz, beta 10, d_cutoff 1 Hz) over the frame step
    given, here one frame of a 50 fps video."""
    first, second = (read_image_rgb(posetrack_mini / CLIP / name) for name in FRAMES[:2])
    model = BlazePoseLandmarkModel()
    step = PoseStep(model, build_tracker("oks"), VideoOptions(det_interval=10))
    times: dict[str, float] = defaultdict(float)
    assert len(step(first, build_detector("blazepose").detect([first])[0], times)) >= 2
    crops, hints = step.guide.plan((second.shape[1], second.shape[0]), None, frame_step=1 / 50)
    assert len(crops) >= 2 and all(hint is not None for hint in hints)
    live = {t.tid: t for t in step.tracker.live_tracks()}
    assert [hint.frame_step for hint in hints] == [1 / 50] * len(crops)
    assert not np.any([hint.alignment_speed for hint in hints])  # tracks born from detections: no speed yet
    single = []
    for hint in hints:
        alignment = hint.alignment
        assert np.allclose(alignment, live[hint.track_id].alignment)
        single.append(model.run_alignment_region(second, alignment, model.crop_scales[0]).pose())
    confident = np.array([scores.mean() >= model.doubtful for _, scores, _ in single])
    assert confident.sum() >= 2  # the one-pass case is what this test is about

    calls = []
    invoke = model._interpreter.invoke
    monkeypatch.setattr(model._interpreter, "invoke", lambda: calls.append(1) or invoke())
    poses = model.estimate(second, crops, hints)
    keypoints, scores = poses.keypoints, poses.scores
    alignment, speeds = step.guide.filter_alignment(hints, poses.alignment)
    assert len(calls) == len(crops) + int((~confident).sum())
    te, moved = 1 / 50, 0
    for i in np.flatnonzero(confident):
        np.testing.assert_allclose(keypoints[i], single[i][0])
        np.testing.assert_allclose(scores[i], single[i][1])
        last, raw = hints[i].alignment, single[i][2]
        side = 2 * np.linalg.norm(last[1] - last[0])
        a_d = 1 / (1 + 1 / (2 * np.pi * 1.0 * te))
        speed = a_d * (raw - last) / te
        a = 1 / (1 + 1 / (2 * np.pi * (0.01 + 10 * np.abs(speed) / side) * te))
        np.testing.assert_allclose(speeds[i], speed)
        np.testing.assert_allclose(alignment[i], a * raw + (1 - a) * last)
        moved += int(not np.allclose(raw, last, atol=0.5))
    assert moved >= 1  # the filter had something to do
    calls.clear()
    step(second, None, times)  # the pipeline's own step plans the same crops: the same passes
    assert len(calls) == len(crops) + int((~confident).sum())
    calls.clear()
    model.estimate(second, crops)  # no hints: crop scales + the aligned pass, per person
    assert len(calls) >= (len(model.crop_scales) + 1) * len(crops)


def test_one_clock_times_the_tracking_region_and_the_smoother():
    """The frame time: the timestamp when it increases, else the last time + 1 / fps; its steps add up to
    the time between real timestamps. The pose step's one clock hands the step to the guided crops (the
    tracking region's filter) and the time to the keypoint smoother."""
    clock = FrameClock(30.0)
    times, steps = zip(*[clock.tick(t) for t in (0.0, 0.04, 0.1, 0.1, None, 0.2)])
    np.testing.assert_allclose(times, [0.0, 0.04, 0.1, 0.1 + 1 / 30, 0.1 + 2 / 30, 0.2])
    np.testing.assert_allclose(steps, [1 / 30, 0.04, 0.06, 1 / 30, 1 / 30, 0.1 - 2 / 30])
    assert FrameClock().tick(None) == (0.0, 1 / 25)
    options = VideoOptions(det_interval=5, smoothing=OneEuroParams())
    step = PoseStep(FakePoseModel(), build_tracker("oks"), options, fps=30.0)
    seen_steps, seen_times = [], []
    plan, smoother = step.guide.plan, step.smoother

    def spy_plan(size, detections, frame_step=None, follow=True):
        seen_steps.append(frame_step)
        return plan(size, detections, frame_step, follow)

    step.guide.plan = spy_plan
    step.smoother = lambda result, t: seen_times.append(t) or smoother(result, t)
    image = np.full((120, 160, 3), 100, np.uint8)
    found = FakeDetector().detect([image])[0]
    for n, t in enumerate((0.0, 0.04, 0.1, 0.1, None, 0.2)):
        step(image, found if n == 0 else None, defaultdict(float), t)
    np.testing.assert_allclose(seen_steps, steps)
    np.testing.assert_allclose(seen_times, times)


def test_no_track_is_followed_into_a_new_scene(posetrack_mini):
    """The detection schedule marks the first frame of each scene (a frame of another PoseTrack video
    after the clip); on such a frame the pose step plans no guided crop, only the detections."""
    from posekit.infer.stages import detect_stage

    clip = [read_image_rgb(posetrack_mini / CLIP / name) for name in FRAMES[:3]]
    other = read_image_rgb(sorted((posetrack_mini / "images" / "val").rglob("*.jpg"))[0])
    images = [*clip, other]
    frames = [Frame(i, f"{i}.jpg", im) for i, im in enumerate(images)]
    step = PoseStep(FakePoseModel(), build_tracker("oks"), VideoOptions(det_interval=100))
    seen = list(detect_stage(frames, FakeDetector(), 1, defaultdict(float), step.schedule()))
    assert [f.new_scene for f in seen] == [True, False, False, True]
    assert [f.detections is not None for f in seen] == [True, False, False, True]
    times: dict[str, float] = defaultdict(float)
    for f in seen[:3]:
        assert len(step(f.image, f.detections, times, None, f.new_scene)) == 2
    model = step.pose_model
    assert len(model.calls[-1]) == 2  # frame 2: the two tracks' guided crops only
    step(other, seen[3].detections, times, None, new_scene=False)  # taken for the same scene, the old
    assert len(model.calls[-1]) == 4  # tracks' two crops run on it before its two detections
    np.testing.assert_array_equal(model.calls[-1][2:], seen[3].detections.boxes)
    fresh = PoseStep(FakePoseModel(), build_tracker("oks"), VideoOptions(det_interval=100))
    for f in seen[:3]:
        fresh(f.image, f.detections, times, None, f.new_scene)
    fresh(other, seen[3].detections, times, None, new_scene=True)
    np.testing.assert_array_equal(fresh.pose_model.calls[-1], seen[3].detections.boxes)


def test_an_explicit_det_interval_is_ignored_with_a_warning_for_a_one_stage_model():
    from posekit.infer.options import InferOptions
    from posekit.infer.pipeline import Pipeline
    from posekit.pose.onestage import DetectorKeypoints

    source = Source(iter(()), 0, 25.0, "clip", is_video=True)
    one_stage = Pipeline(
        InferOptions.from_flat(det_interval=5), detector=FakeDetector(), pose_model=DetectorKeypoints(17)
    )
    with pytest.warns(
        UserWarning, match="--det_interval 5 ignored: the keypoints of fake come from the detector"
    ):
        assert one_stage.video_plan(source) == (VideoOptions(det_interval=1), "oks")
    two_stage = Pipeline(
        InferOptions.from_flat(det_interval=5), detector=FakeDetector(), pose_model=FakePoseModel()
    )
    assert two_stage.video_plan(source)[0].det_interval == 5
    default = Pipeline(InferOptions(), detector=FakeDetector(), pose_model=DetectorKeypoints(17))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert default.video_plan(source)[0].det_interval == 1  # the default interval says nothing


def test_video_options_and_smoothing_reject_what_is_not_a_number():
    from posekit.errors import PosekitError

    for bad in (0, 1.9, "5", True):
        with pytest.raises(PosekitError, match="det_interval must be a whole number >= 1"):
            VideoOptions(det_interval=bad)
    assert VideoOptions(det_interval=np.int64(3)).det_interval == 3
    for bad in ({"min_cutoff": float("nan")}, {"beta": float("inf")}, {"d_cutoff": "fast"}, {"beta": -1}):
        with pytest.raises(PosekitError, match="finite numbers > 0"):
            OneEuroParams(**bad)
    assert OneEuroParams(1, 2, 3) == OneEuroParams(1.0, 2.0, 3.0)


def test_smooth_flag_is_the_one_euro_filter_over_the_tracked_results(posetrack_mini, tmp_path, fake_models):  # noqa: F811
    """`--smooth` with its three parameters gives exactly TrackSmoother over the unsmoothed tracked run
    (video timestamps), and never changes a person's first frame (no delay, no warm-up)."""
    from posekit.track.smoothing import TrackSmoother
    from posekit.types import PoseResult

    argv = ["infer", "--video", str(posetrack_mini / MP4), "--pose_track", "--det_interval", "1"]
    assert main([*argv, "--outdir", str(tmp_path / "raw")]) == 0
    smooth = ["--smooth", "--smooth_min_cutoff", "0.5", "--smooth_beta", "2", "--smooth_d_cutoff", "1.5"]
    assert main([*argv, "--outdir", str(tmp_path / "smooth"), *smooth]) == 0
    raw = json.loads((tmp_path / "raw" / "alphapose-results.json").read_text())
    got = json.loads((tmp_path / "smooth" / "alphapose-results.json").read_text())
    smoother = TrackSmoother(OneEuroParams(0.5, 2.0, 1.5))
    expected = []
    for frame in open_video(posetrack_mini / MP4).frames:
        people = [e for e in raw if e["image_id"] == frame.name]
        kps = np.array([np.reshape(e["keypoints"], (-1, 3)) for e in people])
        result = PoseResult(
            np.zeros((len(people), 4)),
            np.ones(len(people)),
            kps[..., :2],
            kps[..., 2],
            np.ones(len(people)),
            [e["idx"] for e in people],
        )
        expected.append(smoother(result, frame.timestamp).keypoints)
    smoothed = [
        np.array([np.reshape(e["keypoints"], (-1, 3))[:, :2] for e in got if e["image_id"] == f"{t}.jpg"])
        for t in range(5)
    ]
    for t in range(5):
        np.testing.assert_allclose(smoothed[t], expected[t], rtol=0, atol=1e-9)
    first = [np.reshape(e["keypoints"], (-1, 3)) for e in raw if e["image_id"] == "0.jpg"]
    np.testing.assert_array_equal(smoothed[0], np.array(first)[..., :2])
    assert (
        np.abs(
            smoothed[4]
            - np.array([np.reshape(e["keypoints"], (-1, 3))[:, :2] for e in raw if e["image_id"] == "4.jpg"])
        ).max()
        > 0.1
    )


def test_ui_track_tab_smooths_as_the_cli_does(posetrack_mini, tmp_path, fake_models, request):  # noqa: F811
    pytest.importorskip("gradio")
    from posekit.ui import common, tab_track

    common.set_root(tmp_path)  # the UI writes only below its root (posekit ui --root)
    request.addfinalizer(common._ROOT.clear)
    video = tmp_path / "clip.mp4"
    video.write_bytes((posetrack_mini / MP4).read_bytes())
    tab_track.run_track_video(str(video), "oks", "blazepose", str(tmp_path / "ui"), True, 0.5, 2.0, 0.7)
    argv = ["infer", "--video", str(video), "--outdir", str(tmp_path / "cli"), "--pose_track", "--smooth"]
    assert main([*argv, "--smooth_min_cutoff", "0.5", "--smooth_beta", "2", "--smooth_d_cutoff", "0.7"]) == 0
    ui = json.loads((tmp_path / "ui" / "alphapose-results.json").read_text())
    cli = json.loads((tmp_path / "cli" / "alphapose-results.json").read_text())
    assert ui == cli and len(ui) >= 10
    assert main([*argv[:-1], "--outdir", str(tmp_path / "raw")]) == 0
    assert json.loads((tmp_path / "raw" / "alphapose-results.json").read_text()) != ui  # it did smooth


def test_ui_track_tab_det_interval_is_the_cli_flag(posetrack_mini, tmp_path, fake_models, request):  # noqa: F811
    """The Track tab's detector interval is `--det_interval` (empty: the CLI's default)."""
    pytest.importorskip("gradio")
    from posekit.ui import common, tab_track

    common.set_root(tmp_path)
    request.addfinalizer(common._ROOT.clear)
    video = tmp_path / "clip.mp4"
    video.write_bytes((posetrack_mini / MP4).read_bytes())
    runs = {}
    for interval in (1, 3, None):
        out = tmp_path / f"ui-{interval}"
        tab_track.run_track_video(str(video), "oks", "blazepose", str(out), det_interval=interval)
        runs[interval] = json.loads((out / "alphapose-results.json").read_text())
        flag = [] if interval is None else ["--det_interval", str(interval)]
        cli = tmp_path / f"cli-{interval}"
        assert main(["infer", "--video", str(video), "--outdir", str(cli), "--pose_track", *flag]) == 0
        assert runs[interval] == json.loads((cli / "alphapose-results.json").read_text())
        assert len(runs[interval]) >= 10
    assert runs[1] != runs[3]  # the interval reached the pipeline


def test_stream_follows_people_as_the_cli_does(posetrack_mini, tmp_path, fake_models):  # noqa: F811
    """pipe.stream(video) with the default options (det_interval 5, the OKS tracker) gives what
    `posekit infer --video` writes; with smoothing too."""
    from posekit.infer.options import InferOptions
    from posekit.infer.pipeline import Pipeline

    for extra, options in (([], {}), (["--smooth"], {"smooth": True})):
        out = tmp_path / f"cli{len(extra)}"
        assert main(["infer", "--video", str(posetrack_mini / MP4), "--outdir", str(out), *extra]) == 0
        written = json.loads((out / "alphapose-results.json").read_text())
        pipe = Pipeline(
            InferOptions.from_flat(**options), detector=FakeDetector(), pose_model=FakePoseModel()
        )
        streamed = [
            e for name, _, result in pipe.stream(posetrack_mini / MP4) for e in result_entries(name, result)
        ]
        assert written == json.loads(json.dumps(streamed))
        assert all(isinstance(e["idx"], int) for e in written)


class _TwoScanDetector(FakeDetector):
    """The fake detector with a thorough scan too; records which scan ran on which frame size."""

    def __init__(self) -> None:
        super().__init__()
        self.scans: list[str] = []

    def detect(self, images):
        self.scans += ["default"] * len(images)
        return super().detect(images)

    def detect_thorough(self, images):
        self.scans += ["thorough"] * len(images)
        return super().detect(images)


@pytest.mark.parametrize("interval, scans", [(1, ["default"] * 7), (3, ["thorough"] * 3)])
def test_a_tracked_video_runs_the_thorough_scan_on_its_detection_frames(interval, scans):
    """--det_interval > 1: the detector runs on frames 0, 3, 6 with its thorough scan (the frames between
    pay for it); --det_interval 1 keeps the default scan on every frame, as before."""
    images = [np.full((120, 160, 3), 100 + i % 2, np.uint8) for i in range(7)]  # one scene: no cut
    detector = _TwoScanDetector()
    source = Source((Frame(i, f"{i}.jpg", im) for i, im in enumerate(images)), len(images), 25.0, "v", True)
    stream = process(
        source,
        detector,
        FakePoseModel(),
        tracker=build_tracker("oks"),
        single_thread=True,
        video=VideoOptions(det_interval=interval),
    )
    assert [len(frame.result) > 0 for frame in stream] == [True] * 7
    assert detector.scans == scans


def test_pose_nms_keeps_the_alignment_of_its_picks():
    """The tracked poses' alignment points follow the poses NMS keeps (the duplicate's are dropped)."""
    grid = np.stack([np.linspace(0, 40, 17), np.linspace(0, 100, 17)], axis=1)
    keypoints = np.stack([grid + 100, grid + 101, grid + 400])  # 0 and 1 are one person
    scores = np.array([np.full(17, 0.9), np.full(17, 0.7), np.full(17, 0.8)])
    boxes = np.concatenate([keypoints.min(1), keypoints.max(1)], axis=1)
    alignment = np.arange(12.0).reshape(3, 2, 2)
    result = pose_nms(boxes, np.full(3, 0.9), keypoints, scores, alignment=alignment)
    assert len(result) == 2
    np.testing.assert_allclose(result.alignment, alignment[[0, 2]])
    oks = pose_nms(boxes, np.full(3, 0.9), keypoints, scores, method="oks", alignment=alignment)
    np.testing.assert_allclose(oks.alignment, alignment[[0, 2]])
