"""Results streamed to disk: valid JSON after a normal end, Ctrl-C, SIGTERM and an error in a later frame,
never a partial file under the final name, no temp file left, and --outdir checked before any work.

The promise on a stop (Ctrl-C or SIGTERM): the frames with a rendering on disk are exactly the frames
in the results json; a stop that comes while a frame is being written takes effect once it is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from posekit.cli.infer import sigterm_as_interrupt
from posekit.cli.main import main
from posekit.errors import MissingFileError, PosekitError
from posekit.infer.options import OutputOptions, StreamOptions
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.run import JSON_MESSAGE, run_inference
from posekit.infer.sources import collect_image_paths, open_images, open_video
from posekit.infer.stopping import stop_signals_held
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


def _output(outdir: Path, fmt: str = "coco") -> OutputOptions:
    return OutputOptions(outdir=str(outdir), format=fmt, save_img=False)


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


class FailingPoseModel(FakePoseModel):
    """The fake pose model, failing on its `fail_at`-th image (0-based)."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def estimate(self, image, people, hints=None):
        if len(self.calls) == self.fail_at:
            raise RuntimeError("pose model exploded\nsecond line of the message")
        return super().estimate(image, people, hints)


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
        run_inference(open_images(paths), FakeDetector(), FailingPoseModel(fail_at=2), _output(tmp_path),
                      stream=StreamOptions(single_thread=single), progress=False,
                      log=messages.append)  # fmt: skip
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
        run_inference(
            open_images(paths), FakeDetector(), FailingPoseModel(0), _output(tmp_path), progress=False
        )
    assert list(tmp_path.iterdir()) == []


class _InterruptingOutputs(RenderedOutputs):
    """Behaves as if Ctrl-C were pressed while drawing frame 3."""

    def draw(self, frame):
        if frame.index == 3:
            raise KeyboardInterrupt
        return super().draw(frame)


@pytest.mark.parametrize("fmt", ["coco", "open"])
def test_ctrl_c_leaves_valid_json_and_no_temp_file(posetrack_mini, tmp_path, fmt):
    outputs = _InterruptingOutputs(tmp_path, save_img=True, save_video=False)
    summary = run_inference(open_video(posetrack_mini / MP4), FakeDetector(), FakePoseModel(),
                            _output(tmp_path, fmt), outputs=outputs, progress=False,
                            log=lambda m: None)  # fmt: skip
    assert summary.interrupted and summary.frames == 3
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    names = {r["image_id"] for r in results} if fmt == "coco" else set(results)
    assert names == {"0.jpg", "1.jpg", "2.jpg"}
    assert {p.name for p in (tmp_path / "vis").iterdir()} == names  # the frame being drawn: neither
    assert _temp_files(tmp_path) == []


class _SignalWhileSaving(RenderedOutputs):
    """Sends this process `signum` in the middle of writing frame 2 (its json entry is already added,
    its rendering not yet saved): without holding the signal, frame 2 would be in the json only."""

    def __init__(self, *args, signum: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.signum = signum

    def save(self, frame, drawn):
        if frame.index == 2:
            signal.raise_signal(self.signum)
            time.sleep(0.01)  # a handler that were not held would have run by now
        super().save(frame, drawn)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_while_a_frame_is_written_takes_effect_after_it(posetrack_mini, tmp_path, signum):
    outputs = _SignalWhileSaving(tmp_path, save_img=True, save_video=True, video_stem="clip", signum=signum)
    with sigterm_as_interrupt():  # SIGTERM as the CLI handles it: KeyboardInterrupt
        summary = run_inference(open_video(posetrack_mini / MP4), FakeDetector(), FakePoseModel(),
                                _output(tmp_path), outputs=outputs, progress=False,
                                log=lambda m: None)  # fmt: skip
    assert summary.interrupted and summary.frames == 3
    names = {r["image_id"] for r in json.loads((tmp_path / RESULTS_FILE).read_text())}
    assert names == {p.name for p in (tmp_path / "vis").iterdir()} == {"0.jpg", "1.jpg", "2.jpg"}
    from posekit.io.video import probe_video

    assert probe_video(tmp_path / "AlphaPose_clip.mp4").frames == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers are restored
    assert _temp_files(tmp_path) == []


def test_held_signals_are_raised_again_once_and_only_in_the_main_thread():
    with pytest.raises(KeyboardInterrupt), stop_signals_held():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # noted too; only the first is raised again
        done = True
    assert done and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ignored = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with stop_signals_held():
            signal.raise_signal(signal.SIGTERM)  # raised again on leaving, and ignored as before
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, ignored)
    seen: list[object] = []

    def elsewhere() -> None:
        with stop_signals_held():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]  # left alone outside the main thread


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
    130, no temp file anywhere, and the frames rendered in vis/ are exactly the frames in the json (the
    first N of the folder), whenever the signal lands."""
    folder = tmp_path / "in"
    folder.mkdir()
    frames = [f"{k:03d}.png" for k in range(200)]  # far more than can finish before the signal
    for name in frames:
        os.symlink(sample_image_path(), folder / name)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "posekit", "infer", "--indir", str(folder), "--outdir", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if (out / "vis").is_dir() and len(list((out / "vis").glob("*.png"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted: results of the" in stderr
    done = {r["image_id"] for r in json.loads((out / RESULTS_FILE).read_text())}
    rendered = {p.name for p in (out / "vis").iterdir()}
    assert rendered == done == set(frames[: len(done)]) and 2 <= len(done) < len(frames)
    assert f"{len(done)} frame(s), {len(done)} pose(s)" in stdout
    assert _temp_files(out) == []
