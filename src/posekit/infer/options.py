"""Every option of an inference run (`posekit infer`, `posekit.load`, the UI), split by the layer that
uses it and validated once, when each part is made.

ModelOptions builds the detector and the pose model (posekit.infer.models), StreamOptions says how a
stream runs (the stages, tracking, smoothing), OutputOptions what a run writes (posekit.infer.run and
its renderer). InferOptions holds the three; `InferOptions.from_flat(detbatch=2, ...)` and
`options.replace(...)` take the flat names of the `posekit infer` flags (`--detbatch` -> detbatch);
the flags whose name says little are mapped by the CLI: `--sp` -> single_thread, `--eval` ->
for_eval, `--pose_track` / `--pose_flow` -> tracker="oks" / "poseflow", `--gpus` -> device.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from posekit.choices import BACKEND_CHOICES as BACKENDS
from posekit.choices import (
    DEFAULT_BETA,
    DEFAULT_D_CUTOFF,
    DEFAULT_DETECTOR,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_CUTOFF,
    FORMATS,
    INFER_TRACKERS,
    NO_TRACKER,
    POSE_MODELS,
    PRECISIONS,
    canonical_detector_name,
)
from posekit.errors import PosekitError

if TYPE_CHECKING:
    from posekit.one_euro import OneEuroParams

# The ModelOptions fields that decide which detector / which pose model is loaded (a Pipeline whose
# options differ elsewhere reuses its models).
DETECTOR_FIELDS = ("detector", "detector_weights", "detfile", "device", "detector_backend", "precision")
POSE_FIELDS = (
    "pose_model",
    "detector",
    "detector_weights",
    "cfg",
    "checkpoint",
    "backend",
    "precision",
    "compile",
    "flip",
    "subpixel",
    "posebatch",
    "device",
)


@dataclass(frozen=True)
class ModelOptions:
    """What builds the models. detector: a name of posekit.choices.DETECTORS (aliases resolved here,
    e.g. "yolox" -> "yolox-x") or a YOLO-pose .pt; detector_weights: its weight file; detfile: a
    COCO-style detection json used instead of a detector; cfg + checkpoint: a FastPose model (both or
    neither; neither: by pose_model, "auto" a keypoint detector's own keypoints (one-stage) else the
    embedded default model, "default" the embedded default model, "detector" the detector's
    keypoints); backend, det_backend (the detector's, when it differs), precision: how the networks
    run (posekit.runtime); compile: torch.compile; flip: flip test; subpixel: sub-pixel heatmap
    decoding; device: "auto" (the first GPU if any, else "cpu") or a torch device; posebatch: crops
    per pose-model batch."""

    detector: str = DEFAULT_DETECTOR
    detector_weights: str | None = None
    detfile: str | None = None
    cfg: str | None = None
    checkpoint: str | None = None
    pose_model: str = "auto"
    backend: str = "auto"
    det_backend: str | None = None
    precision: str = "auto"
    compile: bool = False
    flip: bool = False
    subpixel: bool = False
    device: str = "auto"
    posebatch: int = 64

    def __post_init__(self) -> None:
        for name in ("compile", "flip", "subpixel"):
            _check(self, name, _is_bool, "True or False")
        _check(self, "posebatch", _is_count, "an integer >= 1")
        for name, allowed in (("backend", BACKENDS), ("precision", PRECISIONS), ("pose_model", POSE_MODELS)):
            _check(self, name, _one_of(allowed), f"one of {', '.join(allowed)}")
        for name in ("detector", "device"):
            _check(self, name, lambda v: isinstance(v, str) and v != "", "a non-empty string")
        _check(
            self, "det_backend", lambda v: v is None or v in BACKENDS, f"None or one of {', '.join(BACKENDS)}"
        )
        for name in ("detector_weights", "detfile", "cfg", "checkpoint"):
            _check(self, name, lambda v: v is None or isinstance(v, str), "None or a file path (str)")
        if bool(self.cfg) != bool(self.checkpoint):
            given, missing = ("cfg", "checkpoint") if self.cfg else ("checkpoint", "cfg")
            raise PosekitError(f"--{given} needs --{missing} too (or give neither to use the default model)")
        if not self.detfile:
            object.__setattr__(self, "detector", canonical_detector_name(self.detector))

    @property
    def detector_backend(self) -> str:
        """The detector network's backend: det_backend when given, else backend."""
        return self.det_backend or self.backend


@dataclass(frozen=True)
class StreamOptions:
    """How a stream runs. detbatch: images per detector call; min_box_area: smaller poses are dropped;
    tracker: "none", "oks" or "poseflow"; qsize: frames waiting between stages; single_thread: every
    stage in the calling thread (same results); max_pixels: images whose header gives more pixels are
    skipped unread (None: no limit); det_interval: the detector runs every N frames and people are
    followed by their poses in between (posekit.infer.tracked; None: 5 for video, webcam and tracked
    runs, else 1); smooth: One-Euro smoothing of each track's keypoints with smooth_min_cutoff (Hz),
    smooth_beta (per body size per second) and smooth_d_cutoff (Hz), see posekit.track.smoothing."""

    detbatch: int = 5
    min_box_area: float = 0.0
    tracker: str = NO_TRACKER
    qsize: int = 16
    single_thread: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    det_interval: int | None = None
    smooth: bool = False
    smooth_min_cutoff: float = DEFAULT_MIN_CUTOFF
    smooth_beta: float = DEFAULT_BETA
    smooth_d_cutoff: float = DEFAULT_D_CUTOFF

    def __post_init__(self) -> None:
        for name in ("single_thread", "smooth"):
            _check(self, name, _is_bool, "True or False")
        for name in ("detbatch", "qsize"):
            _check(self, name, _is_count, "an integer >= 1")
        _check(self, "max_pixels", lambda v: v is None or _is_count(v), "None or an integer >= 1")
        _check(self, "min_box_area", lambda v: _is_number(v, int | float) and v >= 0, "a number >= 0")
        _check(self, "det_interval", lambda v: v is None or _is_count(v), "None or >= 1")
        for name in ("smooth_min_cutoff", "smooth_d_cutoff"):
            _check(self, name, lambda v: _is_number(v, int | float) and v > 0, "a number > 0")
        _check(self, "smooth_beta", lambda v: _is_number(v, int | float) and v >= 0, "a number >= 0")
        _check(self, "tracker", _one_of(INFER_TRACKERS), f"one of {', '.join(INFER_TRACKERS)}")

    @property
    def tracking(self) -> bool:
        """Whether people get track ids."""
        return self.tracker != NO_TRACKER

    @property
    def tracker_name(self) -> str | None:
        """The tracker's name, None without tracking."""
        return self.tracker if self.tracking else None

    @property
    def smoothing(self) -> OneEuroParams | None:
        """The One-Euro parameters when smooth is on, else None."""
        if not self.smooth:
            return None
        from posekit.one_euro import OneEuroParams

        return OneEuroParams(self.smooth_min_cutoff, self.smooth_beta, self.smooth_d_cutoff)


@dataclass(frozen=True)
class OutputOptions:
    """What a run writes: outdir (checked for writing when the run starts), format ("coco", "cmu",
    "open"), for_eval (integer image ids), save_img (rendered images in vis/; None: on for images, off
    for video), save_video, vis_fast (fast drawing), showbox (the boxes and track ids drawn)."""

    outdir: str = "examples/res/"
    format: str = "coco"
    for_eval: bool = False
    save_img: bool | None = None
    save_video: bool = False
    vis_fast: bool = False
    showbox: bool = False

    def __post_init__(self) -> None:
        for name in ("for_eval", "save_video", "vis_fast", "showbox"):
            _check(self, name, _is_bool, "True or False")
        _check(self, "save_img", lambda v: v is None or _is_bool(v), "None, True or False")
        _check(self, "format", lambda v: v in FORMATS, f"one of {', '.join(FORMATS)}")
        _check(self, "outdir", lambda v: isinstance(v, str) and v != "", "a non-empty string")

    def renders_images(self, is_video: bool) -> bool:
        """Whether rendered images go to vis/ for a source that is (or is not) a video: save_img, or
        when it is None, on for images and off for video."""
        return self.save_img if self.save_img is not None else not is_video


PARTS = {"model": ModelOptions, "stream": StreamOptions, "output": OutputOptions}


@dataclass(frozen=True)
class InferOptions:
    """How to run inference: the models (ModelOptions), the stream (StreamOptions) and the outputs
    (OutputOptions), each validated when it is made (PosekitError naming the option and what it
    accepts). `InferOptions.from_flat(**names)` and `replace(**names)` take the options' flat names."""

    model: ModelOptions = field(default_factory=ModelOptions)
    stream: StreamOptions = field(default_factory=StreamOptions)
    output: OutputOptions = field(default_factory=OutputOptions)

    def __post_init__(self) -> None:
        for name, kind in PARTS.items():
            _check(self, name, _instance_of(kind), f"a {kind.__name__}")

    @classmethod
    def from_flat(cls, **options: Any) -> InferOptions:
        """InferOptions from flat option names (detector=..., tracker=..., outdir=...); an unknown name
        is a PosekitError listing the known ones."""
        return cls().replace(**options)

    def replace(self, **changes: Any) -> InferOptions:
        """These options with some flat options changed (each part changed is validated again)."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise PosekitError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(self.names())}")
        parts = {}
        for name in PARTS:
            part = getattr(self, name)
            mine = {key: value for key, value in changes.items() if key in _field_names(type(part))}
            parts[name] = dataclasses.replace(part, **mine) if mine else part
        return InferOptions(**parts)

    def flat(self) -> dict[str, Any]:
        """Every option by its flat name."""
        return {
            key: value for name in PARTS for key, value in dataclasses.asdict(getattr(self, name)).items()
        }

    @classmethod
    def names(cls) -> list[str]:
        """Every flat option name."""
        return [name for part in PARTS.values() for name in _field_names(part)]

    def detector_key(self) -> tuple[Any, ...]:
        """The values that decide which detector is loaded (tracking changes a detector's threshold)."""
        return (*(getattr(self.model, name) for name in DETECTOR_FIELDS), self.stream.tracking)

    def pose_key(self) -> tuple[Any, ...]:
        """The values that decide which pose model is loaded."""
        return tuple(getattr(self.model, name) for name in POSE_FIELDS)


def _field_names(kind: type) -> list[str]:
    return [f.name for f in dataclasses.fields(kind)]


def _check(options: Any, name: str, ok: Callable[[Any], bool], allowed: str) -> None:
    value = getattr(options, name)
    if not ok(value):
        raise PosekitError(f"option {name}: must be {allowed}, got {value!r}")


def _is_number(value: Any, kind: Any) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda value: value in allowed


def _instance_of(kind: type) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, kind)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_number(value, int) and value >= 1
