"""Reading images as RGB arrays and listing image folders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posekit.errors import PosekitError
from posekit.io.atomic import atomic_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def read_image_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as an RGB uint8 array (H, W, 3); raises PosekitError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise PosekitError(f"{path}: image file not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        raise PosekitError(f"{path}: image file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise PosekitError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside `folder`, in natural order (2.jpg before 10.jpg)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PosekitError(f"{folder}: not a folder")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=natural_key)


def natural_key(path: str | Path) -> list[object]:
    """Sort key that orders digit runs by value ("frame2" < "frame10")."""
    import re

    name = Path(path).name
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def write_image_bgr(path: str | Path, image_bgr: np.ndarray) -> Path:
    """Encode a BGR image by the suffix of `path` (.jpg, .jpeg, .png, .bmp; any other suffix is replaced
    by .jpg) and write it atomically; returns the path written."""
    path = Path(path)
    suffix = path.suffix.lower() if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp") else ".jpg"
    ok, data = cv2.imencode(suffix, image_bgr)
    if not ok:
        raise PosekitError(f"{path}: could not encode the image")
    target = path if path.suffix.lower() == suffix else path.with_suffix(suffix)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data.tobytes())
    return target
