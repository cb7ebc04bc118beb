"""`posekit batch` on a real Ray: a local cluster the tests start on 127.0.0.1 (`ray start --head`) and
stop, and once Ray started by the batch itself. Every unit's json equals what `posekit infer` writes
for that input alone; bad units fail alone; killed workers and drivers lose nothing that was done."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

ray = pytest.importorskip("ray")

from posekit.cli.main import main  # noqa: E402
from posekit.errors import PosekitError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLIP = "videos/000001_mpiinew_test"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    """The environment of processes that run posekit (this checkout's src first)."""
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-CPU Ray head on 127.0.0.1 for this module; its address."""
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    ray_bin = Path(sys.executable).with_name("ray")
    start = [str(ray_bin), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
             "--node-ip-address=127.0.0.1", "--disable-usage-stats", f"--temp-dir={temp}"]  # fmt: skip
    subprocess.run(start, check=True, env=_env(), capture_output=True)
    yield f"127.0.0.1:{port}"
    subprocess.run([str(ray_bin), "stop", "--force"], env=_env(), capture_output=True)


@pytest.fixture(scope="module")
def collection(posetrack_mini, coco_mini, tmp_path_factory) -> Path:
    """A small collection: two copies of the PoseTrack clip, a 40-frame clip, the COCO photos (a folder
    of images) in a subfolder, and a corrupt video."""
    root = tmp_path_factory.mktemp("collection") / "clips"
    root.mkdir()
    video = posetrack_mini / CLIP / "000001_mpiinew_test.mp4"
    shutil.copy(video, root / "a.mp4")
    shutil.copy(video, root / "b.mp4")
    shutil.copytree(coco_mini / "val2017", root / "photos")
    _long_clip(posetrack_mini / CLIP, root / "long.mp4", frames=40)
    (root / "broken.mp4").write_bytes(video.read_bytes()[:4000])
    return root


def _long_clip(frames_dir: Path, target: Path, frames: int) -> None:
    images = [cv2.imread(str(p)) for p in sorted(frames_dir.glob("*.jpg"))]
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w // 2, h // 2))
    for k in range(frames):
        writer.write(cv2.resize(images[k % len(images)], (w // 2, h // 2)))
    writer.release()


@pytest.fixture(scope="module")
def alone(collection, tmp_path_factory) -> dict[str, list[dict]]:
    """What `posekit infer` writes for each good input of the collection on its own."""
    out = tmp_path_factory.mktemp("alone")
    expected = {}
    for name in ("a.mp4", "b.mp4", "long.mp4", "photos"):
        flag = "--video" if name.endswith(".mp4") else "--indir"
        assert main(["infer", flag, str(collection / name), "--outdir", str(out / name)]) == 0
        expected[name] = json.loads((out / name / "alphapose-results.json").read_text())
    return expected


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "batch.jsonl").read_text().splitlines()]


def _batch(
    out: Path, cluster: str, *inputs: Path, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "posekit",
        "batch",
        *map(str, inputs),
        "--outdir",
        str(out),
        "--ray",
        cluster,
    ]
    return subprocess.run([*command, *extra], env=_env(), capture_output=True, text=True, timeout=600)


def test_batch_equals_infer_and_a_bad_unit_fails_alone(collection, alone, tmp_path, cluster):
    out = tmp_path / "out"
    done = _batch(out, cluster, collection)
    assert done.returncode == 1, done.stderr  # the corrupt video failed
    assert "4 unit(s) done, 1 failed" in done.stdout
    assert "broken.mp4: not a readable video" in done.stderr
    lines = {entry["output"]: entry for entry in _manifest(out)}
    assert {rel: e["status"] for rel, e in lines.items()} == {
        "clips/a.mp4": "done", "clips/b.mp4": "done", "clips/long.mp4": "done",
        "clips/photos": "done", "clips/broken.mp4": "failed",
    }  # fmt: skip
    assert lines["clips/long.mp4"]["frames"] == 40 and lines["clips/photos"]["frames"] == 4
    for name in ("a.mp4", "b.mp4", "long.mp4", "photos"):
        assert json.loads((out / "clips" / name / "alphapose-results.json").read_text()) == alone[name]
    assert sorted(p.name for p in (out / "clips/photos/vis").iterdir()) == sorted(
        p.name for p in (collection / "photos").iterdir()
    )
    assert not (out / ".posekit-staging").exists()

    again = _batch(out, cluster, collection)  # re-run: complete units are skipped, the bad one retried
    assert again.returncode == 1 and "0 unit(s) done, 1 failed, 4 skipped" in again.stdout
    (out / "clips/b.mp4/alphapose-results.json").write_text("[{")  # a damaged output is redone
    third = _batch(out, cluster, collection)
    assert "1 unit(s) done, 1 failed, 3 skipped" in third.stdout
    assert json.loads((out / "clips/b.mp4/alphapose-results.json").read_text()) == alone["b.mp4"]


def test_a_missing_model_file_is_one_line_before_any_unit(collection, tmp_path, cluster):
    out = tmp_path / "out"
    cfg = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
    done = _batch(
        out, cluster, collection / "a.mp4", extra=("--cfg", str(cfg), "--checkpoint", "missing.pth")
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == "error: the batch workers could not load the models: checkpoint not found: missing.pth"
    )


def _wait_for(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _running_unit_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ray::UnitWorker.run"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_a_worker_killed_mid_unit_costs_nothing(collection, alone, tmp_path, cluster):
    """SIGKILL of the worker process running the long clip: Ray restarts the worker, the unit runs
    again, and every output is complete and equal to posekit infer's."""
    out = tmp_path / "out"
    inputs = [str(collection / "long.mp4"), str(collection / "a.mp4")]
    command = [sys.executable, "-m", "posekit", "batch", *inputs, "--outdir", str(out), "--ray", cluster]
    command += ["--workers", "1"]
    driver = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: bool(_running_unit_pids()))
    time.sleep(1.0)  # well inside the 40-frame unit
    killed = _running_unit_pids()
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    stdout, stderr = driver.communicate(timeout=600)
    assert driver.returncode == 0, stderr
    assert "2 unit(s) done, 0 failed" in stdout
    for name in ("long.mp4", "a.mp4"):
        assert json.loads((out / name / "alphapose-results.json").read_text()) == alone[name]
    long_done_by = next(e["worker"] for e in _manifest(out) if e["output"] == "long.mp4")
    assert killed and int(long_done_by.rsplit(":", 1)[1]) not in killed  # a restarted worker finished it


def test_a_killed_driver_loses_only_the_units_in_flight(collection, alone, tmp_path, cluster):
    """kill -9 of the driver after its first unit: a re-run skips what was done and does the rest."""
    out = tmp_path / "out"
    inputs = [collection / name for name in ("a.mp4", "b.mp4", "long.mp4")]
    command = [sys.executable, "-m", "posekit", "batch", *map(str, inputs), "--outdir", str(out)]
    command += ["--ray", cluster, "--workers", "1"]
    driver = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "batch.jsonl"
    _wait_for(lambda: manifest.is_file() and '"done"' in manifest.read_text(), seconds=300)
    driver.kill()
    driver.wait()
    first = [e["output"] for e in _manifest(out) if e["status"] == "done"]
    rerun = _batch(out, cluster, *inputs, extra=("--workers", "1"))
    assert rerun.returncode == 0, rerun.stderr
    second = _manifest(out)[len(first) :]
    assert sorted(e["output"] for e in second if e["status"] == "skipped") == sorted(first)
    assert sorted(e["output"] for e in second if e["status"] == "done") == sorted(
        {"a.mp4", "b.mp4", "long.mp4"} - set(first)
    )
    for path in inputs:
        assert json.loads((out / path.name / "alphapose-results.json").read_text()) == alone[path.name]


def test_python_api_starts_and_stops_its_own_ray(collection, tmp_path):
    """posekit.batch() without an address: Ray on this machine, 2 workers, shut down afterwards."""
    import posekit

    summary = posekit.batch([collection / "a.mp4", collection / "photos"], tmp_path / "out", workers=2)
    assert summary.ok and len(summary.done) == 2 and summary.frames == 9
    assert len(summary.worker_frames) == 2 and not ray.is_initialized()
    with pytest.raises(PosekitError, match="--workers must be a whole number >= 1"):
        posekit.batch([collection / "a.mp4"], tmp_path / "out", workers=0)
