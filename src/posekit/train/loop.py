"""The training loop, top to bottom: model, data, optimiser, epochs, checkpoints, validation, logs.

Work dir `exp/{exp_id}-{cfg file name}/` holds `training.log` (AlphaPose's line formats),
`checkpoint.pth` (everything needed to resume, written after every epoch), `model_{epoch}.pth`
every `snapshot` epochs, `final.pth` (after epoch DPG_MILESTONE, when DPG switches on for the epochs
after it), `final_DPG.pth` (at the end), the
validation results `test_gt_kpt.json` / `test_kpt.json` and `curves.png`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler
from tqdm import tqdm

from posekit.config import Config, config_to_dict
from posekit.errors import PosekitError
from posekit.io.atomic import atomic_write_with, check_confined
from posekit.models.builder import build_pose_model
from posekit.models.checkpoint import (
    load_checkpoint,
    load_imagenet_backbone,
    load_state,
    read_torch_file,
    state_dict_of,
)
from posekit.paths import check_apart
from posekit.runtime.precision import cpu_has_native_bf16
from posekit.train.curves import plot_curves
from posekit.train.dataset import KeypointDataset
from posekit.train.distributed import DistInfo, barrier, cleanup, mean_across_ranks, setup_distributed
from posekit.train.metrics import head_loss
from posekit.train.workdir import RESUME_FILE, check_exp_id, check_not_overwriting, claim


@dataclass
class TrainOptions:
    """Everything a training run needs besides the config."""

    cfg: Config
    exp_id: str = "default"
    snapshot: int = 2
    num_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    pretrained: str = ""
    try_load: str = ""
    imagenet: str = ""
    amp: bool = False
    sync_bn: bool = False
    device: str | None = None
    dist_backend: str | None = None
    work_root: Path = Path("exp")
    validate: bool = True
    subpixel: bool = False  # validation decodes with the sub-pixel refinement (posekit.pose.decode)
    seed: int = 0
    detector: str | None = None  # makes DATASET.TEST.DET_FILE when it is missing (default DETECTOR.NAME)
    stop_event: threading.Event | None = None

    @property
    def work_dir(self) -> Path:
        """exp/{exp_id}-{cfg file name}/"""
        return Path(self.work_root) / f"{self.exp_id}-{self.cfg.file_name}"


@dataclass
class TrainSummary:
    """What a run did: per-epoch history, where its files are, and the trained model."""

    work_dir: Path
    history: list[dict]
    stopped: bool
    model: nn.Module


def train(opts: TrainOptions) -> TrainSummary:
    """Train (or resume / transfer) a pose model as the config says; returns the per-epoch history."""
    check_exp_id(opts.exp_id)
    for name, value, low in (
        ("snapshot", opts.snapshot, 1),
        ("num_workers (--nThreads)", opts.num_workers, 0),
    ):
        if value < low:
            raise PosekitError(f"{name} must be an integer >= {low}, got {value}")
    info = setup_distributed(opts.device, opts.dist_backend)
    try:
        if not info.is_main:  # rank 0 holds the lock; every rank refuses the same existing run
            check_not_overwriting(opts.work_dir, opts.exp_id, _weight_sources(opts)[0])
            return _train(opts, info)
        check_apart(_dataset_folders(opts.cfg), trees=[opts.work_dir])
        with claim(opts.work_dir):  # checked under the lock: a queued second run sees the first's files
            check_not_overwriting(opts.work_dir, opts.exp_id, _weight_sources(opts)[0])
            return _train(opts, info)
    finally:
        cleanup(info)


def _dataset_folders(cfg: Config) -> list[Path]:
    """The image folders and annotation files training reads (a work folder must not hold them)."""
    splits = [cfg.dataset.train, cfg.dataset.val, cfg.dataset.test]
    return [path for split in splits if split for path in (split.image_dir, split.ann_path)]


def _train(opts: TrainOptions, info: DistInfo) -> TrainSummary:
    cfg = opts.cfg
    work_dir = opts.work_dir
    if info.is_main:
        work_dir.mkdir(parents=True, exist_ok=True)
    log = _logger(work_dir / "training.log", info.is_main)
    log.info("Effective configuration:\n%s", yaml.safe_dump(config_to_dict(cfg), sort_keys=False).rstrip())
    torch.manual_seed(opts.seed)

    model = build_pose_model(cfg.model, cfg.data_preset)
    resume = _init_weights(model, opts, log)
    model.to(info.device)
    if opts.sync_bn and info.enabled:
        if info.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        else:
            log.info("--sync skipped: PyTorch's SyncBatchNorm runs on GPUs only")
    net = nn.parallel.DistributedDataParallel(model) if info.enabled else model
    amp = _use_amp(opts.amp, info.device, log)

    optimizer = _optimizer(cfg, model)
    dpg = bool(resume and resume.get("dpg"))
    scheduler = _scheduler(cfg, optimizer, dpg)
    start_epoch = cfg.train.begin_epoch
    history: list[dict] = []
    if resume:
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        start_epoch = int(resume["epoch"]) + 1
        history = list(resume.get("history", []))
        log.info("Resuming after epoch %d", start_epoch - 1)

    dataset = KeypointDataset(cfg, cfg.dataset.train, train=True, dpg=dpg, seed=opts.seed)
    stopped = False
    for epoch in range(start_epoch, cfg.train.end_epoch):
        lr = optimizer.param_groups[0]["lr"]
        log.info("############# Starting Epoch %d | LR: %s #############", epoch, lr)
        loss, acc, stopped = _train_epoch(net, dataset, optimizer, epoch, opts, info, amp)
        if stopped:
            log.info(
                "Stopped during epoch %d; %s holds the last finished epoch", epoch, work_dir / RESUME_FILE
            )
            break
        log.info("Train-%d epoch | loss:%.8f | acc:%.4f", epoch, loss, acc)
        scheduler.step()
        record = {"epoch": epoch, "lr": lr, "loss": loss, "acc": acc}
        if (epoch + 1) % opts.snapshot == 0:
            if info.is_main:
                _save_weights(model, work_dir / f"model_{epoch}.pth")
                if opts.validate:
                    record.update(_validate(model, opts, work_dir, info, log, epoch))
            barrier(info)
        if epoch == cfg.train.dpg_milestone and not dpg:  # as AlphaPose: after this epoch, DPG from the next
            if info.is_main:
                _save_weights(model, work_dir / "final.pth")
            dpg = dataset.dpg = True
            for group in optimizer.param_groups:
                group["lr"] = cfg.train.lr
            scheduler = _scheduler(cfg, optimizer, dpg=True)
        history.append(record)
        if info.is_main:
            _save_resume(work_dir / RESUME_FILE, model, optimizer, scheduler, epoch, history, dpg)
            plot_curves(history, work_dir / "curves.png")
        if opts.stop_event is not None and opts.stop_event.is_set():
            stopped = True
            log.info("Stopped after epoch %d; resume with --pretrained %s", epoch, work_dir / RESUME_FILE)
            break
    if info.is_main and not stopped:
        _save_weights(model, work_dir / "final_DPG.pth")
    return TrainSummary(work_dir, history, stopped, model)


def _weight_sources(opts: TrainOptions) -> tuple[str, str]:
    """(pretrained, try_load): the --pretrained / --try_load flags when either is given, else the
    config's MODEL.PRETRAINED / MODEL.TRY_LOAD (so a flag always wins over the config)."""
    if opts.pretrained or opts.try_load:
        return opts.pretrained, opts.try_load
    return opts.cfg.model.pretrained, opts.cfg.model.try_load


def _init_weights(model: nn.Module, opts: TrainOptions, log: logging.Logger) -> dict | None:
    """Pretrained (strict; a posekit checkpoint resumes), try_load (matching tensors), or ImageNet."""
    cfg = opts.cfg
    pretrained, try_load = _weight_sources(opts)
    if pretrained:
        log.info("Loading model from %s...", pretrained)
        data = read_torch_file(pretrained)  # read once: the weights and the resume state come from it
        load_state(model, state_dict_of(data, pretrained), pretrained, strict=True)
        return data if isinstance(data, dict) and "optimizer" in data else None
    if try_load:
        log.info("Loading model from %s...", try_load)
        count = load_checkpoint(model, try_load, strict=False)
        log.info("Loaded %d of %d tensors whose name and shape match", count, len(model.state_dict()))
        return None
    count, source = load_imagenet_backbone(model, cfg.model.num_layers, opts.imagenet or None)
    if source is None:
        log.info(
            "No ImageNet ResNet-%d file in %s: the backbone starts from random init",
            cfg.model.num_layers,
            Path(torch.hub.get_dir()) / "checkpoints",
        )
    else:
        log.info("ImageNet backbone: %d tensors from %s", count, source)
    return None


def _optimizer(cfg: Config, model: nn.Module) -> torch.optim.Optimizer:
    name = cfg.train.optimizer.lower()
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=cfg.train.lr)
    raise PosekitError(
        f"{cfg.path}: TRAIN.OPTIMIZER must be 'adam' or 'rmsprop', got {cfg.train.optimizer!r}"
    )


def _scheduler(
    cfg: Config, optimizer: torch.optim.Optimizer, dpg: bool
) -> torch.optim.lr_scheduler.MultiStepLR:
    """LR steps at LR_STEP; after the DPG milestone at DPG_STEP counted from the milestone."""
    milestones = [s - cfg.train.dpg_milestone for s in cfg.train.dpg_step] if dpg else cfg.train.lr_step
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=cfg.train.lr_factor)


def _loader(dataset: KeypointDataset, opts: TrainOptions, info: DistInfo, epoch: int) -> DataLoader:
    dataset.set_epoch(epoch)
    sampler: Sampler[int]
    if info.enabled:
        sampler = DistributedSampler(dataset, info.world_size, info.rank, shuffle=True, seed=opts.seed)
        sampler.set_epoch(epoch)
    else:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(opts.seed * 100_003 + epoch))
    return DataLoader(
        dataset,
        batch_size=opts.cfg.train.batch_size,
        sampler=sampler,
        num_workers=opts.num_workers,
        pin_memory=info.device.type == "cuda",
        # workers start from a fresh server process, not a fork of this one: forking a process whose
        # OpenVINO / LiteRT / onnxruntime thread pools run (the UI, a test session) can crash it
        multiprocessing_context="forkserver" if opts.num_workers > 0 else None,
    )


def _use_amp(requested: bool, device: torch.device, log: logging.Logger) -> bool:
    """--amp: fp16 autocast on GPU, bf16 on a CPU with native bf16; elsewhere fp32 (emulated bf16 is
    slower than fp32), said in one log line."""
    if not requested or device.type != "cpu" or cpu_has_native_bf16():
        return requested
    log.info("--amp skipped: this CPU has no native bf16 (AVX512-BF16 or AMX), training in fp32")
    return False


def _train_epoch(
    net, dataset, optimizer, epoch: int, opts: TrainOptions, info: DistInfo, amp: bool
) -> tuple[float, float, bool]:
    """One pass over the data (autocast when `amp`); returns (mean loss, mean acc, stopped early)."""
    net.train()
    device = info.device
    amp_dtype = torch.bfloat16 if device.type == "cpu" else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp and device.type == "cuda")
    loss_sum = acc_sum = 0.0
    seen = 0
    head = opts.cfg.loss
    # Combined: LOSS_2's NORM_TYPE drives its regression loss, LOSS's the decoding (AlphaPose's train.py).
    second = head.loss_2.norm_type if head.type == "Combined" and head.loss_2 else ""
    norm_type = second or head.norm
    bar = tqdm(
        _loader(dataset, opts, info, epoch), desc=f"Train-{epoch}", disable=not info.is_main, leave=False
    )
    for step, (images, targets, weights, _, _) in enumerate(_unwrap_worker_errors(bar)):
        if opts.stop_event is not None and opts.stop_event.is_set():
            return 0.0, 0.0, True
        images, targets, weights = images.to(device), _to(targets, device), _to(weights, device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
            output = net(images)
        loss, acc = head_loss(head.type, norm_type, output, targets, weights)
        _check_finite(loss, epoch, step, opts)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        n = images.shape[0]
        loss_sum += float(loss.detach()) * n
        acc_sum += acc * n
        seen += n
        bar.set_postfix_str(f"loss: {loss_sum / seen:.8f} | acc: {acc_sum / seen:.4f}")
    return (
        mean_across_ranks(loss_sum / max(seen, 1), info),
        mean_across_ranks(acc_sum / max(seen, 1), info),
        False,
    )


def _to(batch, device):
    """A tensor, or a list of tensors (a Combined head's two targets), on `device`."""
    return [t.to(device) for t in batch] if isinstance(batch, list | tuple) else batch.to(device)


def _unwrap_worker_errors(batches):
    """Batches of a DataLoader; a PosekitError raised in a worker process keeps its one-line message
    (the DataLoader wraps it in "Caught PosekitError in DataLoader worker process 0. Original ...")."""
    try:
        yield from batches
    except PosekitError as exc:
        lines = str(exc).strip().splitlines()
        raise PosekitError(lines[-1].removeprefix("posekit.errors.PosekitError: ")) from None


def _check_finite(loss: torch.Tensor, epoch: int, step: int, opts: TrainOptions) -> None:
    """Stop on a nan/inf loss (it would only spread into the weights) with where it happened."""
    if not torch.isfinite(loss.detach()).item():
        raise PosekitError(
            f"training stopped: the loss is {float(loss.detach())} at epoch {epoch}, step {step} "
            f"(check TRAIN.LR, DATA_PRESET.SIGMA and the annotations); {opts.work_dir / RESUME_FILE} "
            "holds the last finished epoch"
        )


def _validate(
    model: nn.Module, opts: TrainOptions, work_dir: Path, info: DistInfo, log: logging.Logger, epoch: int
) -> dict:
    """gt-box mAP always; det-box ("rcnn") mAP from DATASET.TEST.DET_FILE, made when missing by the
    detector opts.detector names (default DETECTOR.NAME); when neither works the reason is logged and
    only gt mAP is reported."""
    from posekit.evaluate.validate import validate_det_boxes, validate_gt_boxes
    from posekit.pose.estimator import TopDownEstimator
    from posekit.pose.types import HeatmapBackend
    from posekit.runtime.torch_backend import TorchBackend

    model.eval()
    cfg = opts.cfg
    backend = cast(HeatmapBackend, TorchBackend(model, device=str(info.device)))  # one output: heatmaps
    estimator = TopDownEstimator.for_config(backend, cfg, subpixel=opts.subpixel)
    gt_map = validate_gt_boxes(estimator, cfg, work_dir / "test_gt_kpt.json")
    det_map = None
    try:
        det_map = validate_det_boxes(
            estimator, cfg, work_dir / "test_kpt.json", detector=opts.detector, device=str(info.device)
        )
    except PosekitError as exc:  # no DATASET.TEST, or no DET_FILE and the detector's weights are missing
        log.info("det-box validation skipped: %s", exc)
    model.train()
    det_text = f"{det_map:.4f}" if det_map is not None else "n/a"
    log.info("##### Epoch %d | gt mAP: %.4f | rcnn mAP: %s #####", epoch, gt_map, det_text)
    return {"gt_map": gt_map, "det_map": det_map}


def _save_weights(model: nn.Module, path: Path) -> None:
    """A plain state_dict (what AlphaPose saves and loads)."""
    state = model.state_dict()
    atomic_write_with(path, lambda tmp: torch.save(state, tmp))


def _save_resume(path: Path, model, optimizer, scheduler, epoch: int, history: list[dict], dpg: bool) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "history": history,
        "dpg": dpg,
    }
    atomic_write_with(path, lambda tmp: torch.save(state, tmp))


def _logger(path: Path, is_main: bool) -> logging.Logger:
    """Log to stdout and training.log on rank 0; silent elsewhere."""
    log = logging.getLogger(f"posekit.train.{path}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO if is_main else logging.WARNING)
    if is_main:
        check_confined(path, follow=True)  # appended to, so a symlink out of a confined folder is refused
        for handler in (logging.StreamHandler(sys.stdout), logging.FileHandler(path, encoding="utf-8")):
            handler.setFormatter(logging.Formatter("%(message)s"))
            log.addHandler(handler)
    return log
