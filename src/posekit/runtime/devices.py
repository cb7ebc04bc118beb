"""Which device a runtime runs on: the CPU test every backend and precision choice uses, and the check
that refuses a backend on a device it cannot run on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from posekit.errors import PosekitError

if TYPE_CHECKING:
    import torch


def on_cpu(device: str | torch.device) -> bool:
    """Whether `device` ("cpu", "cuda:0", a torch.device) is the CPU."""
    return str(device).split(":")[0] == "cpu"


def check_backend_device(kind: str, device: str | torch.device) -> None:
    """Refuse a backend on a device it cannot run on: openvino runs on the CPU only."""
    if kind == "openvino" and not on_cpu(device):
        raise PosekitError(f"the openvino backend runs on the CPU, not {device}: use --backend torch")
