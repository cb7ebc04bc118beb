"""One registry style for everything posekit builds by name (detectors, trackers, pose networks, backends).

A registry is a plain dict in the module that owns the things it names, from each accepted name to
where the thing lives, as (module, attribute):

    DETECTORS = {"yolo": ("posekit.detectors.yolov3", "YOLOv3SPPDetector"), ...}

Aliases, where a registry has any, are a second plain dict (alias -> name) beside it, and the owner
checks names and says what is accepted. `load(entry)` imports the module only when that entry is used,
so an entry with a heavy or optional dependency (torch networks, LiteRT, onnxruntime, openvino) costs
nothing until it is chosen, and a plug-in or a test adds an entry by assigning to the dict.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

Entry = tuple[str, str]  # (module, attribute)


def load(entry: Entry) -> Any:
    """The attribute a registry entry names, its module imported now."""
    module, attribute = entry
    return getattr(import_module(module), attribute)
