"""posekit: multi-person 2D human pose estimation (AlphaPose-compatible, pip-installable)."""

__version__ = "0.1.0"
