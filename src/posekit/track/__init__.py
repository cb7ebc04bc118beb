"""Pose tracking: PoseFlow and an online OKS/IoU tracker, built by name (posekit.choices.TRACKERS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from posekit import registry
from posekit.choices import DEFAULT_TRACKER, TRACKERS
from posekit.errors import PosekitError
from posekit.track.state import LiveTrack
from posekit.types import PoseResult

# tracker name (posekit.choices.TRACKERS) -> (module, class) (posekit.registry)
TRACKER_CLASSES: dict[str, registry.Entry] = {
    "oks": ("posekit.track.oks", "OksTracker"),
    "poseflow": ("posekit.track.poseflow", "PoseFlowTracker"),
}


class Tracker(Protocol):
    """Gives the people of each new frame track ids (ints) that persist across frames; live_tracks()
    are the people it followed into its latest frame (the source of pose-guided crops)."""

    def update(self, image_rgb: np.ndarray | None, result: PoseResult) -> PoseResult: ...

    def live_tracks(self) -> list[LiveTrack]: ...


def build_tracker(name: str = DEFAULT_TRACKER, **opts: Any) -> Tracker:
    """A fresh tracker: "oks" (OksTracker, options of OksParams) or "poseflow" (PoseFlowTracker,
    options of PoseFlowParams plus save_matching=DIR for the seed's {i}_{j}_orb.txt files)."""
    key = name.lower().replace("-", "").replace("_", "")
    if key not in TRACKERS:
        raise PosekitError(f"unknown tracker {name!r}; choose one of: {', '.join(TRACKERS)}")
    cls = registry.load(TRACKER_CLASSES[key])
    try:
        tracker: Tracker = cls(**opts)
    except TypeError as exc:
        raise PosekitError(f"tracker {name!r}: {exc}") from None
    return tracker


def inference_tracker(name: str, outdir: str | Path) -> Tracker:
    """The tracker of an inference run (`posekit infer --pose_flow/--pose_track`, the UI): PoseFlow also
    writes the seed's `<outdir>/poseflow/matching/{i}_{j}_orb.txt` files."""
    options = {"save_matching": str(Path(outdir) / "poseflow" / "matching")} if name == "poseflow" else {}
    return build_tracker(name, **options)
