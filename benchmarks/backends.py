"""CPU inference paths for the pose network, side by side: latency at batch 1, throughput at batch 8,
and the largest keypoint difference from plain fp32 on real person crops (coco-val-mini when present).

    python benchmarks/backends.py [--cfg configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml]
        [--checkpoint trained.pth] [--repeats 5] [--skip compile,ort-int8]

Keypoint differences are only meaningful for a trained checkpoint: random weights give flat heatmaps
whose argmax jumps on any rounding.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from devkit.people import coco_mini_people
from posekit.config import load_config
from posekit.export.onnx import ExportOptions, export_onnx
from posekit.export.sample import sample_crops_and_boxes
from posekit.geometry import normalize_crops
from posekit.pose.decode import decode_heatmaps
from posekit.runtime.onnx_backend import OnnxBackend
from posekit.runtime.openvino_backend import OpenVinoBackend
from posekit.runtime.precision import cpu_has_native_bf16, optimize_for_inference

Runner = Callable[[np.ndarray], np.ndarray]
# Opset 13: per-channel QDQ (DequantizeLinear axis) for the int8 model needs it.
ONNX_OPTIONS = ExportOptions(dynamic_batch=True, opset=13)
PATHS = (
    "fp32-eager",
    "fp32-fold-cl",
    "bf16-autocast-cl",
    "bf16-fold-cl",
    "bf16-compile",
    "openvino",
    "openvino-fp32",
    "ort-fp32",
    "ort-int8",
)


def torch_runner(model: torch.nn.Module, autocast: bool = False) -> Runner:
    """numpy NCHW float32 -> numpy heatmaps through a torch module (optionally under bf16 autocast)."""

    def run(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch)
        with torch.inference_mode():
            if autocast:
                x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return model(x).float().numpy()
            return model(x).float().numpy()

    return run


def seconds_per_call(run: Runner, batch: np.ndarray, repeats: int) -> float:
    """Median wall time of one call after two warm-up calls."""
    run(batch)
    run(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def int8_model(fp32_path: Path, out_path: Path, calibration: np.ndarray) -> Path:
    """Static QDQ int8 (per-channel weights) calibrated on real crops, with onnxruntime's tools."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"input": calibration[i : i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)

    pre = out_path.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32_path), str(pre))
    quantize_static(
        str(pre),
        str(out_path),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
    )
    return out_path


def build_runners(model: torch.nn.Module, input_hw, calibration: np.ndarray, skip: set[str], workdir: Path):
    """(name, runner, setup seconds) for every path not skipped."""
    for name in PATHS:
        if name in skip:
            continue
        start = time.perf_counter()
        if name == "fp32-eager":
            run = torch_runner(model)
        elif name == "fp32-fold-cl":
            run = torch_runner(optimize_for_inference(model, precision="fp32"))
        elif name == "bf16-autocast-cl":
            run = torch_runner(copy.deepcopy(model).to(memory_format=torch.channels_last), autocast=True)
        elif name == "bf16-fold-cl":
            run = torch_runner(optimize_for_inference(model, precision="bf16"))
        elif name == "bf16-compile":
            run = torch_runner(optimize_for_inference(model, precision="bf16", compile=True))
            run(calibration[:8])  # the first call compiles: count it as setup
        elif name.startswith("openvino"):
            precision = "fp32" if name.endswith("fp32") else "auto"
            run = OpenVinoBackend(model, input_hw, precision=precision)
        elif name == "ort-fp32":
            path = workdir / "fp32.onnx"
            export_onnx(model, path, input_hw, ONNX_OPTIONS)
            run = OnnxBackend(path, threads=torch.get_num_threads())
        else:
            fp32 = workdir / "fp32.onnx"
            if not fp32.exists():
                export_onnx(model, fp32, input_hw, ONNX_OPTIONS)
            path = int8_model(fp32, workdir / "int8.onnx", calibration)
            run = OnnxBackend(path, threads=torch.get_num_threads())
        yield name, run, time.perf_counter() - start


def gt_box_ap(run: Runner, cfg, workdir: Path) -> float | None:
    """COCO keypoint AP with ground-truth boxes on coco-val-mini through this path (None without the data)."""
    from devkit.people import coco_mini_root
    from posekit.evaluate.validate import validate_gt_boxes
    from posekit.pose.estimator import TopDownEstimator

    root = coco_mini_root()
    if root is None:
        return None
    val = dataclasses.replace(cfg.dataset.val, root=str(root), img_prefix="val2017")
    val_cfg = dataclasses.replace(cfg, dataset=dataclasses.replace(cfg.dataset, val=val))
    preset = cfg.data_preset
    estimator = TopDownEstimator(run, preset.image_size, preset.heatmap_size, num_joints=preset.num_joints)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return validate_gt_boxes(estimator, val_cfg, workdir / "gt.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cfg", default="configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml")
    parser.add_argument("--checkpoint", default=None, help="trained weights (else random: kp diff n/a)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated paths to leave out: " + ",".join(PATHS))
    args = parser.parse_args()

    from posekit.models.builder import build_pose_model
    from posekit.models.checkpoint import load_pose_network

    cfg = load_config(args.cfg)
    input_hw = tuple(cfg.data_preset.image_size)
    if args.checkpoint:
        model = load_pose_network(cfg, args.checkpoint, device="cpu")
    else:
        torch.manual_seed(0)
        model = build_pose_model(cfg.model, cfg.data_preset).eval()
    # the 12 annotated people of coco-val-mini
    crops, boxes = sample_crops_and_boxes(input_hw, 12, people=coco_mini_people(12))
    people = normalize_crops(crops)
    batch8 = people[:8]
    calibration = normalize_crops(np.ascontiguousarray(crops[:, :, ::-1]))  # int8: mirrored, not the same
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}, native bf16: {cpu_has_native_bf16()}"
    )
    print(
        f"model {cfg.model.type}-{cfg.model.num_layers} at {input_hw[0]}x{input_hw[1]}, "
        f"{'checkpoint ' + args.checkpoint if args.checkpoint else 'random weights'}"
    )

    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes skew the timings)")
    hm_h, hm_w = cfg.data_preset.heatmap_size
    heatmap_px = np.stack([(boxes[:, 2] - boxes[:, 0]) / hm_w, (boxes[:, 3] - boxes[:, 1]) / hm_h], -1)[
        :, None
    ]
    reference = None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, run, setup in build_runners(
            model, input_hw, calibration, set(args.skip.split(",")), Path(tmp)
        ):
            heatmaps = run(people)
            keypoints = decode_heatmaps(heatmaps, boxes)[0]
            if reference is None:
                reference = (heatmaps, keypoints)
            hm_diff = float(np.abs(heatmaps - reference[0]).max())
            moved = np.abs(keypoints - reference[1]).max(-1)
            kp_diff = float(moved.max())
            hm_px = float((np.abs(keypoints - reference[1]) / heatmap_px).max())
            changed = int((moved > 1e-6).sum())
            ap = gt_box_ap(run, cfg, Path(tmp))
            b1 = seconds_per_call(run, batch8[:1], args.repeats) * 1000
            b8 = seconds_per_call(run, batch8, args.repeats) * 1000 / 8
            rows.append((name, b1, b8, hm_diff, kp_diff, hm_px, changed, ap, setup))
            print(f"  {name}: done", flush=True)

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    header = ["path", "batch 1 (ms)", "batch 8 (ms/person)", "max heatmap diff", "max kp diff: image px"]
    header += ["heatmap px", f"kps changed (of {keypoints.size // 2})", "AP gt boxes", "setup (s)"]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    note = "" if args.checkpoint else " (random)"
    for name, b1, b8, hm_diff, kp_diff, hm_px, changed, ap, setup in rows:
        ap_text = "n/a" if ap is None else f"{ap:.4f}"
        cells = [name, f"{b1:.1f}", f"{b8:.1f}", f"{hm_diff:.2e}", f"{kp_diff:.2f}{note}", f"{hm_px:.2f}"]
        print("| " + " | ".join([*cells, str(changed), ap_text, f"{setup:.1f}"]) + " |")


if __name__ == "__main__":
    main()
