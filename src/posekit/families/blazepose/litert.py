"""Loading a BlazePose .tflite file into a LiteRT interpreter."""

from __future__ import annotations

from pathlib import Path

from posekit.console import native_info_hidden
from posekit.errors import PosekitError


def load_interpreter(path: Path, num_threads: int | None = None):
    """A LiteRT interpreter for one .tflite file, tensors allocated; the runtime's INFO lines are not
    shown (unless -v), its errors are."""
    from ai_edge_litert.interpreter import Interpreter

    with native_info_hidden():  # the runtime's "INFO: Created TensorFlow Lite XNNPACK delegate" line
        try:
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise PosekitError(f"{path}: not a valid TFLite model ({exc})") from exc
        interpreter.allocate_tensors()
    return interpreter
