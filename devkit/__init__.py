"""The workshop: helpers shared by the tests and the benchmarks, never shipped with posekit.

shared_data   the one locator of ../shared/data (real data made by others; skips cleanly when absent)
train_helpers the tiny training config, a custom keypoint subset, and the overfit recipe
synth         synthetic multi-person sequences (poses with ground-truth ids) for tracking
track_metrics MOTA / IDF1 / ID switches (motmetrics) of a tracked sequence against ground truth
people        annotated people of coco-val-mini as (image, box) pairs, for export and backend checks
"""
