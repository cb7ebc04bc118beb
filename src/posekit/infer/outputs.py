"""Rendered outputs of a run: images in vis/ and the AlphaPose_<name>.mp4 video.

A frame's rendering is `vis/<frame name>` (RenderingNames), for `posekit infer` and `posekit track
--visdir` alike, so tracking a folder again replaces its renderings instead of adding a second file per
frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posekit.infer.options import OutputOptions
from posekit.infer.sources import Frame, Source
from posekit.io.images import encoded_suffix, write_image_bgr
from posekit.io.outnames import OutputNames, fit_name
from posekit.render.draw import draw_poses

if TYPE_CHECKING:
    from posekit.io.video import VideoWriter


class RenderedOutputs:
    """Draws each finished frame (draw) and saves it to `outdir/vis/<name>` and/or a video (save).

    Rendered image names are unique in the run (posekit.io.outnames): 'x.jpg' and 'x.webp' become
    vis/x.jpg and vis/x.webp.jpg.

    The video (`outdir/AlphaPose_<stem>.mp4`, H.264) opens on the first frame with that frame's size.
    """

    def __init__(
        self,
        outdir: str | Path,
        save_img: bool,
        save_video: bool,
        video_stem: str = "video",
        fps: float | None = None,
        fast: bool = False,
        show_box: bool = False,
        tracking: bool = False,
    ) -> None:
        self.outdir = Path(outdir)
        self.save_img, self.save_video = save_img, save_video
        self.video_path = self.outdir / fit_name(f"AlphaPose_{video_stem}", ".mp4")
        self.fps = fps or 25.0
        self.fast, self.show_box, self.tracking = fast, show_box, tracking
        self._video: VideoWriter | None = None
        self._names = RenderingNames()

    @classmethod
    def for_run(cls, output: OutputOptions, source: Source, tracking: bool = False) -> RenderedOutputs:
        """The renderer `output` asks for, for `source` (images in vis/ by output.renders_images; the
        video named after the source, at its frame rate); tracking: track ids drawn."""
        return cls(
            output.outdir,
            save_img=output.renders_images(source.is_video),
            save_video=output.save_video,
            video_stem=source.stem,
            fps=source.fps,
            fast=output.vis_fast,
            show_box=output.showbox,
            tracking=tracking,
        )

    @property
    def active(self) -> bool:
        """Whether anything is rendered at all."""
        return self.save_img or self.save_video

    def draw(self, frame: Frame) -> np.ndarray | None:
        """The frame's image with its poses drawn (BGR), or None when nothing is rendered or the frame
        has no image or result. Writes nothing."""
        if not self.active or frame.image is None or frame.result is None:
            return None
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        return draw_poses(bgr, frame.result, fast=self.fast, show_box=self.show_box, tracking=self.tracking)

    def save(self, frame: Frame, drawn: np.ndarray | None) -> None:
        """Write a frame drawn by draw() to vis/ and/or the video (nothing for None)."""
        if drawn is None:
            return
        if self.save_img:
            self._save_image(drawn, frame.name)
        if self.save_video:
            if self._video is None:
                from posekit.io.video import VideoWriter

                self._video = VideoWriter(self.video_path, self.fps, drawn.shape[1], drawn.shape[0])
            self._video.write(drawn, bgr=True)

    def _save_image(self, bgr: np.ndarray, name: str) -> None:
        write_image_bgr(self._names.path(self.outdir / "vis", name), bgr)

    def close(self) -> Path | None:
        """Finish the video file (if any) and return its path."""
        if self._video is None:
            return None
        self._video.close()
        self._video = None
        return self.video_path

    def abort(self) -> None:
        """Drop a partly written video after an error."""
        if self._video is not None:
            self._video.abort()
            self._video = None


class RenderingNames:
    """The vis/ names of a run's frames: the frame's own file name (with .jpg for an extension
    write_image_bgr does not write), unique in the run whatever the input names (posekit.io.outnames:
    'x.jpg' and 'x.webp' -> x.jpg and x.webp.jpg). posekit infer and posekit track --visdir name a
    frame alike, so tracking a folder replaces its renderings instead of adding a second file."""

    def __init__(self) -> None:
        self._names = OutputNames()

    def path(self, folder: str | Path, frame_name: str) -> Path:
        """Where the next frame, `frame_name`, is rendered in `folder`."""
        return Path(folder) / self._names.take(frame_name, encoded_suffix(frame_name))
