"""One-step tracking (seed §5): `posekit infer --pose_flow` on the posetrack18-mini clip (fake models)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from posekit.cli.main import main
from posekit.render.draw import track_color
from tests.test_pipeline_cli import MP4, fake_models  # noqa: F401  (the fake detector and pose model)

CLIP = "videos/000001_mpiinew_test"
FRAMES = [f"{k:06d}.jpg" for k in range(5)]


def _check_tracked(out, names: list[str]) -> None:
    """Two people per frame with int ids 1 and 2 throughout; ORB matches of every frame pair saved."""
    results = json.loads((out / "alphapose-results.json").read_text())
    assert [r["image_id"] for r in results] == [n for n in names for _ in range(2)]
    assert all(type(r["idx"]) is int for r in results)
    assert [r["idx"] for r in results] == [1, 2] * len(names)
    matching = out / "poseflow" / "matching"
    files = sorted(p.name for p in matching.iterdir())
    assert files == [f"{t}_{t + 1}_orb.txt" for t in range(len(names) - 1)]
    for name in files:
        cors = np.loadtxt(matching / name, ndmin=2)
        assert cors.shape[1] == 5 and len(cors) > 300, name  # "x1 y1 x2 y2 dist" lines
        assert np.median(cors[:, 2:4] - cors[:, :2], axis=0).tolist() == [0, 0]  # the camera stands still


def _video_frames(path) -> list[np.ndarray]:
    video = cv2.VideoCapture(str(path))
    frames = []
    while (frame := video.read())[0]:
        frames.append(frame[1])
    return frames


def _check_id_colours(image_bgr: np.ndarray, people: list[dict]) -> None:
    """Each person is drawn in its id's colour inside its own box, and that colour is absent from the
    other person's box (the two fake people's boxes do not overlap)."""
    for person, other in (people, people[::-1]):
        near = np.abs(image_bgr.astype(int) - track_color(person["idx"])).sum(-1) < 60
        counts = []
        for x, y, w, h in (person["box"], other["box"]):
            counts.append(int(near[int(y) : int(y + h), int(x) : int(x + w)].sum()))
        assert counts[0] > 200 and counts[1] == 0, (person["idx"], counts)


def test_infer_video_pose_flow_save_video(posetrack_mini, tmp_path, fake_models, capsys) -> None:  # noqa: F811
    """The seed's command: --video=... --outdir=... --save_video --pose_flow --vis_fast."""
    out = tmp_path / "video"
    argv = ["infer", f"--video={posetrack_mini / MP4}", f"--outdir={out}", "--save_video", "--pose_flow"]
    # The fake pose model's keypoints do not span its box, so pose-guided crops (on by default for
    # video) would shrink from frame to frame: this checks the per-frame path (guided crops are tested
    # with the default model in test_track_video.py).
    assert main([*argv, "--vis_fast", "--det_interval=1"]) == 0
    video = out / "AlphaPose_000001_mpiinew_test.mp4"
    assert f"rendered video: {video}" in capsys.readouterr().out
    _check_tracked(out, [f"{k}.jpg" for k in range(5)])
    frames = _video_frames(video)
    assert len(frames) == 5
    results = json.loads((out / "alphapose-results.json").read_text())
    _check_id_colours(frames[2], [r for r in results if r["image_id"] == "2.jpg"])


@pytest.mark.parametrize("save_video", [False, True])
def test_infer_frames_pose_flow(posetrack_mini, tmp_path, fake_models, save_video) -> None:  # noqa: F811
    """The same clip as a folder of frames: drawn frames in vis/, and the mp4 only with --save_video."""
    out = tmp_path / "frames"
    argv = ["infer", "--indir", str(posetrack_mini / CLIP), "--outdir", str(out), "--pose_flow"]
    argv += ["--det_interval", "1"]  # the per-frame path (see test_infer_video_pose_flow_save_video)
    assert main(argv + ["--save_video"] * save_video) == 0
    _check_tracked(out, FRAMES)
    assert sorted(p.name for p in (out / "vis").iterdir()) == FRAMES
    results = json.loads((out / "alphapose-results.json").read_text())
    _check_id_colours(
        cv2.imread(str(out / "vis" / FRAMES[2])), [r for r in results if r["image_id"] == FRAMES[2]]
    )
    videos = sorted(out.glob("*.mp4"))
    assert [p.name for p in videos] == (["AlphaPose_images.mp4"] if save_video else [])
    assert [len(_video_frames(p)) for p in videos] == ([5] if save_video else [])
