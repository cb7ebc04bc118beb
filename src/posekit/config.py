"""AlphaPose-style YAML configs loaded into typed, validated objects.

Keys are AlphaPose's upper-case names; fields are their lower-case twins. A missing required key or a
bad value raises ConfigError naming the file and the key; unknown keys only warn, so users' AlphaPose
configs with extra keys still load. CLI flags override keys with dotted names ("TRAIN.BATCH_SIZE").
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posekit.errors import ConfigError, brief
from posekit.io.yamlio import read_yaml


@dataclass
class AugConfig:
    """Training augmentation (DATASET.TRAIN.AUG)."""

    flip: bool = True
    rot_factor: float = 40.0
    scale_factor: float = 0.3
    num_joints_half_body: int = 8
    prob_half_body: float = -1.0


def no_augmentation() -> AugConfig:
    """A split without an AUG section, as AlphaPose reads it: scale and rotation factor 0, half-body off."""
    return AugConfig(rot_factor=0.0, scale_factor=0.0, num_joints_half_body=-1, prob_half_body=-1.0)


@dataclass
class DatasetSplit:
    """One dataset split: where the images and annotations are."""

    root: str | list[str] = field(default="", metadata={"required_unless": "set_list"})
    ann: str | list[str] = field(default="", metadata={"required_unless": "set_list"})
    img_prefix: str | list[str] = ""
    type: str = "Mscoco"
    det_file: str = ""
    aug: AugConfig = field(default_factory=no_augmentation)  # AUG given: missing keys as the seed config
    set_list: list[DatasetSplit] = field(default_factory=list)  # ConcatDataset: the datasets it joins

    @property
    def ann_path(self) -> Path:
        """Annotation file path (the first one when ANN, ROOT are lists, as in multi-dataset configs)."""
        return Path(_first(self.root)) / _first(self.ann)

    @property
    def image_dir(self) -> Path:
        """Folder holding the split's images (the first dataset's when ROOT/IMG_PREFIX are lists)."""
        return Path(_first(self.root)) / _first(self.img_prefix)

    @property
    def coco_files(self) -> CocoFiles:
        """The first dataset's root, annotation file and image folder, as posekit.io.coco reads them."""
        return CocoFiles(_first(self.root), self.ann_path, self.image_dir)


@dataclass
class CocoFiles:
    """Where one COCO-layout dataset lies: its ROOT, annotation file and image folder."""

    root: str
    ann_path: Path
    image_dir: Path


def _first(value: str | list[str]) -> str:
    return value[0] if isinstance(value, list) else value


@dataclass
class DatasetConfig:
    """DATASET: train, val and (optional) test splits."""

    train: DatasetSplit
    val: DatasetSplit
    test: DatasetSplit | None = None


@dataclass
class DataPreset:
    """DATA_PRESET: input and heatmap sizes are [H, W]."""

    image_size: tuple[int, int] = (256, 192)
    heatmap_size: tuple[int, int] = (64, 48)
    num_joints: int = 17
    sigma: float = 2.0
    type: str = "simple"
    loss_type: str = "MSELoss"  # DATA_PRESET.LOSS_TYPE: which targets the training set makes


@dataclass
class DCNConfig:
    """MODEL.DCN: deformable convolution in the backbone stages STAGE_WITH_DCN names."""

    modulated: bool = False  # v2: a sigmoid mask per sampling point
    deform_group: int = 1
    fallback_on_stride: bool = False  # AlphaPose: true keeps plain 3x3 convs everywhere


@dataclass
class StageConfig:
    """MODEL.STAGE1..STAGE4: FastPose_DUC's upsampling stages (NUM_CONV) or HRNet's stages (the rest)."""

    num_conv: int = 1
    num_modules: int = 1
    num_branches: int = 1
    num_blocks: list[int] = field(default_factory=list)
    num_channels: list[int] = field(default_factory=list)
    block: str = "BASIC"
    fuse_method: str = "SUM"


@dataclass
class ModelConfig:
    """MODEL: the pose network (TYPE picks the architecture; each reads the keys it uses)."""

    type: str = "FastPose"
    num_layers: int = 50
    pretrained: str = ""
    try_load: str = ""
    conv_dim: int | None = None  # FastPose: 128 (256 in whole-body configs); 32 for ResNet-18/34
    num_deconv_filters: list[int] = field(default_factory=lambda: [256, 256, 256])  # SimplePose
    backbone: str = "se-resnet"  # FastPose_DUC: 'se-resnet', 'shuffle', anything else a plain ResNet
    final_conv_kernel: int = 1  # HRNet's final layer: 1 or 3
    pretrained_layers: list[str] = field(default_factory=lambda: ["*"])
    dcn: DCNConfig | None = None
    stage_with_dcn: list[bool] = field(default_factory=lambda: [False, False, False, False])
    stage1: StageConfig | None = None
    stage2: StageConfig | None = None
    stage3: StageConfig | None = None
    stage4: StageConfig | None = None


LOSS_TYPES = ("MSELoss", "L1JointRegression", "Combined")
NORM_TYPES = ("softmax", "sigmoid", "divide_sum")


@dataclass
class SubLossConfig:
    """LOSS.LOSS_1 / LOSS.LOSS_2 of a `Combined` loss."""

    type: str = "MSELoss"
    norm_type: str = ""
    output_3d: bool = False


@dataclass
class LossConfig:
    """LOSS: TYPE picks the head's decoding and loss (MSELoss heatmaps, L1JointRegression integral
    regression, Combined: heatmaps for body and feet, regression for face and hands); NORM_TYPE is the
    integral regression's normalisation ("" = softmax, L1JointRegression's default)."""

    type: str = "MSELoss"
    norm_type: str = ""
    output_3d: bool = False
    loss_1: SubLossConfig | None = None
    loss_2: SubLossConfig | None = None

    @property
    def norm(self) -> str:
        """NORM_TYPE, or softmax when it is not given."""
        return self.norm_type or "softmax"


@dataclass
class DetectorConfig:
    """DETECTOR (AlphaPose keeps it for reference; posekit uses NAME and WEIGHTS as defaults)."""

    name: str = "yolo"
    config: str = "detector/yolo/cfg/yolov3-spp.cfg"
    weights: str = "detector/yolo/data/yolov3-spp.weights"
    nms_thres: float = 0.6
    confidence: float = 0.05


@dataclass
class TrainConfig:
    """TRAIN: optimisation schedule."""

    batch_size: int = 32
    end_epoch: int = 200
    begin_epoch: int = 0
    world_size: int = 1
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_factor: float = 0.1
    lr_step: list[int] = field(default_factory=lambda: [90, 120])
    dpg_milestone: int = 140
    dpg_step: list[int] = field(default_factory=lambda: [160, 190])


@dataclass
class Config:
    """A whole posekit/AlphaPose configuration."""

    dataset: DatasetConfig
    data_preset: DataPreset = field(default_factory=DataPreset)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    path: str = field(default="", metadata={"internal": True})

    @property
    def file_name(self) -> str:
        """The config's base name, used in work-dir names (AlphaPose's cfg.FILE_NAME)."""
        return Path(self.path).name if self.path else "config.yaml"


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Load and validate a YAML config; `overrides` maps dotted keys ("TRAIN.LR") to values."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)
    config = _build(Config, data, "", path)
    config.path = str(path)
    validate_config(config, path)
    return config


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    """Build a Config from an already-parsed mapping (tests, UI)."""
    config = _build(Config, data, "", Path(source))
    validate_config(config, Path(source))
    return config


def config_to_dict(config: Config) -> dict[str, Any]:
    """The config as an AlphaPose-style mapping with upper-case keys (for printing or saving)."""

    def convert(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {
                f.name.upper(): convert(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if not f.metadata.get("internal") and getattr(value, f.name) is not None
            }
        if isinstance(value, tuple):
            return list(value)
        return value

    return convert(config)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def _build(cls: type, data: Any, where: str, src: Path) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{src}: {where or 'top level'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name.upper() for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if str(key).upper() not in known:
            warnings.warn(f"{src}: unknown key {_join(where, str(key))} ignored", stacklevel=3)
    upper = {str(k).upper(): v for k, v in data.items()}
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        key = f.name.upper()
        dotted = _join(where, key)
        if key in upper:
            kwargs[f.name] = _coerce(hints[f.name], upper[key], dotted, src)
        elif _required(f, upper):
            raise ConfigError(f"{src}: missing key {dotted}")
    return cls(**kwargs)


def _required(f: dataclasses.Field, given: dict[str, Any]) -> bool:
    """Whether absent field `f` must be given: no default, or its `required_unless` key is absent too."""
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        return True
    unless = f.metadata.get("required_unless")
    if not unless:
        return False
    return str(unless).upper() not in given


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _coerce(kind: Any, value: Any, dotted: str, src: Path) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, dotted, src)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[-1]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _build(kind, value, dotted, src)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{src}: {dotted} must be a list, got {brief(value)}")
        args = typing.get_args(kind)
        if origin is tuple:
            if len(value) != len(args):
                raise ConfigError(f"{src}: {dotted} must have {len(args)} values, got {brief(value)}")
            return tuple(_coerce(a, v, dotted, src) for a, v in zip(args, value))
        return [_coerce(args[0], v, dotted, src) for v in value]
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{src}: {dotted} must be true or false, got {brief(value)}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{src}: {dotted} must be an integer, got {brief(value)}")
    if kind is float:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return float(value)
            except (ValueError, OverflowError):  # e.g. a 400-digit integer
                pass
        raise ConfigError(f"{src}: {dotted} must be a number, got {brief(value)}")
    if kind is str:
        if value is None:
            return ""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{src}: {dotted} must be a string, got {brief(value)}")
    raise ConfigError(f"{src}: {dotted} has an unsupported type {kind}")


MAX_JOINTS = 1024  # the largest keypoint sets (whole-body) have 133 or 136
MAX_IMAGE_SIDE = 1024  # pose inputs are crops (AlphaPose's largest is 384x288); 8192^2 needs over 6 GB
MAX_ROT_FACTOR = 180.0  # degrees; rotations are drawn from N(0, ROT_FACTOR) clipped at 2x


def validate_config(config: Config, src: Path) -> None:
    """Raise ConfigError naming the key and its allowed range for a value training cannot use."""
    preset, train = config.data_preset, config.train

    def need(ok: bool, key: str, allowed: str, value: Any) -> None:
        if not ok:
            raise ConfigError(f"{src}: {key} must be {allowed}, got {brief(value)}")

    def positive(value: float) -> bool:
        return math.isfinite(value) and value > 0

    need(train.batch_size >= 1, "TRAIN.BATCH_SIZE", "an integer >= 1", train.batch_size)
    need(positive(train.lr), "TRAIN.LR", "a finite number > 0", train.lr)
    need(positive(train.lr_factor), "TRAIN.LR_FACTOR", "a finite number > 0", train.lr_factor)
    need(train.end_epoch >= 0, "TRAIN.END_EPOCH", "an integer >= 0", train.end_epoch)
    need(train.begin_epoch >= 0, "TRAIN.BEGIN_EPOCH", "an integer >= 0", train.begin_epoch)
    size = preset.image_size
    need(
        all(v > 0 and v % 4 == 0 for v in size),
        "DATA_PRESET.IMAGE_SIZE",
        "[H, W], each a multiple of 4 and > 0",
        list(size),
    )
    need(
        all(0 < v <= MAX_IMAGE_SIDE for v in size),
        "DATA_PRESET.IMAGE_SIZE",
        f"[H, W], each at most {MAX_IMAGE_SIDE}",
        list(size),
    )
    quarter = [v // 4 for v in size]
    need(
        list(preset.heatmap_size) == quarter,
        "DATA_PRESET.HEATMAP_SIZE",
        f"IMAGE_SIZE / 4 = {quarter}",
        list(preset.heatmap_size),
    )
    need(
        1 <= preset.num_joints <= MAX_JOINTS,
        "DATA_PRESET.NUM_JOINTS",
        f"an integer in [1, {MAX_JOINTS}]",
        preset.num_joints,
    )
    need(
        positive(preset.sigma) and preset.sigma <= 100,
        "DATA_PRESET.SIGMA",
        "a number in (0, 100]",
        preset.sigma,
    )
    validate_model(config.model, src)
    _validate_loss(config, need)
    for name in ("train", "val", "test"):
        split = getattr(config.dataset, name)
        if split is None:
            continue
        key = f"DATASET.{name.upper()}"
        need(
            bool(split.set_list)
            or (bool(split.ann) and all(split.ann if isinstance(split.ann, list) else [split.ann])),
            f"{key}.ANN",
            "a file name or a non-empty list of file names",
            split.ann,
        )
        aug = split.aug
        need(
            math.isfinite(aug.rot_factor) and 0 <= aug.rot_factor <= MAX_ROT_FACTOR,
            f"{key}.AUG.ROT_FACTOR",
            f"degrees in [0, {MAX_ROT_FACTOR:g}]",
            aug.rot_factor,
        )
        need(
            math.isfinite(aug.scale_factor) and 0 <= aug.scale_factor < 1,
            f"{key}.AUG.SCALE_FACTOR",
            "a number in [0, 1)",
            aug.scale_factor,
        )


def _validate_loss(config: Config, need) -> None:
    """LOSS.TYPE / NORM_TYPE / DATA_PRESET.LOSS_TYPE values posekit can train and decode."""
    loss, preset = config.loss, config.data_preset
    allowed = ", ".join(LOSS_TYPES)
    need(loss.type in LOSS_TYPES, "LOSS.TYPE", f"one of {allowed}", loss.type)
    need(preset.loss_type in LOSS_TYPES, "DATA_PRESET.LOSS_TYPE", f"one of {allowed}", preset.loss_type)
    norms = ", ".join(NORM_TYPES)
    need(loss.norm_type in ("", *NORM_TYPES), "LOSS.NORM_TYPE", f"one of {norms}", loss.norm_type)
    need(not loss.output_3d, "LOSS.OUTPUT_3D", "false (2D models only)", loss.output_3d)
    if loss.type == "Combined":
        face_hand = 42 if preset.num_joints == 68 else 110
        need(
            preset.num_joints > face_hand,
            "DATA_PRESET.NUM_JOINTS",
            f"more than the {face_hand} face and hand joints a Combined head regresses",
            preset.num_joints,
        )


MODEL_DEPTHS = (18, 34, 50, 101, 152)
HRNET_BLOCKS = ("BASIC", "BOTTLENECK")


def validate_model(model: ModelConfig, src: Path) -> None:
    """Raise ConfigError naming the MODEL key whose value the architecture MODEL.TYPE cannot build."""

    def need(ok: bool, key: str, allowed: str, value: Any) -> None:
        if not ok:
            raise ConfigError(f"{src}: MODEL.{key} must be {allowed}, got {value!r}")

    if model.type != "PoseHighResolutionNet":
        need(model.num_layers in MODEL_DEPTHS, "NUM_LAYERS", f"one of {list(MODEL_DEPTHS)}", model.num_layers)
    if model.conv_dim is not None:
        need(model.conv_dim >= 1, "CONV_DIM", "an integer >= 1", model.conv_dim)
    need(len(model.stage_with_dcn) == 4, "STAGE_WITH_DCN", "4 true/false values", model.stage_with_dcn)
    if model.dcn is not None:
        need(model.dcn.deform_group >= 1, "DCN.DEFORM_GROUP", "an integer >= 1", model.dcn.deform_group)
    if model.type == "SimplePose":
        filters = model.num_deconv_filters
        need(len(filters) == 3 and min(filters) >= 1, "NUM_DECONV_FILTERS", "3 integers >= 1", filters)
        need(model.num_layers >= 50, "NUM_LAYERS", "50, 101 or 152 (SimplePose)", model.num_layers)
    if model.type == "FastPose_DUC":
        for index in (1, 2, 3):
            stage = getattr(model, f"stage{index}")
            need(stage is not None, f"STAGE{index}", "given (NUM_CONV) for FastPose_DUC", None)
            need(stage.num_conv >= 1, f"STAGE{index}.NUM_CONV", "an integer >= 1", stage.num_conv)
    if model.type == "PoseHighResolutionNet":
        need(model.final_conv_kernel in (1, 3), "FINAL_CONV_KERNEL", "1 or 3", model.final_conv_kernel)
        _validate_hrnet_stages(model, need)


def _validate_hrnet_stages(model: ModelConfig, need: typing.Callable[..., None]) -> None:
    previous = 1
    for index in (2, 3, 4):
        key, stage = f"STAGE{index}", getattr(model, f"stage{index}")
        need(stage is not None, key, "given (NUM_MODULES, NUM_BRANCHES, ...) for PoseHighResolutionNet", None)
        branches = stage.num_branches
        need(
            branches > previous, f"{key}.NUM_BRANCHES", f"more than the previous stage's {previous}", branches
        )
        need(stage.num_modules >= 1, f"{key}.NUM_MODULES", "an integer >= 1", stage.num_modules)
        for name in ("num_blocks", "num_channels"):
            values = getattr(stage, name)
            need(
                len(values) == branches and all(v >= 1 for v in values),
                f"{key}.{name.upper()}",
                f"{branches} integers >= 1 (one per branch)",
                values,
            )
        need(stage.block in HRNET_BLOCKS, f"{key}.BLOCK", f"one of {list(HRNET_BLOCKS)}", stage.block)
        need(stage.fuse_method == "SUM", f"{key}.FUSE_METHOD", "'SUM'", stage.fuse_method)
        previous = branches
