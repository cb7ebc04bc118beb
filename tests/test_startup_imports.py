"""Asking for help and making options import no network runtime (torch, onnxruntime, OpenVINO,
LiteRT) and no numpy: `posekit --help` answers at once."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import pytest

HEAVY = ("torch", "onnxruntime", "openvino", "ai_edge_litert", "numpy", "cv2")


def imported_modules(*args: str) -> set[str]:
    """The modules `python -X importtime ARGS` imports (read from its import-time lines)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # the first line is the header


@pytest.mark.parametrize(
    "args",
    [
        ("-m", "posekit", "--help"),
        ("-m", "posekit", "infer", "--help"),
        ("-c", "import posekit; posekit.InferOptions(); posekit.InferOptions.from_flat(detector='yolox')"),
    ],
    ids=["posekit --help", "posekit infer --help", "InferOptions()"],
)
def test_help_and_options_import_no_runtime(args):
    modules = imported_modules(*args)
    assert "posekit.choices" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_posekit_help_returns_quickly():
    seconds = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "posekit", "--help"], capture_output=True, check=True)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(f"posekit --help: median {median:.3f} s of 5")
    assert median < 2.0  # about 0.2 s on an idle machine; the bound leaves room for a loaded CI host
