"""Model export: ONNX files and checks, Ascend atc command and AIPP config."""

# The Ascend SoC the seed's atc command targets (kept here so the CLI can show it without imports).
DEFAULT_SOC_VERSION = "Ascend310"
