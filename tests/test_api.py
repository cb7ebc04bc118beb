"""The Python API: posekit.load -> Pipeline, pipe(image), pipe.stream(source), InferOptions (fake models)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest

import posekit
from posekit.errors import PosekitError
from posekit.infer.options import InferOptions
from posekit.infer.pipeline import Pipeline
from posekit.io.images import list_images, read_image_rgb
from tests.pipeline_fakes import FakeDetector, FakePoseModel
from tests.test_pipeline_cli import MP4, fake_models  # noqa: F401  (the fake detector and pose model)


def _fake_pipeline(**options) -> Pipeline:
    return Pipeline(InferOptions.from_flat(**options), detector=FakeDetector(), pose_model=FakePoseModel())


def _same(a: posekit.PoseResult, b: posekit.PoseResult) -> None:
    for field in ("boxes", "box_scores", "keypoints", "keypoint_scores", "scores"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.ids == b.ids


def test_import_posekit_is_light_and_exposes_the_api():
    code = (
        "import sys, posekit; heavy = [m for m in ('torch', 'cv2', 'av', 'tqdm', 'posekit.infer') "
        "if m in sys.modules]; print(heavy); "
        "print(posekit.load.__module__, posekit.Pipeline.__module__, posekit.PoseResult.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "posekit.api posekit.infer.pipeline posekit.types"]
    assert {"load", "Pipeline", "PoseResult", "InferOptions", "ModelOptions"} <= set(dir(posekit))
    assert posekit.InferOptions(posekit.ModelOptions(flip=True)).model.flip
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = posekit.nothing


def test_load_takes_an_infer_options_and_flat_changes(fake_models):  # noqa: F811
    parameters = inspect.signature(posekit.load).parameters
    kinds = [(name, p.kind) for name, p in parameters.items()]
    assert kinds == [
        ("options", inspect.Parameter.POSITIONAL_ONLY),
        ("changes", inspect.Parameter.VAR_KEYWORD),
    ]
    assert inspect.signature(posekit.load).return_annotation == "Pipeline"
    base = InferOptions.from_flat(posebatch=8, tracker="oks")
    pipe = posekit.load(base, flip=True, device="cpu")
    assert pipe.options == base.replace(flip=True, device="cpu")
    assert pipe.options.model.posebatch == 8 and pipe.options.stream.tracker == "oks"
    assert posekit.load().options == InferOptions()
    with pytest.raises(PosekitError, match=r"^unknown option\(s\) batch; known: detector, .*, showbox$"):
        posekit.load(batch=4)
    with pytest.raises(PosekitError, match="options must be an InferOptions, got dict"):
        posekit.load({"flip": True})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"detbatch": 0}, "option detbatch: must be an integer >= 1, got 0"),
        ({"posebatch": 2.5}, "option posebatch: must be an integer >= 1, got 2.5"),
        ({"qsize": True}, "option qsize: must be an integer >= 1, got True"),
        ({"min_box_area": -1}, "option min_box_area: must be a number >= 0, got -1"),
        ({"tracker": "sort"}, "option tracker: must be one of none, oks, poseflow, got 'sort'"),
        ({"format": "xml"}, "option format: must be one of coco, cmu, open, got 'xml'"),
        ({"precision": "fp16"}, "option precision: must be one of auto, fp32, bf16, got 'fp16'"),
        (
            {"backend": "tensorrt"},
            "option backend: must be one of auto, torch, onnx, openvino, got 'tensorrt'",
        ),
        ({"flip": "yes"}, "option flip: must be True or False, got 'yes'"),
        ({"save_img": 1}, "option save_img: must be None, True or False, got 1"),
        ({"cfg": "x.yaml"}, "--cfg needs --checkpoint too"),
        ({"detector": "nosuch"}, "unknown detector 'nosuch'"),
        ({"batch": 4}, "unknown option(s) batch; known: detector, "),
    ],
)
def test_bad_options_are_one_clear_error(options, message):
    with pytest.raises(PosekitError) as info:
        InferOptions.from_flat(**options)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_options_canonicalise_the_detector_and_compare_models():
    flat = InferOptions.from_flat
    options = flat(detector="yolox")
    assert options.model.detector == "yolox-x" and not options.stream.tracking
    assert flat(tracker="oks").stream.tracking
    assert flat(qsize=3, outdir="x").detector_key() == InferOptions().detector_key()
    assert flat(qsize=3, tracker="oks").pose_key() == InferOptions().pose_key()
    assert flat(flip=True).pose_key() != InferOptions().pose_key()
    assert flat(tracker="oks").detector_key() != InferOptions().detector_key()  # its threshold
    assert flat(device="cpu").detector_key() != InferOptions().detector_key()


def test_load_builds_the_models_once_and_reuses_them(coco_mini, fake_models):  # noqa: F811
    pipe = posekit.load(posebatch=8, flip=True, device="cpu")
    assert isinstance(pipe, posekit.Pipeline)
    assert fake_models["detector"][0] == "blazepose" and fake_models["pose"] == (None, None, 8, True)
    detector, model = pipe.detector, pipe.pose_model
    image = list_images(coco_mini / "val2017")[0]
    fake_models.clear()
    first = pipe(image)
    _same(first, pipe(str(image)))
    assert [name for name, _, _ in pipe.stream([image])] == [image.name]
    assert fake_models == {}  # nothing was loaded again
    assert pipe.with_options(qsize=2, single_thread=True).pose_model is model
    assert fake_models == {}
    tracking = pipe.with_options(tracker="oks")
    assert tracking.detector is not detector and tracking.pose_model is model  # a tracking detector
    assert fake_models["detector"][0] == "blazepose" and "pose" not in fake_models
    assert pipe.with_options(flip=False).detector is detector and fake_models["pose"][3] is False


def test_call_takes_a_path_or_an_array_and_matches_a_run(coco_mini, tmp_path):
    pipe = _fake_pipeline(outdir=str(tmp_path), save_img=False)
    paths = list_images(coco_mini / "val2017")
    summary = pipe.run(paths, progress=False, log=lambda m: None)
    written = json.loads((tmp_path / "alphapose-results.json").read_text())
    assert summary.frames == len(paths)
    for path in paths:
        result = pipe(path)
        _same(result, pipe(read_image_rgb(path)))
        assert isinstance(result, posekit.PoseResult) and result.keypoints.shape == (len(result), 17, 2)
        mine = [e for e in written if e["image_id"] == path.name]
        assert len(mine) == len(result) > 0
        for entry, keypoints in zip(mine, result.keypoints):
            np.testing.assert_allclose(np.reshape(entry["keypoints"], (17, 3))[:, :2], keypoints)
    grey = cv2.cvtColor(read_image_rgb(paths[0]), cv2.COLOR_RGB2GRAY)
    assert len(pipe(grey)) == 2
    with pytest.raises(PosekitError, match=r"expected an RGB uint8 array \(H, W, 3\), got float64"):
        pipe(np.zeros((20, 30, 3)))
    with pytest.raises(PosekitError, match=r"got shape \(20, 30, 4\)"):
        pipe(np.zeros((20, 30, 4), np.uint8))
    with pytest.raises(PosekitError, match=r"nope\.jpg: image file not found"):
        pipe(tmp_path / "nope.jpg")


def test_call_with_a_path_honours_max_pixels_as_stream_does(coco_mini):
    path = list_images(coco_mini / "val2017")[0]
    height, width = read_image_rgb(path).shape[:2]
    small = _fake_pipeline(max_pixels=width * height - 1)
    refused = rf"{path.name}: image header says {width}x{height} \(0 Mpixels\), over the limit of"
    with pytest.raises(PosekitError, match=refused):
        small(path)
    with pytest.warns(UserWarning, match=refused):
        assert list(small.stream(path)) == []
    exact = _fake_pipeline(max_pixels=width * height)
    _same(exact(path), _fake_pipeline()(read_image_rgb(path)))
    assert len(exact(str(path))) == 2


def test_stream_takes_every_kind_of_source_with_the_same_results(coco_mini, posetrack_mini, tmp_path):
    # det_interval 1: the fake pose model's keypoints do not span its box, so the pose-guided crops of
    # video would shrink from frame to frame (they are tested in test_track_video.py)
    pipe = _fake_pipeline(det_interval=1)
    folder = coco_mini / "val2017"
    paths = list_images(folder)
    arrays = [read_image_rgb(p) for p in paths]
    by_folder = list(pipe.stream(folder))
    assert [name for name, _, _ in by_folder] == [p.name for p in paths]
    for kind in (paths, [str(p) for p in paths], arrays, iter(arrays), (a for a in arrays)):
        streamed = list(pipe.stream(kind))
        assert len(streamed) == len(paths)
        for (_, image, result), (_, want_image, want) in zip(streamed, by_folder):
            np.testing.assert_array_equal(image, want_image)
            _same(result, want)
    assert [name for name, _, _ in pipe.stream(arrays)] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    (name, image, result) = next(pipe.stream(paths[1]))
    assert name == paths[1].name and image.shape == arrays[1].shape
    _same(result, by_folder[1][2])
    video = list(pipe.stream(posetrack_mini / MP4))
    assert [name for name, _, _ in video] == [f"{k}.jpg" for k in range(5)]
    assert all(image.shape == (720, 1280, 3) and len(result) == 2 for _, image, result in video)
    single = list(pipe.with_options(single_thread=True).stream(posetrack_mini / MP4))
    for (_, _, a), (_, _, b) in zip(video, single):
        _same(a, b)
    with pytest.raises(PosekitError, match=r"missing\.mp4: no such video, image or folder"):
        pipe.stream(tmp_path / "missing.mp4")
    with pytest.raises(PosekitError, match="not an input: float"):
        pipe.stream(1.5)
    with pytest.raises(PosekitError, match="webcam 97: cannot open the camera"):
        pipe.stream(97)  # an int is a camera index (none here)


def test_stream_skips_unreadable_images_with_a_warning(coco_mini, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    good = list_images(coco_mini / "val2017")[0]
    with pytest.warns(UserWarning, match=r"bad\.jpg: image file is empty"):
        names = [name for name, _, _ in _fake_pipeline().stream([bad, good])]
    assert names == [good.name]


def test_stream_tracks_ids_across_frames(posetrack_mini):
    # det_interval 1: per-frame detection (see test_stream_takes_every_kind_of_source_with_the_same_results)
    untracked = list(_fake_pipeline(det_interval=1).stream(posetrack_mini / MP4))
    tracked = [
        r.ids for _, _, r in _fake_pipeline(tracker="oks", det_interval=1).stream(posetrack_mini / MP4)
    ]
    assert all(r.ids == [] and len(r.merged) == len(r) for _, _, r in untracked)  # merged detection indices
    assert tracked == [[1, 2]] * 5  # the same two people keep their ids (fake boxes do not move)
    again = _fake_pipeline(tracker="oks", det_interval=1).stream(posetrack_mini / MP4)
    assert [r.ids for _, _, r in again] == tracked
    # by default video is followed between detections, by the OKS tracker when none was asked for
    followed = [r.ids for _, _, r in _fake_pipeline().stream(posetrack_mini / MP4)]
    assert all(isinstance(i, int) for ids in followed for i in ids) and followed[0] == [1, 2]


def test_stream_is_lazy_bounded_and_stops_its_threads_when_closed():
    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield np.full((24, 32, 3), k % 255, np.uint8)
            k += 1

    before = threading.active_count()
    stream = _fake_pipeline(qsize=2).stream(endless())
    time.sleep(0.2)
    assert produced == []  # nothing runs before the first frame is asked for
    first = [next(stream)[0] for _ in range(5)]
    assert first == ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "4.jpg"]
    time.sleep(0.5)
    ahead = len(produced)
    time.sleep(0.3)
    assert len(produced) == ahead < 5 + 30  # the stages stopped: a few queues of 2 and a detector batch
    assert threading.active_count() > before
    stream.close()
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
