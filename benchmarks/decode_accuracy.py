"""Plain vs refined decoding (and flip test) on coco-val-mini with a model overfit to it (run by hand).

Trains the tiny FastPose of devkit/train_helpers.overfit_tiny_model (300 steps, a few CPU minutes) unless
--checkpoint is given, then reports gt-box and det-box AP for each decoding variant.

    python benchmarks/decode_accuracy.py [--checkpoint final_DPG.pth] [--shared DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.train_helpers import OVERFIT_OVERRIDES, overfit_tiny_model, tiny_config  # noqa: E402
from posekit.evaluate.validate import validate_det_boxes, validate_gt_boxes  # noqa: E402
from posekit.models.checkpoint import load_pose_network  # noqa: E402
from posekit.pose.estimator import TopDownEstimator  # noqa: E402
from posekit.runtime.torch_backend import TorchBackend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--shared", default=str(REPO.parent / "shared/data/coco-val-mini"))
    args = parser.parse_args()
    coco = Path(args.shared)
    with tempfile.TemporaryDirectory() as tmp:
        if args.checkpoint:
            checkpoint = Path(args.checkpoint)
        else:
            checkpoint = overfit_tiny_model(coco, Path(tmp))[1].work_dir / "final_DPG.pth"
        cfg = tiny_config(coco, **OVERFIT_OVERRIDES)
        model = load_pose_network(cfg, checkpoint)
        preset = cfg.data_preset
        print("| decoding | flip test | gt-box AP | det-box AP |\n|---|---|---|---|")
        for subpixel in (False, True):
            for flip in (False, True):
                est = TopDownEstimator(
                    TorchBackend(model), preset.image_size, preset.heatmap_size, subpixel=subpixel, flip=flip
                )
                gt_ap = validate_gt_boxes(est, cfg, Path(tmp) / "gt.json")
                det_ap = validate_det_boxes(est, cfg, Path(tmp) / "det.json")
                name = "Taylor-refined" if subpixel else "argmax + quarter offset"
                print(f"| {name} | {'yes' if flip else 'no'} | {gt_ap:.4f} | {det_ap:.4f} |")


if __name__ == "__main__":
    main()
