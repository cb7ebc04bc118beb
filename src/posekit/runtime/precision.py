"""Precision for every backend (`resolve_precision`: bf16 where the CPU has it natively) and the torch
backend's fast CPU path: BN folding, channels_last, bf16, compile.

`optimize_for_inference(model)` returns a module with the same interface as the model (float32 NCHW in,
float32 output, or a tuple of them, out) that TorchBackend runs like any other. Speeds of each path:
docs/benchmarks.md (benchmarks/backends.py).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from posekit.choices import PRECISIONS
from posekit.runtime.devices import on_cpu


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX512-BF16 or AMX); emulated bf16 is slower than fp32."""
    if not torch.backends.mkldnn.is_available():
        return False
    names = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    probes = [getattr(torch.cpu, name) for name in names if hasattr(torch.cpu, name)]
    if probes:
        return any(probe() for probe in probes)
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text(encoding="utf-8", errors="ignore") if cpuinfo.is_file() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: str | torch.device = "cpu") -> str:
    """ "auto" -> "bf16" on a CPU with native bf16, else "fp32"; explicit values are checked and kept."""
    if precision not in PRECISIONS:
        from posekit.errors import PosekitError

        raise PosekitError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if on_cpu(device) and cpu_has_native_bf16() else "fp32"


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of an eval-mode model with each Conv2d -> BatchNorm2d pair folded into one conv (FX trace).

    A model FX cannot trace comes back as an unfolded copy; the result equals the input within ~1e-6.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model = copy.deepcopy(model).eval()
    try:
        graph = torch.fx.symbolic_trace(model)
    except Exception:  # untraceable control flow: folding is only an optimisation
        return model
    modules = dict(graph.named_modules())
    for node in list(graph.graph.nodes):
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        source = node.args[0]
        if not (isinstance(source, torch.fx.Node) and source.op == "call_module"):
            continue
        conv = modules[source.target]
        if not isinstance(conv, nn.Conv2d) or len(source.users) != 1:
            continue
        replace_submodule(graph, str(source.target), fuse_conv_bn_eval(conv, modules[node.target]))
        node.replace_all_uses_with(source)
        graph.graph.erase_node(node)
    graph.graph.lint()
    graph.delete_all_unused_submodules()
    graph.recompile()
    return graph


def replace_submodule(net: nn.Module, target: str, module: nn.Module) -> nn.Module:
    """Put `module` at the qualified name `target` inside `net`; returns the module that was there."""
    parent, _, name = target.rpartition(".")
    holder = net.get_submodule(parent) if parent else net
    old = getattr(holder, name)
    setattr(holder, name, module)
    return old


class Float32Conv(nn.Module):
    """A conv run in fp32 on bf16 input: used for the output layer, so heatmaps are not rounded to bf16
    (8-bit mantissa, steps of 0.004 near 1.0), which would tie neighbouring pixels before the argmax."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv.float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.float())


def last_conv_name(net: nn.Module) -> str | None:
    """Qualified name of the last Conv2d of `net` (FastPose: conv_out), or None."""
    convs = [name for name, module in net.named_modules() if isinstance(module, nn.Conv2d)]
    return convs[-1] if convs else None


def keep_output_conv_fp32(net: nn.Module) -> nn.Module:
    """Wrap the last Conv2d of `net` (FastPose: conv_out, 0.5% of the FLOPs) in Float32Conv."""
    target = last_conv_name(net)
    if target is not None:
        replace_submodule(net, target, Float32Conv(net.get_submodule(target)))
    return net


class InferenceModel(nn.Module):
    """Runs a prepared network: float32 NCHW in, float32 contiguous output (or tuple of outputs) out."""

    def __init__(
        self, net: nn.Module, dtype: torch.dtype, channels_last: bool, compiled: Callable[..., Any] | None
    ) -> None:
        super().__init__()
        self.net = net
        self.dtype = dtype
        self.channels_last = channels_last
        self._compiled = compiled
        self.precision = "bf16" if dtype == torch.bfloat16 else "fp32"

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = x.to(self.dtype)
        if self._compiled is not None:
            try:
                return as_float32(self._compiled(x))
            except Exception as exc:  # no C++ compiler, unsupported op...: run eager from now on
                warnings.warn(f"torch.compile failed ({type(exc).__name__}); running eager", stacklevel=2)
                self._compiled = None
        return as_float32(self.net(x))


def as_float32(out: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """A network output (tensor or tuple/list of tensors) as contiguous float32."""
    if isinstance(out, (tuple, list)):
        return tuple(t.float().contiguous() for t in out)
    return out.float().contiguous()


def optimize_for_inference(
    model: nn.Module,
    device: str | torch.device = "cpu",
    precision: str = "auto",
    channels_last: bool | None = None,
    compile: bool = False,
) -> InferenceModel:
    """Prepare an eval-mode copy of `model` for fast inference; the caller's model is not changed.

    precision "auto" picks bf16 on CPUs with native bf16 (weights and activations in bf16, the output
    conv in fp32) and fp32 elsewhere. channels_last defaults to on for CPU.
    compile=True adds torch.compile (dynamic batch, frozen weights): fastest in steady state, but the
    first call compiles for 10-25 s, so it pays off only on long runs.
    """
    device = torch.device(device)
    chosen = resolve_precision(precision, device)
    if channels_last is None:
        channels_last = device.type == "cpu"
    net = fold_batchnorm(model) if device.type == "cpu" else copy.deepcopy(model).eval()
    dtype = torch.bfloat16 if chosen == "bf16" else torch.float32
    net = net.to(device=device, dtype=dtype)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack it
    if dtype == torch.bfloat16:
        net = keep_output_conv_fp32(net)
    for param in net.parameters():
        param.requires_grad_(False)
    compiled = torch.compile(net, dynamic=True, options={"freezing": True}) if compile else None
    return InferenceModel(net, dtype, channels_last, compiled).eval()
