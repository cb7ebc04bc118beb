"""PyAV video reader and H.264 writer: real mp4 round trip, padding, truncation, atomic writes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from posekit.errors import PosekitError
from posekit.io.video import VideoWriter, h264_codec, probe_video, read_frames

MP4 = "videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


def test_reads_the_posetrack_clip(posetrack_mini):
    info = probe_video(posetrack_mini / MP4)
    assert (info.width, info.height, info.frames, info.fps) == (1280, 720, 5, 30)
    frames = list(read_frames(posetrack_mini / MP4))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[3].timestamp == pytest.approx(0.1)
    assert frames[0].image.shape == (720, 1280, 3) and frames[0].image.dtype == np.uint8


def test_round_trip_keeps_frames_fps_and_size(posetrack_mini, tmp_path):
    frames = [f.image for f in read_frames(posetrack_mini / MP4)]
    out = tmp_path / "copy.mp4"
    with VideoWriter(out, 30, 1280, 720) as writer:
        for image in frames:
            writer.write(image)
    assert [p.name for p in tmp_path.iterdir()] == ["copy.mp4"]  # no temp file left behind
    info = probe_video(out)
    assert (info.width, info.height, info.frames, info.fps) == (1280, 720, 5, 30)
    decoded = [f.image for f in read_frames(out)]
    assert len(decoded) == 5
    for a, b in zip(frames, decoded):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3.0  # lossy, but the same pictures
    import av

    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == (
            "h264" if h264_codec() == "libx264" else "mpeg4"
        )


def test_odd_size_is_padded_and_bgr_is_converted(tmp_path):
    out = tmp_path / "odd.mp4"
    image = np.zeros((75, 101, 3), np.uint8)
    image[..., 0] = 200  # blue in BGR
    with VideoWriter(out, 24, 101, 75) as writer:
        writer.write(image, bgr=True)
        with pytest.warns(UserWarning, match="frame 1 is 10x10 but the video is 101x75"):
            writer.write(np.zeros((10, 10, 3), np.uint8))  # another size: scaled to fit, not an error
    frame, fitted = list(read_frames(out))
    assert fitted.image.max() < 10
    assert frame.image.shape == (76, 102, 3)
    r, g, b = frame.image[30, 50].astype(int)
    assert b > 180 and r < 30 and g < 30
    assert (
        np.abs(frame.image[75, 50].astype(int) - frame.image[74, 50]).max() < 10
    )  # padding repeats the edge


def test_abort_leaves_nothing(tmp_path):
    writer = VideoWriter(tmp_path / "x.mp4", 25, 64, 48)
    writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_truncated_video_ends_with_what_was_decoded(tmp_path):
    rng = np.random.default_rng(0)
    full = tmp_path / "noise.mp4"
    with VideoWriter(full, 30, 64, 48) as writer:
        for _ in range(30):
            writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = list(read_frames(cut))
    assert 5 < len(frames) < 30
    assert any("cut.mp4" in str(w.message) and "stopped" in str(w.message) for w in caught)


def test_unreadable_files_raise_one_clear_error(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(PosekitError, match=r"notes\.mp4: not a readable video"):
        list(read_frames(bad))
    with pytest.raises(PosekitError, match="video file not found"):
        probe_video(tmp_path / "missing.mp4")


def test_a_truncated_mp4_says_so_and_how_many_frames_were_read(tmp_path):
    rng = np.random.default_rng(0)
    full = tmp_path / "noise.mp4"
    with VideoWriter(full, 30, 64, 48) as writer:
        for _ in range(30):
            writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = list(read_frames(cut))
    (warning,) = caught
    assert str(warning.message).startswith(
        f"{cut}: video is truncated or damaged: read {len(frames)} of 30 frames, stopped there ("
    )
    cut.write_bytes(data[:600])  # the index (moov, written first) is cut
    with pytest.raises(PosekitError) as err:
        list(read_frames(cut))
    assert str(err.value) == (
        f"{cut}: video is truncated: the file ends before its header/index is complete (600 bytes), "
        "0 frames read"
    )
