"""Seed script: export a pose checkpoint to ONNX (same flags as `posekit export onnx`).

python pthtar2onnx.py --cfg=./configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml \
    --input_pth=./fast_res50_256x192.pth --output_onnx=./alphapose_fastpose_cpu.onnx
"""

import argparse

from posekit.cli.export import add_onnx_flags, run_onnx
from posekit.cli.main import run_guarded

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Export an AlphaPose/posekit pose checkpoint to ONNX")
    add_onnx_flags(parser)
    raise SystemExit(run_guarded(run_onnx, parser.parse_args()))
