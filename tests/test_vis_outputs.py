"""The vis/ folder read back: one file per frame named as the frame, after `posekit infer` and after
`posekit track --visdir` into the same folder; tracked renderings carry each person's id label."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from posekit.cli.main import main
from posekit.infer.outputs import RenderingNames
from posekit.render.draw import track_color, with_neck
from tests.test_pipeline_cli import fake_models  # noqa: F401  (the fake detector and pose model)


def _png_frames(coco_mini: Path, folder: Path) -> list[str]:
    """coco-val-mini's images as lossless PNG frames (so the renderings can be compared exactly)."""
    folder.mkdir()
    names = []
    for path in sorted((coco_mini / "val2017").iterdir()):
        names.append(f"{path.stem}.png")
        cv2.imwrite(str(folder / names[-1]), cv2.imread(str(path)))
    return names


def _chip_is_there(image: np.ndarray, entry: dict) -> bool:
    """Whether the person's id label sits above their highest drawn keypoint (score above 0.4, the neck
    included): a chip of their track colour as wide as the id's text + 4 px, its bottom 4 px above the
    point; at least half of it in that exact colour (the rest is the black text)."""
    kps = np.asarray(entry["keypoints"], dtype=np.float64).reshape(-1, 3)
    points, scores = with_neck(kps[:, :2], kps[:, 2])
    drawn = points[scores > 0.4].astype(int)
    x, y = drawn[np.argmin(drawn[:, 1])]
    (w, h), base = cv2.getTextSize(str(entry["idx"]), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    left, top = x - (w + 4) // 2, y - 4 - (h + base + 4)
    chip = image[top : y - 4, left : left + w + 4]
    return chip.size > 0 and (chip == track_color(entry["idx"])).all(axis=2).mean() >= 0.5


def test_tracked_infer_draws_ids_without_showbox(coco_mini, tmp_path, fake_models):  # noqa: F811
    frames = tmp_path / "frames"
    names = _png_frames(coco_mini, frames)
    out = tmp_path / "out"
    argv = ["infer", "--indir", str(frames), "--outdir", str(out), "--pose_track", "--det_interval", "1"]
    assert main([*argv, "--sp"]) == 0
    assert sorted(p.name for p in (out / "vis").iterdir()) == names
    results = json.loads((out / "alphapose-results.json").read_text())
    assert len(results) == 2 * len(names) and {type(r["idx"]) for r in results} == {int}
    for entry in results:
        image = cv2.imread(str(out / "vis" / entry["image_id"]))
        assert _chip_is_there(image, entry), entry["image_id"]
    # the untracked run draws no chip at the same places
    plain = tmp_path / "plain"
    assert main(["infer", "--indir", str(frames), "--outdir", str(plain), "--sp"]) == 0
    for entry in results:
        image = cv2.imread(str(plain / "vis" / entry["image_id"]))
        assert not _chip_is_there(image, entry), entry["image_id"]


def test_track_visdir_into_infers_vis_keeps_one_file_per_frame(coco_mini, tmp_path, fake_models):  # noqa: F811
    """The README's flow: infer on a folder of .jpg frames, then track with --visdir OUT/vis; vis/ then
    holds exactly one file per frame (the tracked rendering, with the frame's name), no .png beside
    the .jpg."""
    frames = coco_mini / "val2017"
    names = sorted(p.name for p in frames.iterdir())
    out = tmp_path / "out"
    assert main(["infer", "--indir", str(frames), "--outdir", str(out), "--sp"]) == 0
    untracked = {name: cv2.imread(str(out / "vis" / name)) for name in names}
    tracked_json = out / "tracked.json"
    argv = ["track", "--imgdir", str(frames), "--in_json", str(out / "alphapose-results.json")]
    assert main([*argv, "--out_json", str(tracked_json), "--visdir", str(out / "vis")]) == 0
    assert sorted(p.name for p in (out / "vis").iterdir()) == names
    tracked = json.loads(tracked_json.read_text())
    assert sorted(tracked) == names
    for name in names:
        image = cv2.imread(str(out / "vis" / name))
        assert image.shape == untracked[name].shape and (image != untracked[name]).any()


def test_rendering_names_are_the_frame_names_with_a_writable_extension_and_unique(tmp_path):
    names = RenderingNames()
    assert names.path(tmp_path, "000001.jpg") == tmp_path / "000001.jpg"
    assert names.path(tmp_path, "sub/dir/A.PNG") == tmp_path / "A.PNG"
    assert names.path(tmp_path, "clip.webp") == tmp_path / "clip.jpg"
    assert names.path(tmp_path, "frame7") == tmp_path / "frame7.jpg"
    assert names.path(tmp_path, "clip.jpg") == tmp_path / "clip.jpg.jpg"  # clip.jpg went to clip.webp
