"""AlphaPose model-zoo command lines run verbatim: `python scripts/demo_inference.py --cfg configs/...
--checkpoint pretrained_models/... --indir ... --save_img` with a checkpoint in AlphaPose's key layout
(random weights of the config's own network, its output maps biased up so that every person passes
pose NMS's confidence filters), writing results with the set's joint count and renderings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.models.builder import build_pose_model, output_layer_key

REPO = Path(__file__).resolve().parents[1]

# (config, the file name AlphaPose's MODEL_ZOO gives, joints)
ZOO_COMMANDS = [
    ("configs/halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml", "halpe26_fast_res50_256x192.pth", 26),
    (
        "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "halpe136_fast_res50_256x192.pth",
        136,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("cfg", "file_name", "joints"), ZOO_COMMANDS)
def test_a_zoo_command_runs_verbatim(cfg, file_name, joints, coco_mini, tmp_path):
    config = load_config(REPO / cfg)
    torch.manual_seed(0)
    model = build_pose_model(config.model, config.data_preset)
    checkpoint = tmp_path / "pretrained_models" / file_name
    checkpoint.parent.mkdir()
    state = model.state_dict()
    state[output_layer_key(model).replace(".weight", ".bias")] += 4.0  # confident maps: people are kept
    torch.save(state, checkpoint)
    out = tmp_path / "res"
    command = [sys.executable, "scripts/demo_inference.py", "--cfg", cfg, "--checkpoint", str(checkpoint),
               "--indir", str(coco_mini / "val2017"), "--outdir", str(out), "--save_img"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]))
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "alphapose-results.json").read_text())
    assert results and all(len(entry["keypoints"]) == 3 * joints for entry in results)
    images = {p.name for p in (coco_mini / "val2017").iterdir()}
    assert {entry["image_id"] for entry in results} <= images
    assert {p.name for p in (out / "vis").iterdir()} == images
