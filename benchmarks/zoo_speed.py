"""The model zoo side by side: ms per person for each network on each CPU backend, in one run.

    python benchmarks/zoo_speed.py                          # all networks, batch 8, 3 timed repeats
    python benchmarks/zoo_speed.py --networks fastpose-r50 fastpose-dcn --batch 4 --repeats 5

Networks are built from AlphaPose's configs with random weights (speed does not depend on the values;
DCN offsets are drawn at about a pixel so sampling is really deformed). Each backend runs a batch of
`--batch` 256x192 crops `--repeats` times after one warm-up; the table shows the median, divided by the
batch size, and in brackets the largest difference from eager PyTorch relative to the largest output.
All three are fp32 through posekit.runtime: torch is posekit's inference path (BN folded, channels-last).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
import warnings

import numpy as np
import torch

from posekit.config import load_config
from posekit.models.builder import build_pose_model
from posekit.runtime import build_runner

NETWORKS = {
    "fastpose-r50": "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
    "hrnet-w32": "configs/coco/hrnet/256x192_w32_lr1e-3.yaml",
    "fastpose-dcn": "configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml",
    "duc-r152": "configs/coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml",
    "regression-136": "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
}
BACKENDS = ("torch", "onnx", "openvino")


def cpu_model() -> str:
    """The CPU's model name (lscpu), else platform's processor string."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def build(name: str) -> torch.nn.Module:
    """The network of NETWORKS[name] with random weights (DCN offsets of about a pixel)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = load_config(NETWORKS[name])
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    for param_name, param in model.named_parameters():
        if "offset" in param_name:
            torch.nn.init.normal_(param, std=0.01)
    return model


def time_runner(runner, batch: np.ndarray, repeats: int) -> float:
    """Median ms per person over `repeats` runs after one warm-up."""
    runner(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner(batch)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch/onnxruntime/OpenVINO threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"CPU: {cpu_model()}; threads {torch.get_num_threads()}; batch {args.batch}; median of {args.repeats}"
    )
    batch = np.random.default_rng(0).normal(size=(args.batch, 3, 256, 192)).astype(np.float32)
    rows = []
    for name in args.networks:
        model = build(name)
        with torch.no_grad():
            reference = model(torch.from_numpy(batch[:1])).numpy()
        cells = []
        for backend in args.backends:
            runner = build_runner(model, batch.shape, backend, "fp32", threads=args.threads)
            diff = float(np.abs(runner(batch[:1]) - reference).max() / np.abs(reference).max())
            cells.append(f"{time_runner(runner, batch, args.repeats):8.1f} ({diff:.0e})")
            del runner
        rows.append((name, cells))
        print(f"| {name:<15} | " + " | ".join(cells) + " |", flush=True)
    print()
    print("| network | " + " | ".join(f"{b} fp32 ms/person (max diff / max)" for b in args.backends) + " |")
    print("|---|" + "---|" * len(args.backends))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(c.strip() for c in cells) + " |")


if __name__ == "__main__":
    main()
