"""Reading images as RGB arrays and listing image folders.

Before decoding, an image's size is read from its header and checked against a pixel limit
(`DEFAULT_MAX_PIXELS`, raised with `--max-pixels`): a 40000x40000 header or a genuine 20000x20000 PNG
is one skipped file with a message, not a cv2.error or gigabytes of memory. A file whose header gives
no size (a format outside DECODED_FORMATS) is never decoded; video frames use the same check_pixels.
"""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from posekit.choices import DEFAULT_MAX_PIXELS
from posekit.errors import PosekitError
from posekit.io.atomic import atomic_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# PIL formats whose header size OpenCV's decoder agrees with; any other file is refused before decoding.
DECODED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "BMP", "WEBP", "TIFF", "PPM"})


class ImageTooLargeError(PosekitError):
    """An image whose header gives more pixels than the limit; it is never decoded."""


def check_pixels(
    source: str | Path, width: int, height: int, max_pixels: int | None, what: str = "image header says"
) -> None:
    """Raise ImageTooLargeError naming `source`, its size and the limit when width x height exceeds
    `max_pixels` (None: no limit); used for image headers and video streams and frames alike."""
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{source}: {what} {width}x{height} ({width * height / 1e6:.0f} Mpixels), over the "
            f"limit of {max_pixels / 1e6:g} Mpixels; not decoded (raise the limit with --max-pixels)"
        )


def check_image_pixels(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> None:
    """Read an image's size from its header and refuse it before any decoding (None: no limit).

    ImageTooLargeError names the file, its size and the limit; a file whose header PIL cannot read, or
    whose format is not one of DECODED_FORMATS, is a PosekitError '<path>: not a readable image', so
    the decoder never sees a file whose size was not checked (a Radiance HDR named .jpg, say)."""
    if not Path(path).is_file():  # never open a pipe (it would block) or a folder
        raise PosekitError(f"{path}: {_not_a_file(Path(path))}")
    if max_pixels is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                (width, height), kind = img.size, img.format
    except Image.DecompressionBombError as exc:  # PIL refuses to even report sizes over 2x its own limit
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else max_pixels + 1
        if pixels <= max_pixels:  # a raised limit: PIL's plugin has read the size, within that limit
            return
        raise ImageTooLargeError(
            f"{path}: image header says {pixels} pixels ({pixels / 1e6:.0f} Mpixels), over the limit of "
            f"{max_pixels / 1e6:g} Mpixels; not decoded (raise the limit with --max-pixels)"
        ) from None
    except (UnidentifiedImageError, ValueError, SyntaxError, struct.error):
        raise PosekitError(f"{path}: not a readable image") from None
    except OSError as exc:
        raise PosekitError(f"{path}: cannot read the image ({exc.strerror or exc})") from None
    if kind not in DECODED_FORMATS:
        raise PosekitError(f"{path}: not a readable image ({kind} is not a format posekit reads)")
    check_pixels(path, width, height, max_pixels)


def read_image_rgb(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as an RGB uint8 array (H, W, 3); raises PosekitError naming the file.

    Images over `max_pixels` (from the header, before decoding) raise ImageTooLargeError."""
    path = Path(path)
    if not path.is_file():
        raise PosekitError(f"{path}: {_not_a_file(path)}")
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise PosekitError(f"{path}: cannot read the image ({exc.strerror or exc})") from None
    if data.size == 0:
        raise PosekitError(f"{path}: image file is empty")
    check_image_pixels(path, max_pixels)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV's own size limit, corrupt data
        raise PosekitError(f"{path}: not a readable image ({' '.join(str(exc).split())[-120:]})") from None
    if image is None:
        raise PosekitError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _not_a_file(path: Path) -> str:
    """Why `path` cannot be read as an image file (it is not a regular file)."""
    if path.is_dir():
        return "is a folder, not an image file"
    if path.is_symlink() and not path.exists():
        return "is a broken link, not an image file"
    if path.exists():
        return "is not a regular file (a pipe or device?); not read"
    return "image file not found"


def list_images(folder: str | Path) -> list[Path]:
    """Entries directly inside `folder` named as images (folders excepted), in natural order (2.jpg
    before 10.jpg). A pipe or broken link named like an image is listed too, so a run reports it as a
    skipped item instead of leaving it out unsaid."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PosekitError(f"{folder}: not a folder")
    files = [p for p in folder.iterdir() if not p.is_dir() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=natural_key)


def natural_key(path: str | Path) -> list[object]:
    """Sort key that orders digit runs by value ("frame2" < "frame10")."""
    import re

    name = Path(path).name
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


WRITTEN_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")  # write_image_bgr writes any other name as .jpg


def encoded_suffix(path: str | Path) -> str:
    """The suffix write_image_bgr writes `path` with: its own (as spelled) if .jpg, .jpeg, .png or .bmp
    in any case, else .jpg."""
    suffix = Path(path).suffix
    return suffix if suffix.lower() in WRITTEN_SUFFIXES else ".jpg"


def write_image_bgr(path: str | Path, image_bgr: np.ndarray) -> Path:
    """Encode a BGR image by the suffix of `path` (.jpg, .jpeg, .png, .bmp; any other suffix is replaced
    by .jpg) and write it atomically; returns the path written."""
    path = Path(path)
    suffix = encoded_suffix(path)
    ok, data = cv2.imencode(suffix.lower(), image_bgr)
    if not ok:
        raise PosekitError(f"{path}: could not encode the image")
    target = path if path.suffix == suffix else path.with_suffix(suffix)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data.tobytes())
    return target


def checked_rgb_uint8(image: object, who: str, *, grey: bool = False) -> np.ndarray:
    """`image` itself when it is an RGB uint8 array (H, W, 3), else PosekitError naming `who`; with
    `grey`, a grey uint8 array (H, W) is accepted too and comes back expanded to RGB."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        kind = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise PosekitError(f"{who}: expected an RGB uint8 array (H, W, 3), got {kind}")
    if grey and image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise PosekitError(f"{who}: expected an RGB uint8 array (H, W, 3), got shape {image.shape}")
    return image


def sample_image_path() -> Path:
    """scikit-image's astronaut photo (shipped inside its wheel): a real photo that needs no download."""
    import skimage

    path = Path(skimage.__file__).parent / "data" / "astronaut.png"
    if not path.is_file():
        raise PosekitError(f"{path}: scikit-image's sample photo is missing; reinstall scikit-image")
    return path
