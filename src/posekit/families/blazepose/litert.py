"""Loading a BlazePose .tflite file into a LiteRT interpreter, once per file: the detector's landmark
passes and the pose model share one interpreter of the landmark model."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posekit.console import native_info_hidden
from posekit.errors import PosekitError


def load_interpreter(path: Path, num_threads: int | None = None) -> Any:
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


@dataclass
class SharedInterpreter:
    """One interpreter for every user of a model file; hold `lock` from setting the input to reading the
    outputs (the detector and the pose model may run on different threads)."""

    interpreter: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_SHARED: dict[tuple[Path, int | None, int], SharedInterpreter] = {}
_SHARED_LOCK = threading.Lock()


def shared_interpreter(path: Path, num_threads: int | None = None) -> SharedInterpreter:
    """The interpreter of a .tflite file with num_threads, loaded on the first call and the same one for
    every later call with the same file (by its resolved path) and thread count in the same process (a
    forked process loads its own: the runtime's worker threads do not survive a fork)."""
    key = (Path(path).resolve(), num_threads, os.getpid())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = SharedInterpreter(load_interpreter(path, num_threads))
        return _SHARED[key]
