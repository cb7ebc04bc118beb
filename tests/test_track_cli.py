"""`posekit track` and the seed's tracker-general.py on a PoseTrack18 clip: formats, ids, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from devkit.shared_data import REPO
from posekit.cli.main import main

STEP = (8, -3)  # camera shift per frame, px
FRAMES = 5


@pytest.fixture(scope="module")
def clip(posetrack_mini, tmp_path_factory) -> dict:
    """A 5-frame clip of the annotated PoseTrack18 frame 012834 (11 people with track ids), shifted a
    few pixels per frame, with the annotations as AlphaPose's alphapose-results.json."""
    root = tmp_path_factory.mktemp("clip")
    ann = json.loads((posetrack_mini / "annotations" / "test_posetrack18_val.json").read_text())
    image_info = next(im for im in ann["images"] if "012834" in im["file_name"])
    people = [a for a in ann["annotations"] if a["image_id"] == image_info["id"]]
    image = cv2.imread(str(posetrack_mini / image_info["file_name"]))
    image = cv2.resize(image, (960, 540), interpolation=cv2.INTER_AREA)  # keep the test fast
    imgdir = root / "images"
    imgdir.mkdir()
    results, track_ids = [], {}
    for t in range(FRAMES):
        dx, dy = STEP[0] * t, STEP[1] * t
        moved = cv2.warpAffine(
            image, np.float32([[1, 0, dx], [0, 1, dy]]), (960, 540), borderMode=cv2.BORDER_REFLECT
        )
        name = f"{t:06d}.jpg"
        cv2.imwrite(str(imgdir / name), moved)
        for a in people:
            kps = np.asarray(a["keypoints"], float).reshape(-1, 3)
            seen = kps[:, 2] > 0
            kps[:, :2] = np.where(seen[:, None], kps[:, :2] / 2 + [dx, dy], 0.0)
            kps[:, 2] = np.where(seen, 0.9, 0.0)
            x, y, w, h = (v / 2 for v in a["bbox"])
            entry = {"image_id": name, "category_id": 1, "keypoints": kps.ravel().tolist(), "score": 2.6}
            results.append({**entry, "box": [x + dx, y + dy, w, h], "idx": [0.0]})
            track_ids[(name, len([r for r in results if r["image_id"] == name]) - 1)] = a["track_id"]
    in_json = root / "alphapose-results.json"
    in_json.write_text(json.dumps(results))
    return {"root": root, "imgdir": imgdir, "in_json": in_json, "track_ids": track_ids, "people": len(people)}


def _ids_follow_ground_truth(out: dict, clip: dict) -> None:
    """Every ground-truth track keeps one id and no two tracks share one (zero switches)."""
    mapping: dict[int, set] = {}
    for name, entries in out.items():
        for k, e in enumerate(entries):
            mapping.setdefault(clip["track_ids"][(name, k)], set()).add(e["idx"])
    assert all(len(v) == 1 for v in mapping.values())
    assert len({next(iter(v)) for v in mapping.values()}) == clip["people"]


def test_seed_shim_tracks_the_clip_with_poseflow(clip, tmp_path) -> None:
    out_json = clip["root"] / "alphapose-results-forvis-tracked.json"
    visdir = tmp_path / "vis"
    proc = subprocess.run(
        [
            sys.executable,
            "./trackers_files/PoseFlow/tracker-general.py",
            f"--imgdir={clip['imgdir']}",
            f"--in_json={clip['in_json']}",
            f"--out_json={out_json}",
            f"--visdir={visdir}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"This video contains {clip['people']} people." in proc.stdout
    out = json.loads(out_json.read_text())
    assert list(out) == [f"{t:06d}.jpg" for t in range(FRAMES)]
    source = json.loads(clip["in_json"].read_text())
    for name, entries in out.items():
        given = [r for r in source if r["image_id"] == name]
        assert [e["keypoints"] for e in entries] == [r["keypoints"] for r in given]
        assert all(set(e) == {"keypoints", "scores", "idx"} and isinstance(e["idx"], int) for e in entries)
    _ids_follow_ground_truth(out, clip)
    # the untracked dict form is written beside the input, as tracker-general.py does
    forvis = json.loads((clip["root"] / "alphapose-results-forvis.json").read_text())
    assert forvis["000000.jpg"][0] == {"keypoints": source[0]["keypoints"], "scores": source[0]["score"]}
    drawn = sorted(visdir.iterdir())
    assert [p.name for p in drawn] == [f"{t:06d}.jpg" for t in range(FRAMES)]
    assert cv2.imread(str(drawn[0])).shape == (540, 960, 3)


def test_posekit_track_oks_reads_either_format_and_round_trips(clip, tmp_path) -> None:
    first = tmp_path / "tracked.json"
    assert (
        main(
            [
                "track",
                "--imgdir",
                str(clip["imgdir"]),
                "--in_json",
                str(clip["in_json"]),
                "--out_json",
                str(first),
            ]
        )
        == 0
    )
    out = json.loads(first.read_text())
    _ids_follow_ground_truth(out, clip)
    # the forvis dict form as input gives the same result; so does the tracked output itself
    forvis = clip["root"] / "alphapose-results-forvis.json"
    for source in (forvis, first):
        again = tmp_path / f"again-{source.stem}.json"
        assert (
            main(
                ["track", "--imgdir", str(clip["imgdir"]), "--in-json", str(source), "--out-json", str(again)]
            )
            == 0
        )
        assert json.loads(again.read_text()) == out


def test_save_matching_next_to_the_output(clip, tmp_path) -> None:
    out_json = tmp_path / "res" / "tracked.json"
    argv = [
        "track",
        "--imgdir",
        str(clip["imgdir"]),
        "--in_json",
        str(clip["in_json"]),
        "--out_json",
        str(out_json),
    ]
    assert main([*argv, "--tracker", "poseflow", "--save_matching", "--link", "50", "--match", "0.3"]) == 0
    files = sorted((tmp_path / "res" / "poseflow" / "matching").iterdir())
    assert [f.name for f in files] == [f"{t}_{t + 1}_orb.txt" for t in range(FRAMES - 1)]
    cors = np.loadtxt(files[0])
    assert cors.shape[1] == 5 and len(cors) > 50
    assert np.median(cors[:, 2:4] - cors[:, :2], axis=0) == pytest.approx(STEP, abs=1.0)


def _subset(clip, tmp_path, names) -> Path:
    source = json.loads(clip["in_json"].read_text())
    path = tmp_path / "subset.json"
    path.write_text(json.dumps([r for r in source if r["image_id"] in names]))
    return path


def test_results_of_another_folder_are_refused(clip, tmp_path, capsys) -> None:
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / "frame_a.jpg"), np.zeros((20, 20, 3), np.uint8))
    argv = [
        "track",
        "--imgdir",
        str(other),
        "--in_json",
        str(clip["in_json"]),
        "--out_json",
        str(tmp_path / "o.json"),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "none of its 5 image names" in err and "another folder" in err
    assert not (tmp_path / "o.json").exists()


def test_missing_images_empty_frames_and_odd_sizes_lose_nothing(clip, tmp_path, capsys) -> None:
    imgdir = tmp_path / "frames"
    imgdir.mkdir()
    for t in (0, 1, 3, 4):  # 000002.jpg is missing
        (imgdir / f"{t:06d}.jpg").write_bytes((clip["imgdir"] / f"{t:06d}.jpg").read_bytes())
    cv2.imwrite(str(imgdir / "000005.jpg"), np.zeros((100, 200, 3), np.uint8))  # nobody, another size
    names = {f"{t:06d}.jpg" for t in (0, 1, 2, 4)}  # nobody in 000003.jpg either
    in_json = _subset(clip, tmp_path, names)
    out_json = tmp_path / "tracked.json"
    argv = ["track", "--imgdir", str(imgdir), "--in_json", str(in_json), "--out_json", str(out_json)]
    for tracker in ("oks", "poseflow"):
        assert main([*argv, "--tracker", tracker]) == 0
        err = capsys.readouterr().err
        assert "1 image(s) not in" in err and "'000002.jpg'" in err
        assert "000005.jpg is 200x100" in err
        out = json.loads(out_json.read_text())
        assert list(out) == [f"{t:06d}.jpg" for t in range(6)]
        assert [len(out[n]) for n in out] == [11, 11, 11, 0, 11, 0]
        first = [e["idx"] for e in out["000000.jpg"]]
        assert first == list(range(1, 12))
        for name in ("000001.jpg", "000002.jpg", "000004.jpg"):  # ids continue over the gaps
            assert [e["idx"] for e in out[name]] == first, (tracker, name)


def test_tracked_file_is_exactly_the_json_of_every_frames_people(clip, tmp_path) -> None:
    """Streamed frame by frame, the file is byte for byte json.dumps of {frame: [{keypoints, scores,
    idx}]} over every frame in order (as it was when written whole), for both trackers."""
    imgdir = tmp_path / "frames"
    imgdir.mkdir()
    for t in (0, 1, 3, 4):  # 000002.jpg is missing
        (imgdir / f"{t:06d}.jpg").write_bytes((clip["imgdir"] / f"{t:06d}.jpg").read_bytes())
    cv2.imwrite(str(imgdir / "000005.jpg"), np.zeros((100, 200, 3), np.uint8))  # nobody
    in_json = _subset(clip, tmp_path, {f"{t:06d}.jpg" for t in (0, 1, 2, 4)})
    given = json.loads(in_json.read_text())
    expected = {}
    for t in range(6):
        people = [r for r in given if r["image_id"] == f"{t:06d}.jpg"]
        expected[f"{t:06d}.jpg"] = [
            {"keypoints": r["keypoints"], "scores": r["score"], "idx": k + 1} for k, r in enumerate(people)
        ]
    for tracker in ("oks", "poseflow"):
        out_json = tmp_path / f"{tracker}.json"
        argv = ["track", "--imgdir", str(imgdir), "--in_json", str(in_json), "--out_json", str(out_json)]
        assert main([*argv, "--tracker", tracker]) == 0
        assert out_json.read_bytes() == json.dumps(expected).encode()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_a_run_that_fails_midway_leaves_no_tracked_file(clip, tmp_path, monkeypatch) -> None:
    import posekit.infer.track_job as track_job

    drawn: list[str] = []

    def draw(path, image, result) -> None:
        drawn.append(path.name)
        if len(drawn) == 3:
            raise OSError("disk gone")

    monkeypatch.setattr(track_job, "_draw", draw)
    out_json = tmp_path / "out" / "tracked.json"
    with pytest.raises(OSError, match="disk gone"):
        track_job.track_folder(clip["imgdir"], clip["in_json"], out_json, visdir=tmp_path / "vis")
    assert drawn == ["000000.jpg", "000001.jpg", "000002.jpg"]
    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor its temp


def test_bad_json_gives_one_clear_line(clip, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_id": "000000.jpg", "keypoints": [1, 2]}]))
    argv = [
        "track",
        "--imgdir",
        str(clip["imgdir"]),
        "--in_json",
        str(bad),
        "--out_json",
        str(tmp_path / "o.json"),
    ]
    assert main(argv) == 1
    assert "entry 0 (image '000000.jpg') has 2 keypoint values" in capsys.readouterr().err
    bad.write_text("{not json")
    assert main(argv) == 1
    assert "not valid JSON" in capsys.readouterr().err


GOOD = {"keypoints": [10.0, 20.0, 0.9] * 17, "scores": 2.5}
NOT_NUMBERS = {"image_id": "000002.jpg", "keypoints": ["nose", 1, 0.9]}
BAD_ENTRIES = {
    "person-not-object": (
        {"000000.jpg": [GOOD, 7]},
        "person 1 of image '000000.jpg' is not an object with 'keypoints' (got int)",
    ),
    "box-not-list": (
        [{"image_id": "000001.jpg", "keypoints": GOOD["keypoints"], "score": 2.5, "box": 5}],
        "entry 0 (image '000001.jpg') has box 5, expected [x, y, w, h] numbers",
    ),
    "keypoints-not-numbers": (
        [{"image_id": "000000.jpg", "keypoints": GOOD["keypoints"]}, NOT_NUMBERS],
        "entry 1 (image '000002.jpg') has keypoints that are not a list of numbers",
    ),
    "score-not-number": (
        {"000003.jpg": [{**GOOD, "scores": None}]},
        "person 0 of image '000003.jpg' has scores None, expected a number",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ENTRIES))
def test_bad_entries_name_the_file_and_the_entry(clip, tmp_path, capsys, case) -> None:
    content, message = BAD_ENTRIES[case]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(content))
    out_json = tmp_path / "o.json"
    argv = ["track", "--imgdir", str(clip["imgdir"]), "--in_json", str(bad), "--out_json", str(out_json)]
    assert main(argv) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {bad}: {message}"]
    assert not out_json.exists()


def test_unreadable_image_is_tracked_without_image_cues(clip, tmp_path, capsys) -> None:
    imgdir = tmp_path / "frames"
    imgdir.mkdir()
    for t in range(FRAMES):
        (imgdir / f"{t:06d}.jpg").write_bytes((clip["imgdir"] / f"{t:06d}.jpg").read_bytes())
    (imgdir / "000002.jpg").write_bytes(b"not a jpeg")
    out_json = tmp_path / "tracked.json"
    argv = ["track", "--imgdir", str(imgdir), "--in_json", str(clip["in_json"]), "--out_json", str(out_json)]
    assert main([*argv, "--tracker", "poseflow", "--visdir", str(tmp_path / "vis")]) == 0
    assert "000002.jpg: not a readable image" in capsys.readouterr().err
    out = json.loads(out_json.read_text())
    _ids_follow_ground_truth(out, clip)
    assert sorted(p.name for p in (tmp_path / "vis").iterdir()) == [f"{t:06d}.jpg" for t in (0, 1, 3, 4)]


def test_absurd_coordinates_do_not_crash_the_drawing(clip, tmp_path, capsys) -> None:
    results = json.loads(clip["in_json"].read_text())
    for entry in results[:3]:  # three people of the first frame: coordinates of a diverged model
        entry["keypoints"] = [1e300 if k % 3 != 2 else 0.9 for k in range(len(entry["keypoints"]))]
        entry["box"] = [1e300, -1e300, 1e300, 1e300]
    in_json = tmp_path / "absurd.json"
    in_json.write_text(json.dumps(results))
    out_json, visdir = tmp_path / "tracked.json", tmp_path / "vis"
    for tracker in ("oks", "poseflow"):
        argv = [
            "track",
            "--imgdir",
            str(clip["imgdir"]),
            "--in_json",
            str(in_json),
            "--out_json",
            str(out_json),
        ]
        assert main([*argv, "--tracker", tracker, "--visdir", str(visdir)]) == 0, capsys.readouterr().err
        assert sorted(p.name for p in visdir.iterdir()) == [f"{t:06d}.jpg" for t in range(FRAMES)]
        assert len(json.loads(out_json.read_text())["000000.jpg"]) == clip["people"]
