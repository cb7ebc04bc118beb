"""Loading checkpoints: AlphaPose files, posekit training checkpoints, torchvision ImageNet ResNets."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from posekit.config import Config
from posekit.errors import MissingFileError, PosekitError
from posekit.models.builder import build_pose_model, output_layer_key

MAX_UNPACKED_BYTES = 4 << 30  # AlphaPose's largest checkpoints are a few hundred MB


def read_torch_file(path: str | Path, kind: str = "PyTorch checkpoint") -> Any:
    """Read a torch.save file once, never with a full unpickler (weights_only=True).

    One-line PosekitError: a pickle that asks for a global beyond tensors and plain containers (it
    would run code) is refused as such; a truncated, corrupt or foreign file is "not a readable {kind}".
    """
    path = Path(path)
    if path.is_dir():
        raise PosekitError(f"{path}: is a folder, not a {kind} file")
    if not path.is_file():
        raise MissingFileError(f"checkpoint not found: {path}")
    _check_unpacked_size(path, kind)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt or foreign file
        text = " ".join(str(exc).split())
        wanted = re.search(r"\bGLOBAL (\S+)", text)  # torch names the global it refused
        if wanted:
            raise PosekitError(
                f"{path}: refused: its pickle asks for {wanted.group(1)}, which would run code; a checkpoint "
                "holds only tensors and plain values, so posekit never unpickles such a file"
            ) from None
        detail = text.split("WeightsUnpickler error: ")[-1].split(" Check the documentation")[0]
        raise PosekitError(
            f"{path}: not a readable {kind}: corrupt, truncated or another format "
            f"({detail[:160] or type(exc).__name__})"
        ) from None


def _check_unpacked_size(path: Path, kind: str) -> None:
    """Refuse a torch.save zip whose members would unpack to more than MAX_UNPACKED_BYTES (a small
    file of deflated records can claim gigabytes), before torch inflates anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip (a legacy torch file): torch.load says what it is
    if unpacked > MAX_UNPACKED_BYTES:
        raise PosekitError(
            f"{path}: its records unpack to {unpacked} bytes (over {MAX_UNPACKED_BYTES}); not a {kind}"
        )


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights in a checkpoint file: a plain state_dict, or the 'model'/'state_dict' entry of
    a training checkpoint; DataParallel's `module.` prefixes are removed."""
    return state_dict_of(read_torch_file(path), path)


def state_dict_of(data: Any, path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights inside already-read checkpoint `data` (see read_state_dict)."""
    for key in ("model", "state_dict"):
        if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
            data = data[key]
    if not isinstance(data, Mapping) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise PosekitError(f"{path}: holds no model weights (expected a state_dict)")
    return {k.removeprefix("module."): v for k, v in data.items()}


def check_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Raise PosekitError naming the first key that is missing, unexpected or of another shape."""
    expected = model.state_dict()
    for key, tensor in expected.items():
        if key not in state and not key.endswith("num_batches_tracked"):
            raise PosekitError(f"{source}: missing key {key} (is this checkpoint for another model/config?)")
        if key in state and tuple(state[key].shape) != tuple(tensor.shape):
            raise PosekitError(
                f"{source}: {key} has shape {list(state[key].shape)} in the file but {list(tensor.shape)} "
                "in the model built from the config"
            )
    for key in state:
        if key not in expected:
            raise PosekitError(
                f"{source}: unexpected key {key} (is this checkpoint for another model/config?)"
            )


def load_checkpoint(model: nn.Module, path: str | Path, strict: bool = True) -> int:
    """Load weights into `model`. strict: every key and shape must match (num_batches_tracked may be
    absent). Not strict: load the tensors whose name and shape match. Returns how many were loaded."""
    return load_state(model, read_state_dict(path), str(path), strict)


def load_state(model: nn.Module, state: Mapping[str, torch.Tensor], source: str, strict: bool = True) -> int:
    """load_checkpoint over weights already read (from `source`)."""
    if strict:
        check_state_dict(model, state, source)
        model.load_state_dict(state, strict=False)
        return len(state)
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(matched, strict=False)
    return len(matched)


def load_pose_network(cfg: Config, checkpoint: str | Path, device: str = "cpu") -> nn.Module:
    """Build the config's model (any MODEL.TYPE), load `checkpoint` strictly, move to `device`, eval mode.

    The network is built without initialising weights (meta device: no memory) and compared with the
    checkpoint first, so a NUM_JOINTS or layer size the checkpoint contradicts is refused before anything
    is allocated; it then takes the file's tensors, cast to float32; a missing num_batches_tracked
    counts 0.
    """
    with torch.device("meta"):
        model = build_pose_model(cfg.model, cfg.data_preset)
    state = read_state_dict(checkpoint)
    joints = state.get(output_layer_key(model))
    if joints is not None and joints.shape[0] != cfg.data_preset.num_joints:
        raise PosekitError(
            f"{checkpoint}: checkpoint predicts {joints.shape[0]} joints but {cfg.path or 'the config'} "
            f"says DATA_PRESET.NUM_JOINTS {cfg.data_preset.num_joints}"
        )
    check_state_dict(model, state, str(checkpoint))
    counter = torch.zeros((), dtype=torch.long)
    full = {k: state.get(k, counter).to(v.dtype) for k, v in model.state_dict().items()}
    model.load_state_dict(full, assign=True)
    return model.to(device).eval()


def find_imagenet_resnet(depth: int) -> Path | None:
    """A torchvision ImageNet file for ResNet-`depth` (e.g. resnet50-0676ba61.pth) in torch's hub cache."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    candidates = sorted(folder.glob(f"resnet{depth}-*.pth")) if folder.is_dir() else []
    return candidates[-1] if candidates else None


def load_imagenet_backbone(
    model: nn.Module, depth: int, path: str | Path | None = None
) -> tuple[int, Path | None]:
    """Copy a torchvision-format ImageNet ResNet into `model.preact` (shape-matched keys; fc dropped).

    Returns (tensors loaded, file used); (0, None) when no file is given or found in the hub cache, or
    the network has no ResNet backbone.
    """
    source = Path(path) if path else find_imagenet_resnet(depth)
    preact = getattr(model, "preact", None)
    if source is None or not isinstance(preact, nn.Module):  # HRNet has no ResNet backbone
        return 0, None
    state = read_state_dict(source)
    backbone = preact.state_dict()
    matched = {k: v for k, v in state.items() if k in backbone and tuple(v.shape) == tuple(backbone[k].shape)}
    preact.load_state_dict(matched, strict=False)
    return len(matched), source
