"""The inference pipeline with a fake detector and pose model: order, threads vs --sp, outputs, errors."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict

import cv2
import numpy as np
import pytest

from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.infer.options import OutputOptions, StreamOptions
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.run import FINISH_MESSAGE, JSON_MESSAGE, RENDER_MESSAGE, run_inference
from posekit.infer.sources import collect_image_paths, open_images, open_video
from posekit.infer.stages import detect_stage
from posekit.infer.threads import threaded
from posekit.io.video import probe_video, read_frames
from tests.pipeline_fakes import FakeDetector, FakePoseModel

MP4 = "videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


def _run(source, outdir, outputs=None, detector=None, **stream):
    messages: list[str] = []
    summary = run_inference(source, detector or FakeDetector(), FakePoseModel(),
                            OutputOptions(outdir=str(outdir), save_img=False), stream=StreamOptions(**stream),
                            outputs=outputs, progress=False, log=messages.append)  # fmt: skip
    return summary, messages, json.loads((outdir / "alphapose-results.json").read_text())


# ---------------------------------------------------------------- threaded stages


def test_threaded_keeps_order_and_re_raises():
    assert list(threaded(range(100), maxsize=3)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(threaded(failing(), maxsize=2))


def test_threaded_is_bounded_and_stops_when_the_consumer_stops():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    before = threading.active_count()
    stream = threaded(endless(), maxsize=4)
    assert [next(stream) for _ in range(10)] == list(range(10))
    time.sleep(0.3)
    assert len(produced) <= 10 + 4 + 1  # never more than the queue ahead of the consumer
    stream.close()
    deadline = time.time() + 3
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before


def test_detect_stage_batches_in_order_and_skips_unreadable():
    from posekit.infer.sources import Frame

    frames = [Frame(i, f"{i}.jpg", np.zeros((20, 30, 3), np.uint8) if i != 2 else None) for i in range(7)]
    detector = FakeDetector()
    out = list(detect_stage(iter(frames), detector, 3, defaultdict(float)))
    assert [f.index for f in out] == list(range(7))
    assert detector.batches == [2, 3, 1]  # frame 2 is not sent to the detector
    assert out[2].detections is None and len(out[3].detections) == 2


# ---------------------------------------------------------------- images


def test_folder_run_threads_and_sp_give_identical_results(coco_mini, tmp_path):
    paths = collect_image_paths(str(coco_mini / "val2017"), None, None)
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    outs = {}
    for mode, single in (("threads", False), ("sp", True)):
        outdir = tmp_path / mode
        outputs = RenderedOutputs(outdir, save_img=True, save_video=False)
        summary, messages, results = _run(open_images(paths), outdir, outputs=outputs, single_thread=single)
        assert summary.frames == 4 and summary.people == len(results) and not summary.failed
        assert messages == [FINISH_MESSAGE, RENDER_MESSAGE, messages[2], JSON_MESSAGE]
        assert "--vis_fast" in messages[2]
        outs[mode] = results
        for path in paths:
            rendered = cv2.imread(str(outdir / "vis" / path.name))
            assert rendered.shape == cv2.imread(str(path)).shape
    assert outs["threads"] == outs["sp"]
    assert {r["image_id"] for r in outs["sp"]} == {p.name for p in paths}
    assert all(len(r["keypoints"]) == 51 for r in outs["sp"])


def test_unreadable_images_are_skipped_and_listed(coco_mini, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = sorted((coco_mini / "val2017").iterdir())[0]
    (folder / "b_good.jpg").write_bytes(good.read_bytes())
    (folder / "a_empty.jpg").write_bytes(b"")
    (folder / "c_text.png").write_text("not an image")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    summary, _, results = _run(open_images(collect_image_paths(str(folder), None, None)), tmp_path / "out")
    assert summary.frames == 1 and {r["image_id"] for r in results} == {"b_good.jpg"}
    assert [name for name, _ in summary.failed] == ["a_empty.jpg", "c_text.png"]
    assert "empty" in summary.failed[0][1] and "not a readable image" in summary.failed[1][1]


def test_nothing_readable_is_an_error(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.jpg").write_bytes(b"")
    with pytest.raises(PosekitError, match=r"no input could be processed: .*x\.jpg: image file is empty"):
        _run(open_images(collect_image_paths(str(folder), None, None)), tmp_path / "out")
    assert not (tmp_path / "out" / "alphapose-results.json").exists()


def test_input_selection_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PosekitError, match="no images"):
        collect_image_paths(str(tmp_path / "empty"), None, None)
    with pytest.raises(PosekitError, match="input folder not found"):
        collect_image_paths(str(tmp_path / "nope"), None, None)
    listing = tmp_path / "list.txt"
    listing.write_text("b.jpg\n\n# comment\na.jpg\n")
    assert [p.name for p in collect_image_paths(str(tmp_path), str(listing), None)] == ["b.jpg", "a.jpg"]


def test_detfile_boxes_are_used(coco_mini, tmp_path):
    detfile = DetectionFile(coco_mini / "annotations" / "person_detections_val2017.json")
    raw = json.loads((coco_mini / "annotations" / "person_detections_val2017.json").read_text())
    paths = collect_image_paths(str(coco_mini / "val2017"), None, None)
    model = FakePoseModel()
    output = OutputOptions(outdir=str(tmp_path), save_img=False)
    run_inference(open_images(paths), detfile, model, output, progress=False, log=lambda m: None)
    for path, boxes in zip(paths, model.calls):
        want = [d["bbox"] for d in raw if d["image_id"] == int(path.stem)]
        got = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
        np.testing.assert_allclose(got, np.array(want), rtol=1e-5, atol=1e-3)


def test_detfile_is_a_named_detector_in_the_detect_stage(coco_mini):
    from posekit.detectors.base import NamedDetector
    from posekit.infer.sources import Frame

    detfile = DetectionFile(coco_mini / "annotations" / "person_detections_val2017.json")
    assert isinstance(detfile, NamedDetector) and detfile.name == "detfile"
    paths = collect_image_paths(str(coco_mini / "val2017"), None, None)
    frames = [Frame(i, p.name, np.zeros((8, 8, 3), np.uint8)) for i, p in enumerate(paths)]
    frames.append(Frame(len(paths), "unlisted.jpg", np.zeros((8, 8, 3), np.uint8)))
    out = list(detect_stage(iter(frames), detfile, 3, defaultdict(float)))
    for frame, path in zip(out, paths):
        np.testing.assert_array_equal(frame.detections.boxes, detfile.lookup(path.name).boxes)
        assert len(frame.detections) > 0
    assert len(out[-1].detections) == 0
    with pytest.raises(PosekitError, match="a detection file finds boxes by image name, not by pixels"):
        detfile.detect([frames[0].image])


# ---------------------------------------------------------------- video and Ctrl-C


def test_video_end_to_end_writes_json_and_mp4(posetrack_mini, tmp_path):
    source = open_video(posetrack_mini / MP4)
    outputs = RenderedOutputs(
        tmp_path, save_img=False, save_video=True, video_stem=source.stem, fps=source.fps
    )
    summary, _, results = _run(source, tmp_path, outputs=outputs, detbatch=2)
    assert summary.frames == 5
    assert sorted({r["image_id"] for r in results}) == ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "4.jpg"]
    video = tmp_path / "AlphaPose_000001_mpiinew_test.mp4"
    assert summary.video_path == video
    info = probe_video(video)
    assert (info.frames, info.width, info.height, info.fps) == (5, 1280, 720, 30)
    assert len(list(read_frames(video))) == 5


class _InterruptingOutputs(RenderedOutputs):
    """Renders like RenderedOutputs, then behaves as if Ctrl-C were pressed while drawing frame 3."""

    def draw(self, frame):
        if frame.index == 3:
            raise KeyboardInterrupt
        return super().draw(frame)


@pytest.mark.parametrize("single", [False, True])
def test_ctrl_c_stops_cleanly_and_writes_what_was_done(posetrack_mini, tmp_path, single):
    before = threading.active_count()
    source = open_video(posetrack_mini / MP4)
    outputs = _InterruptingOutputs(
        tmp_path, save_img=False, save_video=True, video_stem="clip", fps=source.fps
    )
    summary, messages, results = _run(source, tmp_path, outputs=outputs, single_thread=single, qsize=2)
    assert summary.interrupted and summary.frames == 3
    assert sorted({r["image_id"] for r in results}) == ["0.jpg", "1.jpg", "2.jpg"]
    assert messages[-1] == JSON_MESSAGE
    assert probe_video(tmp_path / "AlphaPose_clip.mp4").frames == 3  # the video so far is finalised
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before
