"""Batch pose extraction: many inputs as units of work on Ray (this machine or a cluster), one Pipeline
per worker, per-unit atomic outputs, a manifest, resume and retries."""

from posekit.batching.driver import BatchOptions, BatchSummary, run_batch
from posekit.batching.units import Unit, find_units

__all__ = ["BatchOptions", "BatchSummary", "Unit", "find_units", "run_batch"]
