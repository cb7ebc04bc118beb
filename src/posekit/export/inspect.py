"""Read what an exported pose ONNX file takes: input name, dtype, batch and (H, W)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posekit.errors import MissingFileError, PosekitError


@dataclass(frozen=True)
class OnnxInputInfo:
    """The single input of a pose ONNX file; batch is None when the batch axis is dynamic."""

    path: Path
    name: str
    elem_type: str
    batch: int | None
    input_hw: tuple[int, int]


def onnx_input_info(path: str | Path) -> OnnxInputInfo:
    """Inspect a float32 NCHW pose ONNX file (as `posekit export onnx` writes without --preprocess)."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: ONNX file not found (write it with `posekit export onnx`)")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a bad file
        raise PosekitError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise PosekitError(f"{path}: expected one input, found {len(inputs)}")
    tensor = inputs[0].type.tensor_type
    elem_type = onnx.TensorProto.DataType.Name(tensor.elem_type).lower()
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    size = [d for d in dims[2:] if d is not None]
    if elem_type != "float" or len(dims) != 4 or dims[1] != 3 or len(size) != 2:
        raise PosekitError(
            f"{path}: input '{inputs[0].name}' is {elem_type}{dims}; expected float32 N x 3 x H x W "
            "(export without --preprocess: on Ascend the AIPP config does the normalisation)"
        )
    return OnnxInputInfo(path, inputs[0].name, "float32", dims[0], (size[0], size[1]))
