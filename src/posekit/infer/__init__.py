"""Building blocks of the inference pipeline: input sources, threaded stages, outputs."""
