"""Loading a BlazePose .tflite file into a LiteRT interpreter."""

from __future__ import annotations

from pathlib import Path

from posekit.errors import PosekitError


def load_interpreter(path: Path, num_threads: int | None = None):
    """A LiteRT interpreter for one .tflite file, tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    except (ValueError, RuntimeError) as exc:
        raise PosekitError(f"{path}: not a valid TFLite model ({exc})") from exc
    interpreter.allocate_tensors()
    return interpreter
