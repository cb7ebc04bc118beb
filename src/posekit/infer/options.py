"""Every option of an inference run (`posekit infer`, `posekit.load`, the UI), validated once.

The names are the `posekit infer` flags' (`--detbatch` -> detbatch); the flags whose name says little
are mapped by the CLI: `--sp` -> single_thread, `--eval` -> for_eval, `--pose_track` / `--pose_flow`
-> tracker="oks" / "poseflow", `--outdir` -> outdir, `--gpus` -> device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from posekit.choices import BACKEND_CHOICES as BACKENDS
from posekit.choices import (
    DEFAULT_BETA,
    DEFAULT_D_CUTOFF,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_CUTOFF,
    FORMATS,
    INFER_TRACKERS,
    POSE_MODELS,
    PRECISIONS,
    canonical_detector_name,
)
from posekit.errors import PosekitError

if TYPE_CHECKING:
    from posekit.one_euro import OneEuroParams

# The options that decide which detector and which pose model are loaded (a Pipeline whose options
# differ elsewhere reuses its models).
DETECTOR_OPTIONS = (
    "detector",
    "detector_weights",
    "detfile",
    "device",
    "tracking",
    "det_backend",
    "precision",
)
POSE_OPTIONS = (
    "pose_model",
    "detector",
    "detector_weights",
    "cfg",
    "checkpoint",
    "backend",
    "precision",
    "compile",
    "flip",
    "refine",
    "posebatch",
    "device",
)
BOOL_OPTIONS = (
    "compile",
    "flip",
    "refine",
    "single_thread",
    "for_eval",
    "save_video",
    "vis_fast",
    "showbox",
    "smooth",
)


@dataclass(frozen=True)
class InferOptions:
    """How to run inference; every value is checked when the object is made (PosekitError naming
    the option and what it accepts).

    Models: detector (a name of posekit.detectors, e.g. "blazepose", "yolox-x", "yolo"),
    detector_weights (its weight file), detfile (a COCO-style detection json used instead of a
    detector), cfg + checkpoint (a FastPose model; neither: by pose_model, "auto" a keypoint
    detector's own keypoints (YOLO-pose, one-stage) else the embedded default model, "default" the
    embedded default model, "detector" the detector's keypoints), backend
    and precision (how the networks run;
    det_backend: the detector's backend when it differs), compile (torch.compile), flip (flip test), refine
    (sub-pixel decoding), device ("auto": the first GPU if any, else "cpu").
    Run: detbatch (images per detector call), posebatch (crops per pose batch), min_box_area (drop
    smaller poses), tracker ("none", "oks", "poseflow"), qsize (frames waiting between stages),
    single_thread (every stage in the calling thread; same results), max_pixels (images whose
    header gives more pixels are skipped unread; None: no limit).
    Video: det_interval (the detector runs every N frames and people are followed by their poses in
    between, posekit.infer.tracked; None: 5 for video, webcam and tracked runs, else 1 = every frame),
    smooth (One-Euro smoothing of each track's keypoints) with smooth_min_cutoff (Hz), smooth_beta
    (per body size per second) and smooth_d_cutoff (Hz), see posekit.track.smoothing.
    Outputs of Pipeline.run: outdir, format ("coco", "cmu", "open"), for_eval (integer image ids),
    save_img (None: on for images, off for video), save_video, vis_fast, showbox.
    """

    detector: str = "blazepose"
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
    refine: bool = False
    device: str = "auto"
    detbatch: int = 5
    posebatch: int = 64
    min_box_area: float = 0.0
    tracker: str = "none"
    qsize: int = 16
    single_thread: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    outdir: str = "examples/res/"
    format: str = "coco"
    for_eval: bool = False
    save_img: bool | None = None
    save_video: bool = False
    vis_fast: bool = False
    showbox: bool = False
    det_interval: int | None = None
    smooth: bool = False
    smooth_min_cutoff: float = DEFAULT_MIN_CUTOFF
    smooth_beta: float = DEFAULT_BETA
    smooth_d_cutoff: float = DEFAULT_D_CUTOFF

    def __post_init__(self) -> None:
        for name in BOOL_OPTIONS:
            self._check(name, lambda v: isinstance(v, bool), "True or False")
        self._check("save_img", lambda v: v is None or isinstance(v, bool), "None, True or False")
        for name in ("detbatch", "posebatch", "qsize"):
            self._check(name, lambda v: _is_number(v, int) and v >= 1, "an integer >= 1")
        positive = "None or an integer >= 1"
        self._check("max_pixels", lambda v: v is None or (_is_number(v, int) and v >= 1), positive)
        self._check("min_box_area", lambda v: _is_number(v, int | float) and v >= 0, "a number >= 0")
        self._check("det_interval", lambda v: v is None or (_is_number(v, int) and v >= 1), "None or >= 1")
        for name in ("smooth_min_cutoff", "smooth_d_cutoff"):
            self._check(name, lambda v: _is_number(v, int | float) and v > 0, "a number > 0")
        self._check("smooth_beta", lambda v: _is_number(v, int | float) and v >= 0, "a number >= 0")
        for name, allowed in (("backend", BACKENDS), ("precision", PRECISIONS), ("tracker", INFER_TRACKERS),
                              ("format", FORMATS), ("pose_model", POSE_MODELS)):  # fmt: skip
            self._check(name, lambda v, allowed=allowed: v in allowed, f"one of {', '.join(allowed)}")
        for name in ("detector", "device", "outdir"):
            self._check(name, lambda v: isinstance(v, str) and v != "", "a non-empty string")
        named = f"None or one of {', '.join(BACKENDS)}"
        self._check("det_backend", lambda v: v is None or v in BACKENDS, named)
        for name in ("detector_weights", "detfile", "cfg", "checkpoint"):
            self._check(name, lambda v: v is None or isinstance(v, str), "None or a file path (str)")
        if bool(self.cfg) != bool(self.checkpoint):
            given, missing = ("cfg", "checkpoint") if self.cfg else ("checkpoint", "cfg")
            raise PosekitError(f"--{given} needs --{missing} too (or give neither to use the default model)")
        if not self.detfile:
            object.__setattr__(self, "detector", canonical_detector_name(self.detector))

    def _check(self, name: str, ok: Callable[[Any], bool], allowed: str) -> None:
        value = getattr(self, name)
        if not ok(value):
            raise PosekitError(f"option {name}: must be {allowed}, got {value!r}")

    @property
    def smoothing(self) -> OneEuroParams | None:
        """The One-Euro parameters when smooth is on, else None."""
        if not self.smooth:
            return None
        from posekit.one_euro import OneEuroParams

        return OneEuroParams(self.smooth_min_cutoff, self.smooth_beta, self.smooth_d_cutoff)

    @property
    def tracking(self) -> bool:
        """Whether people get track ids."""
        return self.tracker != "none"

    def detector_key(self) -> tuple:
        """The values that decide which detector is loaded (tracking changes a detector's threshold)."""
        return tuple(getattr(self, name) for name in DETECTOR_OPTIONS)

    def pose_key(self) -> tuple:
        """The values that decide which pose model is loaded."""
        return tuple(getattr(self, name) for name in POSE_OPTIONS)

    @classmethod
    def names(cls) -> list[str]:
        """Every option name."""
        return [f.name for f in fields(cls)]


def _is_number(value: Any, kind) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def infer_options(**options: Any) -> InferOptions:
    """InferOptions from keyword arguments; an unknown name is a PosekitError listing the known ones."""
    unknown = sorted(set(options) - set(InferOptions.names()))
    if unknown:
        raise PosekitError(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(InferOptions.names())}"
        )
    return InferOptions(**options)
