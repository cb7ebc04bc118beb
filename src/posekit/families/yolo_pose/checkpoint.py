"""Loading an Ultralytics YOLOv8/YOLO11-pose `.pt` into a YoloPoseNet, refusing anything else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from posekit.errors import MissingFileError, PosekitError, brief
from posekit.families.yolo_pose.head import REG_MAX
from posekit.families.yolo_pose.network import ArchitectureError, YoloPoseNet, build_network
from posekit.families.yolo_pose.unpickler import StandIn, read_checkpoint

HEAD_KINDS = {
    "Detect": "a YOLO detect checkpoint",
    "Segment": "a YOLO segment checkpoint",
    "Classify": "a YOLO classify checkpoint",
    "OBB": "a YOLO obb (oriented boxes) checkpoint",
}
DEFAULT_IMGSZ = 640
MAX_LAYERS = 100  # YOLOv8/YOLO11-pose have 23-24 rows
MAX_REPEATS = 64  # a row's repeat count after the depth multiple (Ultralytics' largest is 9)
MAX_KEYPOINTS = 1024
MAX_CLASSES = 1000
END_TO_END_CHILDREN = ("one2one_cv2", "one2one_cv3", "one2one_cv4", "cv4_kpts", "flow_model")


@dataclass
class YoloPoseCheckpoint:
    """A loaded YOLO-pose file: the fp32 eval-mode network and what the file says about itself."""

    path: Path
    network: YoloPoseNet
    kpt_shape: tuple[int, int]
    names: dict[int, str]
    license: str | None
    version: str | None
    family: str  # "YOLOv8" or "YOLO11"
    scale: str | None
    imgsz: int


def state_dict_of(module: StandIn, prefix: str = "") -> dict[str, torch.Tensor]:
    """The torch state dict of a stand-in module tree: parameters and persistent buffers, dotted names."""
    state: dict[str, torch.Tensor] = {}
    skip = module.__dict__.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers"):
        for name, value in (module.__dict__.get(group) or {}).items():
            if value is not None and name not in skip:
                state[prefix + name] = value
    for name, child in module.children.items():
        if isinstance(child, StandIn):
            state.update(state_dict_of(child, f"{prefix}{name}."))
    return state


def _fp32(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: (v.float() if v.is_floating_point() else v).clone() for k, v in state.items()}


def _refuse(path: Path, what: str) -> PosekitError:
    return PosekitError(f"{path}: {what}; posekit reads Ultralytics YOLOv8/YOLO11-pose checkpoints only")


def _pose_model(path: Path, ckpt: Any) -> StandIn:
    """The PoseModel stand-in of a checkpoint dict (`ema` when set, else `model`)."""
    if not isinstance(ckpt, dict) or not ({"model", "ema"} & set(ckpt)):
        raise _refuse(path, "not an Ultralytics checkpoint (no 'model' in it)")
    if "modelopt" in ckpt:
        raise _refuse(path, "a quantisation-aware (modelopt) checkpoint")
    model = ckpt.get("ema") or ckpt.get("model")
    if not isinstance(model, StandIn):
        raise _refuse(path, f"its model is a {type(model).__name__}, not an Ultralytics network")
    if model.name != "PoseModel":
        raise _refuse(path, f"an Ultralytics {model.name}, not a PoseModel")
    return model


def _pose_head(path: Path, model: StandIn) -> StandIn:
    layers = model.children.get("model")
    head = list(layers.children.values())[-1] if isinstance(layers, StandIn) and layers.children else None
    if head is None:
        raise _refuse(path, "a PoseModel without layers")
    if head.name in HEAD_KINDS:
        raise _refuse(path, f"{HEAD_KINDS[head.name]} (last layer {head.name})")
    arch = getattr(model, "yaml", None) or {}
    if (
        head.name != "Pose"
        or arch.get("end2end")
        or getattr(head, "end2end", False)
        or any(name in head.children for name in END_TO_END_CHILDREN)
    ):
        raise _refuse(path, f"an end-to-end (NMS-free) pose head ({head.name}), which posekit does not run")
    if getattr(head, "reg_max", REG_MAX) != REG_MAX or arch.get("reg_max", REG_MAX) != REG_MAX:
        raise _refuse(path, f"a head with reg_max {getattr(head, 'reg_max', '?')} (only 16 is supported)")
    levels = getattr(head, "nl", 3)
    if levels != 3:
        raise _refuse(path, f"a {levels}-level (P6) model; only 3-level (P3-P5) models are supported")
    return head


def _check_repeats(path: Path, arch: dict[str, Any]) -> None:
    """Refuse an architecture with too many layers or repeats before any module is built."""
    rows = list(arch.get("backbone") or []) + list(arch.get("head") or [])
    if len(rows) > MAX_LAYERS:
        raise _refuse(path, f"an architecture of {len(rows)} layers (over {MAX_LAYERS})")
    scales = arch.get("scales") or {}
    scale = scales.get(arch.get("scale") or next(iter(scales), None)) if isinstance(scales, dict) else None
    depth = scale[0] if isinstance(scale, list | tuple) and scale else 1.0
    for index, row in enumerate(rows):
        count = row[1] if isinstance(row, list | tuple) and len(row) == 4 else None
        if not isinstance(count, int | float) or not isinstance(depth, int | float):
            raise _refuse(path, f"an architecture whose layer {index} is {brief(row)}")
        if not 0 <= count * max(depth, 1.0) <= MAX_REPEATS:
            raise _refuse(path, f"an architecture whose layer {index} repeats {brief(count)} times")


def _check_shapes(path: Path, shapes: dict[str, tuple[int, ...]], state: dict[str, torch.Tensor]) -> None:
    """Refuse weights whose names or shapes differ from those the stored architecture builds."""
    for key in [*shapes, *(k for k in state if k not in shapes)]:
        if key not in state or key not in shapes:
            where = "lacks" if key not in state else "has the extra weight"
            raise _refuse(path, f"weights that do not fit the stored architecture (it {where} {key})")
        if tuple(state[key].shape) != shapes[key]:
            raise _refuse(
                path,
                f"weights that do not fit the stored architecture ({key}: {list(state[key].shape)} in "
                f"the file, {list(shapes[key])} from the architecture)",
            )


def load_checkpoint(path: str | Path) -> YoloPoseCheckpoint:
    """Read a YOLOv8/YOLO11-pose `.pt` without running code from it and rebuild its network in fp32.

    The network is built from the architecture dict stored in the file and its weights (fp16 or
    fp32, from `ema` or `model`) are loaded with strict=True. Raises MissingFileError when the file
    is absent and PosekitError (one line naming the file and what it is) for anything else.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise PosekitError(f"{path}: is a folder, not a YOLO-pose checkpoint file")
    if not path.is_file():
        raise MissingFileError(f"YOLO-pose checkpoint not found: {path}")
    ckpt = read_checkpoint(path)
    model = _pose_model(path, ckpt)
    head = _pose_head(path, model)
    stored_shape = getattr(head, "kpt_shape", None) or getattr(model, "kpt_shape", None)
    if stored_shape is None:
        raise _refuse(path, "a pose model without its keypoint shape (kpt_shape)")
    kpt_shape = tuple(int(v) for v in stored_shape)
    if len(kpt_shape) != 2 or kpt_shape[0] < 1 or kpt_shape[1] not in (2, 3):
        raise _refuse(path, f"keypoint shape {list(kpt_shape)} (needs [K, 2] or [K, 3])")
    nc = int(getattr(head, "nc", 1))
    stride = getattr(model, "stride", None)
    strides = tuple(float(s) for s in (stride.tolist() if isinstance(stride, torch.Tensor) else (8, 16, 32)))
    arch = getattr(model, "yaml", None)
    if not isinstance(arch, dict):
        raise _refuse(path, "a PoseModel without its architecture dict (yaml)")
    if kpt_shape[0] > MAX_KEYPOINTS or not 1 <= nc <= MAX_CLASSES:
        raise _refuse(path, f"a head with {kpt_shape[0]} keypoints and {nc} classes (too many)")
    state = state_dict_of(model)
    _check_repeats(path, arch)
    try:
        with torch.device("meta"):  # shapes only: nothing is allocated for what the file claims
            shapes = {
                k: tuple(v.shape) for k, v in build_network(arch, nc, kpt_shape, strides).state_dict().items()
            }
    except (ArchitectureError, KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        raise _refuse(path, f"an architecture posekit cannot build ({brief(str(exc), 200)})") from exc
    _check_shapes(path, shapes, state)
    network = build_network(arch, nc, kpt_shape, strides)
    try:
        network.load_state_dict(_fp32(state), strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise _refuse(path, f"weights that do not fit the stored architecture ({detail})") from exc
    names = getattr(model, "names", None) or {0: "person"}
    train_args = ckpt.get("train_args") if isinstance(ckpt.get("train_args"), dict) else {}
    imgsz = train_args.get("imgsz", DEFAULT_IMGSZ)
    return YoloPoseCheckpoint(
        path=path,
        network=network.eval(),
        kpt_shape=kpt_shape,
        names={int(k): str(v) for k, v in dict(names).items()},
        license=ckpt.get("license"),
        version=ckpt.get("version"),
        family="YOLOv8" if any(r[2] == "C2f" for r in arch.get("backbone", [])) else "YOLO11",
        scale=arch.get("scale"),
        imgsz=imgsz if isinstance(imgsz, int) and imgsz > 0 else DEFAULT_IMGSZ,
    )
