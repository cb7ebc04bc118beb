"""Video in and out through PyAV: a frame reader and an H.264 writer (atomic, even-size padded)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from posekit.errors import PosekitError
from posekit.io.atomic import atomic_path
from posekit.io.images import DEFAULT_MAX_PIXELS, check_pixels

DEFAULT_FPS = Fraction(25)
FFMPEG_INT_MAX = 2**31 - 1  # the largest value FFmpeg's max_pixels option takes
# FFmpeg applies max_pixels to its padded buffers (a 64x48 mpeg4 frame needs over 40,000), so its own cap
# is set at twice the limit plus this margin; the exact limit is checked on each decoded frame.
FFMPEG_PADDING_PIXELS = 1_000_000


@dataclass
class VideoInfo:
    """What a video file says about itself: frame rate, size (pixels) and frame count (0 if unknown)."""

    fps: Fraction
    width: int
    height: int
    frames: int


@dataclass
class VideoFrame:
    """One decoded frame: its 0-based index, presentation time in seconds, and RGB uint8 pixels."""

    index: int
    timestamp: float
    image: np.ndarray


def _open(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise PosekitError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except av.error.EOFError:
        raise PosekitError(
            f"{path}: video is truncated: the file ends before its header/index is complete "
            f"({path.stat().st_size} bytes), 0 frames read"
        ) from None
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise PosekitError(f"{path}: not a readable video ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise PosekitError(f"{path}: has no video stream")
    return container


def probe_video(path: str | Path) -> VideoInfo:
    """Frame rate, size and frame count of a video file; PosekitError if it cannot be opened."""
    with _open(path) as container:
        stream = container.streams.video[0]
        return VideoInfo(
            _stream_fps(stream), stream.codec_context.width, stream.codec_context.height, stream.frames or 0
        )


def _stream_fps(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return Fraction(rate) if rate else DEFAULT_FPS


def check_video_pixels(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """probe_video(path), refused with ImageTooLargeError when its frames are over `max_pixels`."""
    info = probe_video(path)
    check_pixels(path, info.width, info.height, max_pixels, "video stream is")
    return info


def read_frames(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Iterator[VideoFrame]:
    """Decode a video frame by frame as RGB arrays.

    The stream's size (from its header) is checked against `max_pixels` before anything is decoded, and
    every frame's size before it is converted (a stream may change size): ImageTooLargeError.
    A damaged packet the decoder refuses is skipped and the frames after it are still read; the count
    of skipped packets is given in one warning at the end. A file whose container cannot be read on
    (truncated, garbage where the demuxer expects data) ends the iteration normally with what could be
    decoded, plus a warning.
    """
    container = _open(path)
    try:
        stream = container.streams.video[0]
        context = stream.codec_context
        check_pixels(path, context.width, context.height, max_pixels, "video stream is")
        if max_pixels is not None:  # FFmpeg refuses a frame far over the limit before allocating it
            cap = min(2 * max_pixels + FFMPEG_PADDING_PIXELS, FFMPEG_INT_MAX)
            context.options = {**context.options, "max_pixels": str(cap)}
        expected = stream.frames or 0
        count = skipped = 0
        try:
            for packet in container.demux(stream):
                try:
                    decoded = packet.decode()
                except (av.error.FFmpegError, OSError, EOFError):
                    skipped += 1
                    continue
                for frame in decoded:  # each frame's size is checked before it is converted to RGB
                    check_pixels(path, frame.width, frame.height, max_pixels, f"frame {count} is")
                    timestamp = (
                        float(frame.time) if frame.time is not None else count / float(_stream_fps(stream))
                    )
                    yield VideoFrame(count, timestamp, frame.to_ndarray(format="rgb24"))
                    count += 1
        except (av.error.FFmpegError, OSError, EOFError) as exc:
            total = expected or "an unknown number of"
            warnings.warn(
                f"{path}: video is truncated or damaged: read {count} of {total} frames, stopped there "
                f"({' '.join(str(exc).split())}){_skipped_note(skipped)}",
                stacklevel=2,
            )
            return
        if expected and count + skipped < expected:
            reason = f"{skipped} damaged packet(s) skipped" if skipped else "the file ends early"
            warnings.warn(
                f"{path}: video is truncated or damaged: read {count} of {expected} frames, stopped there "
                f"({reason})",
                stacklevel=2,
            )
        elif skipped:
            warnings.warn(
                f"{path}: video is damaged: skipped {skipped} packet(s) that could not be decoded, read "
                f"{count}{f' of {expected}' if expected else ''} frames",
                stacklevel=2,
            )
    finally:
        container.close()


def _skipped_note(skipped: int) -> str:
    return f"; skipped {skipped} damaged packet(s) before that" if skipped else ""


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` scaled to fit inside width x height (aspect ratio kept) and centred on black."""
    import cv2

    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_AREA
    )
    return canvas


def h264_codec() -> str:
    """The encoder used for mp4 output: libx264 when PyAV's FFmpeg has it, else mpeg4."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


class VideoWriter:
    """Write RGB or BGR frames to an mp4 (H.264, yuv420p) at a fixed frame rate.

    The file is written beside the target under a temporary name and renamed on close(); abort() (or an
    exception inside a `with` block) removes it. Odd sizes are padded by repeating the last row/column.
    A frame of another size than the first (a stream whose resolution changes) is scaled to fit the
    video's size, keeping its aspect ratio, and padded with black; one warning says so.
    """

    def __init__(self, path: str | Path, fps: float | Fraction, width: int, height: int, crf: int = 20):
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self._stack = ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._container = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        codec = h264_codec()
        rate = Fraction(fps).limit_denominator(1001) if fps else DEFAULT_FPS
        self._stream = cast("av.VideoStream", self._container.add_stream(codec, rate=rate))  # a video codec
        self._stream.width = self.width + self.width % 2
        self._stream.height = self.height + self.height % 2
        self._stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self._stream.codec_context.time_base = Fraction(1) / rate
        self.frames = 0
        self.resized = 0  # frames scaled to the video's size

    def write(self, image: np.ndarray, bgr: bool = False) -> None:
        """Append one uint8 frame (H, W, 3) of the size given at construction."""
        if image.shape[:2] != (self.height, self.width):
            if not self.resized:
                warnings.warn(
                    f"{self.path}: frame {self.frames} is {image.shape[1]}x{image.shape[0]} but the video "
                    f"is {self.width}x{self.height}: frames of another size are scaled to fit and padded",
                    stacklevel=2,
                )
            self.resized += 1
            image = letterbox(image, self.width, self.height)
        pad_h, pad_w = self._stream.height - self.height, self._stream.width - self.width
        if pad_h or pad_w:
            image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24" if bgr else "rgb24")
        frame.pts = self.frames
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
        except BaseException as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._stack.close()

    def abort(self) -> None:
        """Drop the partly written file."""
        try:
            self._container.close()
        finally:
            self._stack.__exit__(PosekitError, PosekitError("aborted"), None)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
