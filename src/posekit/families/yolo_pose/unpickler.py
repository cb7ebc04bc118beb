"""Reading an Ultralytics `.pt` (a torch.save zip) without running any code from it.

The pickle may name only the globals a YOLOv8/YOLO11-pose checkpoint uses. Ultralytics module classes
become `StandIn` objects that only collect their state; tensors are rebuilt from the archive's raw
storages by our own functions; a handful of harmless builtins are allowed. Every other global is refused
with one line naming the file and the global, before anything it names could be called.
"""

from __future__ import annotations

import collections
import io
import math
import pathlib
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posekit.errors import PosekitError

MAX_ARCHIVE_BYTES = 2 << 30  # unpacked; YOLO11x-pose is about 120 MB
# Ultralytics classes a YOLOv8-pose / YOLO11-pose checkpoint holds (matched on the class name, any module
# path under `ultralytics.`), plus its settings namespace.
POSE_CLASSES = frozenset(
    {
        "PoseModel", "Conv", "DWConv", "Concat", "C2f", "C3k2", "C3k", "Bottleneck", "SPPF", "C2PSA",
        "PSABlock", "Attention", "Pose", "DFL", "Detect", "IterableSimpleNamespace",
    }
)  # fmt: skip
# Ultralytics classes that say what a file is instead (for the refusal message).
OTHER_KINDS = {
    "DetectionModel": "a YOLO detect checkpoint",
    "SegmentationModel": "a YOLO segment checkpoint",
    "ClassificationModel": "a YOLO classify checkpoint",
    "OBBModel": "a YOLO obb (oriented boxes) checkpoint",
    "WorldModel": "a YOLO-World detect checkpoint",
    "RTDETRDetectionModel": "an RT-DETR detect checkpoint",
    "Pose26": "a YOLO26-pose end-to-end (NMS-free) checkpoint",
    "v10Detect": "a YOLOv10 end-to-end (NMS-free) checkpoint",
    "A2C2f": "a YOLO12 checkpoint",
}
TORCH_MODULES = {
    "torch.nn.modules.container": ("Sequential", "ModuleList"),
    "torch.nn.modules.conv": ("Conv2d",),
    "torch.nn.modules.batchnorm": ("BatchNorm2d",),
    "torch.nn.modules.activation": ("SiLU",),
    "torch.nn.modules.pooling": ("MaxPool2d",),
    "torch.nn.modules.linear": ("Identity",),
    "torch.nn.modules.upsampling": ("Upsample",),
}
STORAGE_DTYPES = {
    "HalfStorage": torch.float16,
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "BoolStorage": torch.bool,
}


class StandIn:
    """A pickled object of an allowed class: its class path (`kind`) and the state the pickle gave it."""

    kind = "?"

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots) form
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"{self.kind} got a non-dict state")
        self.__dict__.update(state)

    @property
    def name(self) -> str:
        """The class name ("Conv", "Sequential", ...)."""
        return self.kind.rsplit(".", 1)[-1]

    @property
    def children(self) -> dict[str, StandIn]:
        """The module's children in order (`_modules`), empty for non-modules."""
        return dict(self.__dict__.get("_modules") or {})

    def __repr__(self) -> str:
        return f"<{self.kind}>"


_stand_in_classes: dict[str, type[StandIn]] = {}


def stand_in_class(kind: str) -> type[StandIn]:
    """The StandIn subclass for one class path (one per path, so NEWOBJ builds a fresh instance)."""
    if kind not in _stand_in_classes:
        _stand_in_classes[kind] = type(kind.rsplit(".", 1)[-1], (StandIn,), {"kind": kind})
    return _stand_in_classes[kind]


class _StorageType:
    """What `torch.HalfStorage` etc. stand for: only the dtype of a persistent-id storage."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


def _ints(values: Any, what: str) -> tuple[int, ...]:
    if not isinstance(values, tuple | list | torch.Size) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise pickle.UnpicklingError(f"tensor {what} {values!r:.60} is not a tuple of integers >= 0")
    return tuple(values)


def _rebuild_tensor(storage: torch.Tensor, offset: int, size, stride, requires_grad=False, *_: Any):
    """torch._utils._rebuild_tensor_v2: a strided view of a flat storage, refused unless every element it
    addresses lies inside the storage (no negative strides or offsets, no view past the end) and it has
    no more elements than the storage."""
    if not isinstance(storage, torch.Tensor):
        raise pickle.UnpicklingError("tensor rebuilt from something that is not a storage")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    (offset,) = _ints((offset,), "offset")
    if len(size) != len(stride):
        raise pickle.UnpicklingError(f"tensor size {list(size)} and stride {list(stride)} differ in length")
    if 0 in size:
        return torch.empty(size, dtype=storage.dtype)
    last = offset + sum((n - 1) * step for n, step in zip(size, stride))
    if math.prod(size) > storage.numel():  # overlapping (stride-0) views would be copied at full size
        raise pickle.UnpicklingError(
            f"tensor view of {math.prod(size)} elements over a storage of {storage.numel()}"
        )
    if last >= storage.numel():
        raise pickle.UnpicklingError(
            f"tensor view (size {list(size)}, stride {list(stride)}, offset {offset}) reaches element "
            f"{last} of a storage of {storage.numel()}"
        )
    return torch.as_strided(storage, size, stride, offset)


def _rebuild_parameter(tensor: torch.Tensor, requires_grad=False, *_: Any) -> torch.Tensor:
    """torch._utils._rebuild_parameter: the tensor itself (a state dict needs no Parameter)."""
    return tensor


def _numpy_scalar(dtype: np.dtype, data: bytes | None = None):
    """numpy.core.multiarray.scalar: one value of `dtype` from its raw bytes (object dtypes refused)."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise pickle.UnpicklingError("numpy scalar of an object dtype")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """_codecs.encode as protocol-2 pickles use it for bytes: latin-1 text to bytes, nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode other than str -> latin1 bytes")
    return text.encode("latin1")


def _forward_attribute(owner: Any, name: str) -> StandIn:
    """getattr(<Detect stand-in class>, 'forward'): the one getattr pose files use (Pose.detect)."""
    if not (isinstance(owner, type) and issubclass(owner, StandIn)) or name != "forward":
        raise pickle.UnpicklingError(f"getattr({owner!r}, {name!r})")
    return stand_in_class(f"{owner.kind}.forward")()


def _allowed_global(module: str, name: str) -> Any:
    """The object a permitted global maps to, or None if it is not permitted."""
    if module.split(".")[0] == "ultralytics" and name in POSE_CLASSES:
        return stand_in_class(f"{module}.{name}")
    if name in TORCH_MODULES.get(module, ()):
        return stand_in_class(f"{module}.{name}")
    if module == "torch" and name in STORAGE_DTYPES:
        return _StorageType(STORAGE_DTYPES[name])
    if module == "torch" and name == "Size":
        return torch.Size
    if module == "torch._utils":
        return {"_rebuild_tensor_v2": _rebuild_tensor, "_rebuild_parameter": _rebuild_parameter}.get(name)
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module in ("__builtin__", "builtins"):
        return {"set": set, "frozenset": frozenset, "getattr": _forward_attribute}.get(name)
    if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
        return _numpy_scalar
    if module == "_codecs" and name == "encode":
        return _latin1_bytes
    if module == "numpy" and name == "dtype":
        return np.dtype
    if module in ("pathlib", "pathlib._local") and name in ("PosixPath", "WindowsPath"):
        return pathlib.PurePosixPath if name == "PosixPath" else pathlib.PureWindowsPath
    return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, origin: Path) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix, self._origin = archive, prefix, origin
        self._storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed_global(module, name)
        if found is not None:
            return found
        if module.split(".")[0] == "ultralytics" and name in OTHER_KINDS:
            raise PosekitError(
                f"{self._origin}: {OTHER_KINDS[name]} (it holds {module}.{name}), not a YOLOv8/YOLO11-pose "
                "checkpoint; posekit reads only those"
            )
        raise PosekitError(
            f"{self._origin}: refused: the pickle names the global {module}.{name}, which a YOLO-pose "
            "checkpoint does not use (nothing in the file was run)"
        )

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.60}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"storage of unknown type {kind!r:.60}")
        key = str(key)
        if key not in self._storages:
            self._storages[key] = self._storage(key, kind.dtype, numel)
        return self._storages[key]

    def _storage(self, key: str, dtype: torch.dtype, numel: Any) -> torch.Tensor:
        """Storage data/<key> as a flat tensor of `numel` elements; its size in the archive is checked
        before it is read, and only that many bytes are inflated."""
        name = f"{self._prefix}data/{key}"
        try:
            info = self._archive.getinfo(name)
        except KeyError as exc:
            raise PosekitError(f"{self._origin}: truncated: storage data/{key} is missing") from exc
        if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
            raise pickle.UnpicklingError(f"storage data/{key} with {numel!r:.40} elements")
        need = numel * torch.empty(0, dtype=dtype).element_size()
        if info.file_size < need:
            raise PosekitError(
                f"{self._origin}: truncated: storage data/{key} is short ({info.file_size} of {need} bytes)"
            )
        if need == 0:
            return torch.empty(0, dtype=dtype)
        try:
            with self._archive.open(info) as handle:
                raw = handle.read(need)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            detail = " ".join(str(exc).split())[:120] or type(exc).__name__
            raise PosekitError(f"{self._origin}: storage data/{key} is damaged ({detail})") from None
        if len(raw) != need:
            raise PosekitError(f"{self._origin}: truncated: storage data/{key} is short")
        return torch.frombuffer(bytearray(raw), dtype=dtype, count=numel)


def read_checkpoint(path: str | Path) -> Any:
    """The object pickled in a torch.save zip archive, with stand-ins for Ultralytics classes.

    Raises PosekitError (one line naming the file) for a file that is not a torch zip archive, is
    truncated, is a TorchScript archive, or whose pickle names a global outside the allowed list.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise PosekitError(f"{path}: file not found") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise PosekitError(
            f"{path}: not a torch checkpoint (a torch.save zip archive): truncated, or not a .pt file ({exc})"
        ) from exc
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if any(n.endswith("/constants.pkl") for n in names):
            raise PosekitError(f"{path}: a TorchScript archive, not an Ultralytics .pt checkpoint")
        if not pickles:
            raise PosekitError(f"{path}: a zip file without data.pkl, not a torch checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        stored = sum(info.file_size for info in archive.infolist())
        if stored > MAX_ARCHIVE_BYTES:
            raise PosekitError(
                f"{path}: its members add up to {stored} bytes unpacked (over {MAX_ARCHIVE_BYTES}); "
                "not a YOLO-pose checkpoint"
            )
        try:
            data = archive.read(pickles[0])
            return _Unpickler(data, archive, prefix, path).load()
        except PosekitError:
            raise
        except (
            pickle.UnpicklingError,
            EOFError,
            ValueError,
            TypeError,
            IndexError,
            AttributeError,
            RuntimeError,
            OSError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PosekitError(f"{path}: not a readable checkpoint pickle ({detail})") from exc
