"""Build the pose network a config describes (never downloads anything)."""

from __future__ import annotations

from torch import nn

from posekit import registry
from posekit.config import DataPreset, ModelConfig
from posekit.errors import ConfigError

# MODEL.TYPE -> (module, network class) (posekit.registry); each class has from_config(model, num_joints)
MODEL_TYPES: dict[str, registry.Entry] = {
    "FastPose": ("posekit.models.fastpose", "FastPose"),
    "FastPose_DUC": ("posekit.models.fastpose_duc", "FastPoseDUC"),
    "SimplePose": ("posekit.models.simplepose", "SimplePose"),
    "PoseHighResolutionNet": ("posekit.models.hrnet", "PoseHighResolutionNet"),
}


def build_pose_model(model_cfg: ModelConfig, preset: DataPreset) -> nn.Module:
    """The MODEL.TYPE network for MODEL's keys with DATA_PRESET.NUM_JOINTS output channels."""
    if model_cfg.type not in MODEL_TYPES:
        raise ConfigError(
            f"MODEL.TYPE {model_cfg.type!r} is not supported; choose one of {sorted(MODEL_TYPES)}"
        )
    return registry.load(MODEL_TYPES[model_cfg.type]).from_config(model_cfg, preset.num_joints)


def output_layer_key(model: nn.Module) -> str:
    """The state_dict key of the layer that makes the K output maps (its weight's dim 0 is K)."""
    return f"{getattr(model, 'output_layer', 'conv_out')}.weight"
