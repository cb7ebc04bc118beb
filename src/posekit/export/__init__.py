"""Model export: ONNX files and checks, Ascend atc command and AIPP config."""
