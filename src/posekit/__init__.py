"""posekit: multi-person 2D human pose estimation (AlphaPose-compatible, pip-installable).

    pipe = posekit.load()          # a Pipeline (posekit.infer.pipeline)
    result = pipe(image_or_path)   # a posekit.PoseResult

`load`, `Pipeline`, `InferOptions` (with its parts `ModelOptions`, `StreamOptions`, `OutputOptions`) and
`PoseResult` are imported on first use, so `import posekit`
imports nothing heavy (and the command line's Ctrl-C handling covers every start-up import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posekit.api import annotate, batch, load
    from posekit.infer.options import InferOptions, ModelOptions, OutputOptions, StreamOptions
    from posekit.infer.pipeline import Pipeline
    from posekit.types import PoseResult

__version__ = "0.1.0"
__all__ = [
    "InferOptions",
    "ModelOptions",
    "OutputOptions",
    "Pipeline",
    "PoseResult",
    "StreamOptions",
    "__version__",
    "annotate",
    "batch",
    "load",
]

_LAZY = {
    "load": ("posekit.api", "load"),
    "annotate": ("posekit.api", "annotate"),
    "batch": ("posekit.api", "batch"),
    "Pipeline": ("posekit.infer.pipeline", "Pipeline"),
    "InferOptions": ("posekit.infer.options", "InferOptions"),
    "ModelOptions": ("posekit.infer.options", "ModelOptions"),
    "StreamOptions": ("posekit.infer.options", "StreamOptions"),
    "OutputOptions": ("posekit.infer.options", "OutputOptions"),
    "PoseResult": ("posekit.types", "PoseResult"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'posekit' has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
