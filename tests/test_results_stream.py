"""Results streamed to disk: valid JSON after a normal end, Ctrl-C, SIGTERM and an error in a later frame,
never a partial file under the final name, no temp file left, and --outdir checked before any work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from posekit.cli.main import main
from posekit.errors import MissingFileError, PosekitError
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.run import JSON_MESSAGE, run_inference
from posekit.infer.sources import collect_image_paths, open_images, open_video
from posekit.io.images import sample_image_path
from posekit.io.results import RESULTS_FILE, ResultsWriter, write_results
from posekit.types import PoseResult
from tests.pipeline_fakes import FakeDetector, FakePoseModel
from tests.test_pipeline_cli import MP4, fake_models  # noqa: F401  (the fake detector and pose model)

REPO = Path(__file__).resolve().parents[1]


def _result(n: int, shift: float = 0.0) -> PoseResult:
    keypoints = np.arange(n * 17 * 2, dtype=float).reshape(n, 17, 2) + shift
    boxes = np.array([[10.0 * i, 20.0, 10.0 * i + 50, 120.0] for i in range(n)]).reshape(-1, 4)
    scores = np.full((n, 17), 0.5)
    return PoseResult(boxes, np.full(n, 0.9), keypoints, scores, np.full(n, 2.0), list(range(n)))


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


class FailingPoseModel(FakePoseModel):
    """The fake pose model, failing on its `fail_at`-th image (0-based)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def estimate(self, image, boxes):
        if len(self.calls) == self.fail_at:
            raise RuntimeError("pose model exploded\nsecond line of the message")
        return super().estimate(image, boxes)


@pytest.mark.parametrize("fmt", ["coco", "cmu", "open"])
def test_writer_streams_into_a_temp_file_and_matches_the_batch_writer(tmp_path, fmt):
    items = [("000000000785.jpg", _result(2)), ("000000040083.jpg", _result(0)), ("7.jpg", _result(1, 3))]
    writer = ResultsWriter(tmp_path / "stream", fmt=fmt)
    for name, result in items[:2]:
        writer.add(name, result)
    assert not (tmp_path / "stream" / RESULTS_FILE).exists()  # never a partial file under the name
    (partial,) = _temp_files(tmp_path / "stream")
    assert partial.name.startswith(f".{RESULTS_FILE}.")
    writer.add(*items[2])
    assert writer.close() == tmp_path / "stream" / RESULTS_FILE and writer.images == 3
    assert _temp_files(tmp_path / "stream") == []
    write_results(items, tmp_path / "batch", fmt=fmt)
    streamed = (tmp_path / "stream" / RESULTS_FILE).read_text()
    assert json.loads(streamed) == json.loads((tmp_path / "batch" / RESULTS_FILE).read_text())
    if fmt == "coco":
        assert [e["image_id"] for e in json.loads(streamed)] == ["000000000785.jpg"] * 2 + ["7.jpg"]
    else:
        # as AlphaPose: the frame without people gets no key and no sep-json file
        assert list(json.loads(streamed)) == ["000000000785.jpg", "7.jpg"]
        assert sorted(p.name for p in (tmp_path / "stream" / "sep-json").iterdir()) == [
            "000000000785.json", "7.json"]  # fmt: skip


def test_writer_abort_and_an_exception_leave_nothing(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.add("a.jpg", _result(1))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="stop"), ResultsWriter(tmp_path) as writer:
        writer.add("a.jpg", _result(1))
        raise ValueError("stop")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("single", [False, True])
def test_an_error_in_a_later_frame_keeps_the_frames_done(coco_mini, tmp_path, single):
    paths = collect_image_paths(str(coco_mini / "val2017"), None, None)
    messages: list[str] = []
    with pytest.raises(PosekitError) as info:
        run_inference(open_images(paths), FakeDetector(), FailingPoseModel(fail_at=2), tmp_path,
                      single_thread=single, progress=False, log=messages.append)  # fmt: skip
    assert str(info.value) == (
        "stopped by an error after 2 frame(s): pose model exploded "
        f"(the results of those frames are in {tmp_path / RESULTS_FILE})"
    )
    assert isinstance(info.value.__cause__, RuntimeError)
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert sorted({r["image_id"] for r in results}) == [p.name for p in paths[:2]]
    assert messages[-1] == JSON_MESSAGE and _temp_files(tmp_path) == []


def test_an_error_before_any_frame_writes_nothing(coco_mini, tmp_path):
    paths = collect_image_paths(str(coco_mini / "val2017"), None, None)
    with pytest.raises(RuntimeError, match="pose model exploded"):
        run_inference(open_images(paths), FakeDetector(), FailingPoseModel(0), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


class _InterruptingOutputs(RenderedOutputs):
    """Behaves as if Ctrl-C were pressed while drawing frame 3."""

    def write(self, frame):
        if frame.index == 3:
            raise KeyboardInterrupt
        super().write(frame)


@pytest.mark.parametrize("fmt", ["coco", "open"])
def test_ctrl_c_leaves_valid_json_and_no_temp_file(posetrack_mini, tmp_path, fmt):
    outputs = _InterruptingOutputs(tmp_path, save_img=True, save_video=False)
    summary = run_inference(open_video(posetrack_mini / MP4), FakeDetector(), FakePoseModel(), tmp_path,
                            outputs=outputs, fmt=fmt, progress=False, log=lambda m: None)  # fmt: skip
    assert summary.interrupted and summary.frames == 3
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    names = {r["image_id"] for r in results} if fmt == "coco" else set(results)
    assert names == {"0.jpg", "1.jpg", "2.jpg"}
    assert _temp_files(tmp_path) == []


def test_cli_reports_a_later_error_in_one_line(coco_mini, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("posekit.detectors.build_detector", lambda name, **kwargs: FakeDetector())
    monkeypatch.setattr("posekit.infer.models.load_pose_estimator", lambda *a, **k: FailingPoseModel(3))
    out = tmp_path / "out"
    assert main(["infer", "--indir", str(coco_mini / "val2017"), "--outdir", str(out), "--sp"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line and not line.startswith("posekit:")]
    assert err == [
        f"error: stopped by an error after 3 frame(s): pose model exploded (the results of "
        f"those frames are in {out / RESULTS_FILE})"
    ]  # fmt: skip  (the rest is the progress bar)
    assert len({r["image_id"] for r in json.loads((out / RESULTS_FILE).read_text())}) == 3
    assert len(list((out / "vis").iterdir())) == 3 and _temp_files(out) == []


def test_an_unwritable_outdir_stops_before_any_work(coco_mini, tmp_path, fake_models, capsys):  # noqa: F811
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    cases = [
        (a_file, "it is a file, not a folder"),
        (a_file / "sub", "Not a directory"),
        (Path("/proc/posekit-out"), "No such file or directory"),
    ]
    if os.geteuid() != 0:  # root writes into read-only folders anyway
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases.append((locked / "out", "Permission denied"))
    for outdir, reason in cases:
        code = main(["infer", "--indir", str(coco_mini / "val2017"), "--outdir", str(outdir)])
        err = capsys.readouterr().err
        assert code == 1
        assert err == f"error: {outdir}: output folder cannot be written ({reason})\n"
    assert fake_models == {}  # no model was loaded


@pytest.fixture(scope="module")
def default_model_present():
    from posekit.modelstore import ensure_default_model

    try:
        ensure_default_model(auto_pull=False)
    except MissingFileError as exc:
        pytest.skip(f"default model not installed here: {exc}")


def test_sigterm_ends_a_run_like_ctrl_c(tmp_path, default_model_present):
    """`posekit infer` on a folder (the real default model), SIGTERM once two frames are rendered: exit
    130, the results of the frames done in valid JSON, no temp file anywhere."""
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(30):
        shutil.copyfile(sample_image_path(), folder / f"{k:02d}.png")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "posekit", "infer", "--indir", str(folder), "--outdir", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if (out / "vis").is_dir() and len(list((out / "vis").glob("*.png"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted: results of the" in stderr and "Results have been written to json." in stdout
    results = json.loads((out / RESULTS_FILE).read_text())
    done = {r["image_id"] for r in results}
    assert 2 <= len(done) < 30 and done <= {f"{k:02d}.png" for k in range(30)}
    rendered = {p.name for p in (out / "vis").iterdir()}
    assert done <= rendered and len(rendered) <= len(done) + 1  # SIGTERM may fall between the two
    assert _temp_files(out) == []
