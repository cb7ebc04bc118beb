"""Data loss, one test group per class: outputs over inputs, two runs into one folder, output names that
collide or are too long for a temp name, a full disk while writing results, a damaged video packet, a
stream whose frame size changes. Every test builds its own files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from posekit.cli.main import main
from posekit.errors import PosekitError
from posekit.infer.options import OutputOptions
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.run import OUTPUT_LOCK, run_inference
from posekit.infer.sources import Frame, Source, open_images
from posekit.io.atomic import AtomicTextFile, atomic_dir, atomic_write_text
from posekit.io.outnames import NAME_MAX, OutputNames, fit_name
from posekit.io.video import VideoWriter, probe_video, read_frames
from posekit.paths import check_apart
from tests.pipeline_fakes import FakeDetector, FakePoseModel
from tests.test_pipeline_cli import fake_models  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[1]


def _photos(folder: Path, names: list[str], size: tuple[int, int] = (48, 64)) -> dict[str, bytes]:
    """Write distinct small photos; returns {name: file bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for k, name in enumerate(names):
        image = np.full((*size, 3), (40 + 50 * k) % 250, dtype=np.uint8)
        image[5:20, 5 + 3 * k : 25 + 3 * k] = 255
        ok, data = cv2.imencode(Path(name).suffix, image)
        assert ok
        (folder / name).write_bytes(data.tobytes())
        written[name] = data.tobytes()
    return written


def _infer(paths: list[Path], outdir: Path, **kwargs):
    outputs = RenderedOutputs(outdir, save_img=kwargs.pop("save_img", True), save_video=False)
    return run_inference(
        open_images(paths),
        kwargs.pop("detector", FakeDetector()),
        FakePoseModel(),
        OutputOptions(outdir=str(outdir), format=kwargs.pop("fmt", "coco")),
        outputs=outputs,
        progress=False,
        log=lambda message: None,
        **kwargs,
    )


# ---------------------------------------------------------------- outputs over inputs


def test_infer_refuses_an_input_folder_inside_what_it_writes(tmp_path):
    out = tmp_path / "OUT"
    photos = _photos(out / "vis", ["a.jpg", "b.jpg"])
    with pytest.raises(PosekitError, match=r"lie inside one another.*nothing written") as caught:
        _infer(sorted((out / "vis").iterdir()), out)
    assert "\n" not in str(caught.value)
    assert {p.name: p.read_bytes() for p in (out / "vis").iterdir()} == photos  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["vis"]  # no results json, no lock left


def test_infer_refuses_an_input_reached_through_a_symlink(tmp_path):
    out = tmp_path / "OUT"
    photos = _photos(out / "vis", ["a.jpg"])
    (tmp_path / "shortcut").symlink_to(out / "vis")
    with pytest.raises(PosekitError, match="lie inside one another"):
        _infer([tmp_path / "shortcut" / "a.jpg"], out)
    assert (out / "vis" / "a.jpg").read_bytes() == photos["a.jpg"]


def test_infer_beside_its_inputs_is_allowed_when_nothing_is_overwritten(tmp_path):
    """--indir OUT --outdir OUT: renderings go to OUT/vis, the photos stay as they were."""
    photos = _photos(tmp_path, ["a.jpg", "b.png"])
    summary = _infer([tmp_path / "a.jpg", tmp_path / "b.png"], tmp_path)
    assert summary.frames == 2
    assert {name: (tmp_path / name).read_bytes() for name in photos} == photos
    assert sorted(p.name for p in (tmp_path / "vis").iterdir()) == ["a.jpg", "b.png"]


def test_track_refuses_writing_over_its_input_json_or_frames(tmp_path, capsys):
    _photos(tmp_path / "frames", ["0.jpg"])
    person = {"image_id": "0.jpg", "keypoints": [10.0, 20.0, 0.9] * 17, "score": 0.9, "box": [5, 5, 30, 40]}
    results = tmp_path / "r.json"
    results.write_text(json.dumps([person]))
    original = results.read_text()
    base = ["track", "--imgdir", str(tmp_path / "frames"), "--in_json", str(results)]
    assert main([*base, "--out_json", str(results)]) == 1
    assert (
        capsys.readouterr().err
        == f"error: {results}: the output file is the input {results}; write it elsewhere\n"
    )
    assert main([*base, "--out_json", str(tmp_path / "t.json"), "--visdir", str(tmp_path)]) == 1
    assert "lie inside one another" in capsys.readouterr().err  # the frames folder lies inside --visdir
    assert results.read_text() == original and not (tmp_path / "t.json").exists()
    assert main([*base, "--out_json", str(tmp_path / "t.json"), "--visdir", str(tmp_path / "drawn")]) == 0


def test_export_refuses_an_output_that_is_its_checkpoint(tmp_path, capsys):
    checkpoint = tmp_path / "model.pth"
    checkpoint.write_bytes(b"weights")
    cfg = REPO / "configs/tests/tiny_res18_128x96.yaml"
    argv = ["export", "onnx", "--cfg", str(cfg), "--checkpoint", str(checkpoint), "--output", str(checkpoint)]
    assert main(argv) == 1
    assert (
        capsys.readouterr().err
        == f"error: {checkpoint}: the output file is the input {checkpoint}; write it elsewhere\n"
    )
    assert checkpoint.read_bytes() == b"weights"


def test_check_apart_rules(tmp_path):
    (tmp_path / "in").mkdir()
    check_apart([tmp_path / "in"], trees=[tmp_path / "in" / "out"])  # a flat reader: allowed
    with pytest.raises(PosekitError):  # a reader of whole trees (convert): refused
        check_apart([tmp_path / "in"], trees=[tmp_path / "in" / "out"], recursive=True)
    with pytest.raises(PosekitError):
        check_apart([tmp_path / "in" / ".." / "in" / "x.jpg"], trees=[tmp_path / "in"])
    check_apart([tmp_path / "in" / "x.jpg"], files=[tmp_path / "in" / "y.jpg"])


# ---------------------------------------------------------------- one run per output folder


class BlockingDetector(FakeDetector):
    """Waits for `release` before detecting, so a run stays open while a second one starts."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.release = threading.Event(), threading.Event()

    def detect(self, images):
        self.started.set()
        assert self.release.wait(30)
        return super().detect(images)


def test_a_second_run_into_a_busy_output_folder_fails_with_one_line(tmp_path):
    _photos(tmp_path / "one", ["a.jpg"])
    _photos(tmp_path / "two", ["b.jpg", "c.jpg"])
    out = tmp_path / "out"
    slow = BlockingDetector()
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.update(s=_infer([tmp_path / "one" / "a.jpg"], out, detector=slow))
    )
    thread.start()
    try:
        assert slow.started.wait(30)
        with pytest.raises(PosekitError) as caught:
            _infer([tmp_path / "two" / "b.jpg", tmp_path / "two" / "c.jpg"], out)
        assert str(caught.value) == (
            f"{out}: another posekit run (pid {os.getpid()}) is writing into this output folder; wait for "
            "it or choose another"
        )
    finally:
        slow.release.set()
        thread.join(30)
    assert first["s"].frames == 1
    assert {e["image_id"] for e in json.loads((out / "alphapose-results.json").read_text())} == {"a.jpg"}
    assert sorted(p.name for p in (out / "vis").iterdir()) == ["a.jpg"]
    assert not (out / OUTPUT_LOCK).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    _photos(tmp_path / "in", ["a.jpg"])
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (out / OUTPUT_LOCK).write_text(dead.stdout.strip())
    assert _infer([tmp_path / "in" / "a.jpg"], out).frames == 1
    assert not (out / OUTPUT_LOCK).exists()


# ---------------------------------------------------------------- unique, fitting output names


def test_same_stem_different_extension_keeps_both_renderings_and_sep_json(tmp_path):
    _photos(tmp_path / "in", ["x.jpg", "x.webp", "x.png"])
    paths = [tmp_path / "in" / name for name in ("x.jpg", "x.webp", "x.png")]
    runs = []
    for run in ("r1", "r2"):
        _infer(paths, tmp_path / run, fmt="cmu")
        vis = {p.name: p.read_bytes() for p in (tmp_path / run / "vis").iterdir()}
        sep = {p.name: json.loads(p.read_text()) for p in (tmp_path / run / "sep-json").iterdir()}
        runs.append((vis, sep))
    vis, sep = runs[0]
    assert sorted(vis) == ["x.jpg", "x.png", "x.webp.jpg"]
    assert len(set(vis.values())) == 3  # three different renderings, none overwritten
    assert sorted(sep) == ["x.json", "x.png.json", "x.webp.json"]
    assert len({json.dumps(doc, sort_keys=True) for doc in sep.values()}) == 3
    assert runs[1] == runs[0]  # the same names on every run


def test_track_draws_same_stem_frames_to_distinct_files(tmp_path):
    _photos(tmp_path / "frames", ["x.jpg", "x.webp"])
    people = [
        {"image_id": name, "keypoints": [20.0 + k, 20.0, 0.9] * 17, "score": 0.9, "box": [5, 5, 30, 30]}
        for k, name in enumerate(["x.jpg", "x.webp"])
    ]
    (tmp_path / "r.json").write_text(json.dumps(people))
    argv = ["track", "--imgdir", str(tmp_path / "frames"), "--in_json", str(tmp_path / "r.json")]
    assert main([*argv, "--out_json", str(tmp_path / "t.json"), "--visdir", str(tmp_path / "drawn")]) == 0
    drawn = {p.name: cv2.imread(str(p)) for p in (tmp_path / "drawn").iterdir()}
    assert sorted(drawn) == ["x.jpg", "x.webp.jpg"]  # the names posekit infer renders them under
    assert not np.array_equal(drawn["x.jpg"], drawn["x.webp.jpg"])


def test_output_names_are_unique_case_insensitively_and_fit():
    names = OutputNames()
    taken = [names.take(n, ".json") for n in ("a.jpg", "A.png", "a.json", "a.jpg.json", "a.jpg")]
    assert taken == ["a.json", "A.png.json", "a.json.json", "a.jpg.json", "a_2.json"]
    long_a, long_b = "é" * 140 + "a.jpg", "é" * 140 + "b.jpg"  # 285 bytes each
    fitted = {fit_name(Path(n).stem, ".json") for n in (long_a, long_b)}
    assert len(fitted) == 2 and all(NAME_MAX - 1 <= len(n.encode()) <= NAME_MAX for n in fitted)


def test_names_near_the_file_system_limit_are_written_atomically(tmp_path):
    name = "n" * (NAME_MAX - 5) + ".json"  # exactly 255 bytes
    atomic_write_text(tmp_path / name, "[1]")
    assert (tmp_path / name).read_text() == "[1]"
    text = AtomicTextFile(tmp_path / ("é" * 125 + ".txt"))  # 254 bytes
    text.write("ok")
    assert text.commit().read_text() == "ok"
    with atomic_dir(tmp_path / ("d" * NAME_MAX)) as tmp:
        (tmp / "f").write_text("1")
    assert (tmp_path / ("d" * NAME_MAX) / "f").read_text() == "1"
    assert sorted(len(p.name.encode()) for p in tmp_path.iterdir()) == [254, 255, 255]  # no temp left


def test_an_image_named_near_the_limit_is_rendered(tmp_path):
    name = "p" * (NAME_MAX - 4) + ".jpg"
    _photos(tmp_path / "in", [name])
    assert _infer([tmp_path / "in" / name], tmp_path / "out").frames == 1
    assert [p.name for p in (tmp_path / "out" / "vis").iterdir()] == [name]


# ---------------------------------------------------------------- disk full while writing results

FSIZE_SCRIPT = """
import json, resource, sys
from pathlib import Path
from posekit.errors import PosekitError
from posekit.infer.options import OutputOptions
from posekit.infer.run import run_inference
from posekit.infer.sources import open_images
from tests.pipeline_fakes import FakeDetector, FakePoseModel

folder, out, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
paths = sorted(folder.iterdir())
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    output = OutputOptions(outdir=str(out), save_img=False)
    run_inference(open_images(paths), FakeDetector(), FakePoseModel(), output, progress=False, log=len)
except PosekitError as exc:
    print(exc)
"""


def test_a_file_size_limit_keeps_the_finished_frames(tmp_path):
    _photos(tmp_path / "in", [f"{k:02d}.png" for k in range(12)])
    limit = 9000  # each frame adds two people, about 1.6 KB: the limit is hit after a few frames
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    done = subprocess.run(
        [sys.executable, "-c", FSIZE_SCRIPT, str(tmp_path / "in"), str(tmp_path / "out"), str(limit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    results = tmp_path / "out" / "alphapose-results.json"
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    frames = int(lines[0].split("stopped by an error after ")[1].split(" ")[0])
    assert lines[0] == (
        f"stopped by an error after {frames} frame(s): [Errno 27] File too large "
        f"(the results of those frames are in {results})"
    )
    entries = json.loads(results.read_text())  # valid JSON holding every finished frame
    assert 0 < frames < 12
    assert [e["image_id"] for e in entries] == [f"{k:02d}.png" for k in range(frames) for _ in (0, 1)]
    assert results.stat().st_size <= limit


def test_a_results_file_that_cannot_be_finished_is_kept_as_partial(tmp_path):
    target = tmp_path / "alphapose-results.json"
    target.mkdir()  # the rename into place fails (a folder is in the way)
    (target / "x").write_text("")
    text = AtomicTextFile(target)
    text.write('[{"image_id": "a.jpg"}')
    with pytest.raises(PosekitError) as caught:
        text.commit()
    kept = tmp_path / "alphapose-results.json.partial"
    assert str(caught.value).startswith(f"{target}: could not finish writing (")
    assert str(caught.value).endswith(f"); the 22 bytes written so far are kept in {kept}")
    text.discard()  # as the run's cleanup does: the kept file stays
    assert kept.read_text() == '[{"image_id": "a.jpg"}'


def test_a_file_size_limit_before_the_first_frame_is_one_line(tmp_path):
    _photos(tmp_path / "in", ["a.png"])
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    done = subprocess.run(
        [sys.executable, "-c", FSIZE_SCRIPT, str(tmp_path / "in"), str(tmp_path / "out"), "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stdout == "stopped before any frame was finished: File too large\n", done.stderr
    assert not (tmp_path / "out" / "alphapose-results.json").exists()


# ---------------------------------------------------------------- damaged video packets


def _textured_video(path: Path, frames: int = 100, size: tuple[int, int] = (160, 120)) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    with VideoWriter(path, 25, *size) as writer:
        for k in range(frames):
            writer.write(np.roll(base, 3 * k, axis=1))


def test_a_damaged_packet_is_skipped_and_counted(tmp_path):
    clean, damaged = tmp_path / "clean.mp4", tmp_path / "damaged.mp4"
    _textured_video(clean)
    data = bytearray(clean.read_bytes())
    start, length = len(data) // 2, 300
    data[start : start + length] = np.random.default_rng(1).integers(0, 256, length, dtype=np.uint8).tobytes()
    damaged.write_bytes(bytes(data))
    with av.open(str(clean)) as container:  # the packets the garbage lands in
        hit = sum(
            1
            for p in container.demux(container.streams.video[0])
            if p.size and p.pos is not None and p.pos < start + length and p.pos + p.size > start
        )
    assert hit >= 1
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frames = [f.index for f in read_frames(damaged)]
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    skipped = int(messages[0].split("skipped ")[1].split(" ")[0])
    assert 1 <= skipped <= hit
    assert messages[0] == (
        f"{damaged}: video is damaged: skipped {skipped} packet(s) that could not be decoded, read "
        f"{100 - skipped} of 100 frames"
    )
    assert frames == list(range(100 - skipped))  # every other frame, the ones after the damage included


# ---------------------------------------------------------------- frame size changing mid-stream


def test_a_stream_whose_size_changes_is_rendered_whole(tmp_path):
    def frames():
        for k in range(8):
            size = (48, 64) if k < 4 else (60, 40)  # 64x48, then 40x60 (a portrait stream)
            yield Frame(k, f"{k}.jpg", np.full((*size, 3), 30 * k, dtype=np.uint8), timestamp=k / 25)

    source = Source(frames(), 8, 25.0, "clip", is_video=True)
    outputs = RenderedOutputs(tmp_path, save_img=False, save_video=True, video_stem="clip", fps=25.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        summary = run_inference(
            source,
            FakeDetector(),
            FakePoseModel(),
            OutputOptions(outdir=str(tmp_path)),
            outputs=outputs,
            progress=False,
            log=lambda m: None,
        )
    video = tmp_path / "AlphaPose_clip.mp4"
    assert summary.frames == 8 and summary.video_path == video
    resized = [str(w.message) for w in record if "scaled to fit" in str(w.message)]
    assert resized == [
        f"{video}: frame 4 is 40x60 but the video is 64x48: frames of another size are scaled to fit "
        "and padded"
    ]
    info = probe_video(video)
    decoded = [f.image for f in read_frames(video)]
    assert (info.width, info.height, len(decoded)) == (64, 48, 8)
    last = decoded[-1].astype(int)  # 40x60 scaled to 32x48, centred: black bars left and right
    assert last[:, :12].max() <= 20 and last[:, -12:].max() <= 20
    assert abs(np.median(last[:, 20:44]) - 210) <= 6


def test_a_detection_file_or_ground_truth_is_never_an_output(coco_mini, tmp_path, fake_models):  # noqa: F811
    """--detfile equal to the results json, and eval --out equal to an input, are refused by name."""
    out = tmp_path / "out"
    out.mkdir()
    detfile = out / "alphapose-results.json"
    shutil.copy(coco_mini / "annotations/person_detections_val2017.json", detfile)
    before = detfile.read_bytes()
    argv = ["infer", "--indir", str(coco_mini / "val2017"), "--outdir", str(out), "--detfile", str(detfile)]
    assert main(argv) == 1 and detfile.read_bytes() == before
    gt = tmp_path / "gt.json"
    shutil.copy(coco_mini / "annotations/person_keypoints_val2017.json", gt)
    results = tmp_path / "r.json"
    results.write_text("[]")
    assert main(["eval", str(gt), str(results), "--out", str(gt)]) == 1
    assert gt.read_bytes() == (coco_mini / "annotations/person_keypoints_val2017.json").read_bytes()


def test_a_video_named_near_the_limit_gets_a_rendering_name_that_fits(tmp_path):
    outputs = RenderedOutputs(tmp_path, save_img=False, save_video=True, video_stem="v" * 250)
    assert len(outputs.video_path.name.encode()) <= NAME_MAX and outputs.video_path.suffix == ".mp4"
