"""Build the pose network a config describes (never downloads anything)."""

from __future__ import annotations

from torch import nn

from posekit import registry
from posekit.config import DataPreset, ModelConfig
from posekit.errors import ConfigError

# MODEL.TYPE -> (module, network class) (posekit.registry)
MODEL_TYPES: dict[str, registry.Entry] = {"FastPose": ("posekit.models.fastpose", "FastPose")}


def build_pose_model(model_cfg: ModelConfig, preset: DataPreset) -> nn.Module:
    """A FastPose for MODEL (TYPE, NUM_LAYERS, CONV_DIM) with DATA_PRESET.NUM_JOINTS heatmaps."""
    if model_cfg.type not in MODEL_TYPES:
        raise ConfigError(
            f"MODEL.TYPE {model_cfg.type!r} is not supported; choose one of {sorted(MODEL_TYPES)}"
        )
    return registry.load(MODEL_TYPES[model_cfg.type])(
        num_layers=model_cfg.num_layers, num_joints=preset.num_joints, conv_dim=model_cfg.conv_dim
    )
