"""The batch driver: units onto Ray workers (actors, one Pipeline each), results into the manifest.

Ray runs on this machine (started here, shut down at the end) or an existing cluster (`ray_address`).
A unit whose output is complete is skipped; a failed unit is tried again up to `retries` times; a worker
process that dies is restarted by Ray and its unit in flight run again, so only units in flight are
lost when the driver itself is killed.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from posekit.batching.outputs import Manifest, batch_lock, clear_staging, unit_complete
from posekit.batching.units import Unit, find_units
from posekit.batching.worker import UnitResult, UnitWorker
from posekit.errors import PosekitError
from posekit.infer.options import InferOptions
from posekit.io.atomic import check_writable_folder

WORKER_RESTARTS = 3  # times Ray restarts a dead worker process and re-runs its unit in flight


@dataclass(frozen=True)
class BatchOptions:
    """Where and how a batch runs: workers (None: one per core, or per CPU of the cluster), threads per
    worker (None: cores / workers, at least 1), ray_address (None: a Ray started on this machine;
    "auto" or "ray://host:port": an existing cluster), gpus_per_worker, retries (of a failed unit)."""

    workers: int | None = None
    threads: int | None = None
    ray_address: str | None = None
    gpus_per_worker: float = 0.0
    retries: int = 2

    def __post_init__(self) -> None:
        for name in ("workers", "threads"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise PosekitError(f"--{name} must be a whole number >= 1, not {value!r}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise PosekitError(f"--retries must be a whole number >= 0, not {self.retries!r}")
        if self.gpus_per_worker < 0:
            raise PosekitError(f"--gpus-per-worker must be >= 0, not {self.gpus_per_worker!r}")


@dataclass
class BatchSummary:
    """What a batch did: units done, failed (input, error) and skipped (complete already), frames,
    seconds (startup_seconds of them until Ray and every worker's models were ready), frames per worker;
    interrupted when stopped by Ctrl-C."""

    outdir: Path
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    frames: int = 0
    people: int = 0
    seconds: float = 0.0
    startup_seconds: float = 0.0
    worker_frames: dict[str, tuple[int, float]] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def fps(self) -> float:
        """Frames per second over the whole batch (wall clock)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every unit done (or complete from an earlier run)."""
        return not self.failed and not self.interrupted


def run_batch(
    inputs: list[str | Path],
    outdir: str | Path,
    options: InferOptions | None = None,
    batch: BatchOptions | None = None,
    progress: bool = True,
) -> BatchSummary:
    """Run every unit of `inputs` with the Pipeline `options` describe, outputs under outdir."""
    options = options or InferOptions()
    batch = batch or BatchOptions()
    outdir = check_writable_folder(Path(outdir)).resolve()
    units, problems = find_units(inputs, exclude=outdir)
    summary = BatchSummary(outdir=outdir)
    started = time.perf_counter()
    with batch_lock(outdir):
        _run_units(units, problems, outdir, options, batch, summary, progress)
    summary.seconds = time.perf_counter() - started
    return summary


def _run_units(units, problems, outdir, options, batch, summary, progress) -> None:
    """Record the bad inputs, skip complete units, run the others."""
    manifest = Manifest(outdir)
    try:
        for name, problem in problems:
            _record(manifest, summary, name, "", UnitResult("failed", error=problem))
        todo = []
        for unit in units:
            if unit_complete(outdir / unit.rel, options.output.save_video):
                summary.skipped.append(str(unit.path))
                manifest.add({"input": str(unit.path), "output": unit.rel, "status": "skipped"})
            else:
                todo.append(unit)
        if todo:
            clear_staging(outdir)
            _run_on_ray(todo, outdir, options, batch, summary, manifest, progress)
            clear_staging(outdir)
    finally:
        manifest.close()


def _run_on_ray(
    units: list[Unit],
    outdir: Path,
    options: InferOptions,
    batch: BatchOptions,
    summary: BatchSummary,
    manifest: Manifest,
    progress: bool,
) -> None:
    if batch.ray_address and _auth_token_available():
        # `ray start` clusters use token auth, which Ray's driver sends for "auto" only; it reads the
        # mode when it is imported
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    started = time.perf_counter()
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        _start_ray(ray, batch)
    try:
        workers, cores = _worker_count(ray.cluster_resources(), batch, len(units))
        threads = batch.threads or max(1, cores // workers)
        actor = ray.remote(UnitWorker).options(
            num_cpus=min(threads, cores / workers),  # fractional: every worker fits on the cores
            num_gpus=batch.gpus_per_worker,
            max_restarts=WORKER_RESTARTS,
            max_task_retries=WORKER_RESTARTS,
        )
        pool = [actor.remote(options, threads) for _ in range(workers)]
        problems = [problem for problem in ray.get([worker.ready.remote() for worker in pool]) if problem]
        if problems:  # e.g. a model file missing: every unit would fail the same way
            raise PosekitError(f"the batch workers could not load the models: {problems[0]}")
        summary.startup_seconds = time.perf_counter() - started
        _schedule(
            ray, pool, actor, options, threads, units, outdir, batch.retries, summary, manifest, progress
        )
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if started_here:
            ray.shutdown()


def _worker_count(resources: dict[str, float], batch: BatchOptions, units: int) -> tuple[int, int]:
    """How many workers (the asked number, else one per CPU, and no more than the GPUs hold at
    gpus_per_worker each, nor than there are units) and the cluster's CPUs."""
    cores = max(1, int(resources.get("CPU", os.cpu_count() or 1)))
    workers = batch.workers or cores
    if batch.gpus_per_worker > 0:
        fit = int(resources.get("GPU", 0) // batch.gpus_per_worker)
        if fit < 1:
            raise PosekitError(
                f"--gpus-per-worker {batch.gpus_per_worker}: the Ray cluster has "
                f"{resources.get('GPU', 0):g} GPU(s), not enough for one worker"
            )
        if batch.workers and batch.workers > fit:
            need = batch.workers * batch.gpus_per_worker
            raise PosekitError(
                f"--workers {batch.workers} at --gpus-per-worker {batch.gpus_per_worker} need {need:g} "
                f"GPUs; the Ray cluster has {resources.get('GPU', 0):g}"
            )
        workers = min(workers, fit)
    return max(1, min(workers, units)), cores


def _schedule(
    ray, pool, actor, options, threads, units, outdir, retries, summary, manifest, progress
) -> None:
    """Keep every worker busy with one unit at a time until every unit is done or out of tries."""
    queue: list[tuple[Unit, int]] = [(unit, 0) for unit in units]
    queue.reverse()
    running: dict[Any, tuple[Unit, int, Any]] = {}
    idle = list(pool)
    bar = tqdm(total=len(units), unit="unit", desc="batch", disable=not progress or None, dynamic_ncols=True)
    try:
        while queue or running:
            while queue and idle:
                unit, tries = queue.pop()
                worker = idle.pop()
                running[worker.run.remote(unit, str(outdir))] = (unit, tries, worker)
            ready, _ = ray.wait(list(running), num_returns=1)
            unit, tries, worker = running.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # the worker died more often than Ray restarts it
                result = UnitResult("failed", error=f"worker lost: {type(exc).__name__}")
                worker = actor.remote(options, threads)
            idle.append(worker)
            if result.status == "failed" and tries < retries:
                queue.append((unit, tries + 1))
                continue
            _record(manifest, summary, str(unit.path), unit.rel, result)
            bar.update(1)
            bar.set_postfix(frames=summary.frames, failed=len(summary.failed), refresh=False)
            if result.status == "failed":
                bar.write(f"warning: {unit.path}: {result.error}", file=sys.stderr)
    finally:
        bar.close()


def _record(manifest: Manifest, summary: BatchSummary, name: str, rel: str, result: UnitResult) -> None:
    manifest.add({"input": name, "output": rel, **result.as_dict()})
    if result.status == "done":
        summary.done.append(name)
        summary.frames += result.frames
        summary.people += result.people
        frames, seconds = summary.worker_frames.get(result.worker, (0, 0.0))
        summary.worker_frames[result.worker] = (frames + result.frames, seconds + result.seconds)
    else:
        summary.failed.append((name, result.error))


def _import_ray():
    try:
        import ray
    except ImportError:
        raise PosekitError(
            "posekit batch runs on Ray: pip install 'posekit[ray]' (or pip install ray)"
        ) from None
    return ray


def _start_ray(ray, batch: BatchOptions) -> None:
    """Join the cluster at batch.ray_address, or start Ray on this machine (loopback only)."""
    import logging

    quiet: dict[str, Any] = dict(logging_level=logging.ERROR, log_to_driver=False, configure_logging=True)
    if batch.ray_address:
        host = batch.ray_address.removeprefix("ray://").rsplit(":", 1)[0]
        if host in ("127.0.0.1", "localhost"):  # a cluster on this machine's loopback: stay on it
            quiet["_node_ip_address"] = "127.0.0.1"
        try:
            ray.init(address=batch.ray_address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise PosekitError(f"--ray {batch.ray_address}: cannot join the Ray cluster ({exc})") from None
        return
    ray.init(
        num_cpus=os.cpu_count() or 1,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        **quiet,
    )


def _auth_token_available() -> bool:
    """Whether a Ray cluster token is at hand (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token)."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or Path(path).is_file()
