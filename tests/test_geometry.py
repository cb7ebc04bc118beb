import cv2
import numpy as np
import pytest

from posekit import geometry as g


def _three_point_affine(center, scale, rot, out_w, out_h, inv=False):
    """AlphaPose's construction with three point pairs, used here as the reference."""
    rad = np.deg2rad(rot)
    sn, cs = np.sin(rad), np.cos(rad)
    v = np.array([0.0, -scale[0] * 0.5])
    src_dir = np.array([v[0] * cs - v[1] * sn, v[0] * sn + v[1] * cs])
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0], src[1] = center, center + src_dir
    dst[0] = [out_w * 0.5, out_h * 0.5]
    dst[1] = dst[0] + [0, -out_w * 0.5]

    def third(a, b):
        d = a - b
        return b + np.array([-d[1], d[0]], np.float32)

    src[2], dst[2] = third(src[0], src[1]), third(dst[0], dst[1])
    return cv2.getAffineTransform(dst, src) if inv else cv2.getAffineTransform(src, dst)


@pytest.mark.parametrize("rot", [0.0, 17.0, -45.0, 90.0])
@pytest.mark.parametrize("inv", [False, True])
def test_affine_equals_three_point_construction(rot, inv):
    center, scale = np.array([321.5, 140.25]), np.array([150.0, 200.0])
    ours = g.get_affine_transform(center, scale, rot, (192, 256), inv=inv)
    ref = _three_point_affine(center, scale, rot, 192, 256, inv=inv)
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_box_to_center_scale_fixes_aspect_and_enlarges():
    center, scale = g.box_to_center_scale(10, 20, 30, 100, aspect_ratio=0.75)
    np.testing.assert_allclose(center, [25, 70])
    np.testing.assert_allclose(scale, [75 * 1.25, 100 * 1.25])
    center, scale = g.box_to_center_scale(0, 0, 300, 100, aspect_ratio=0.75)
    np.testing.assert_allclose(scale, [300 * 1.25, 400 * 1.25])
    box = g.center_scale_to_box(center, scale)
    np.testing.assert_allclose(box, [150 - 187.5, 50 - 250, 150 + 187.5, 50 + 250])


def test_crop_maps_box_center_to_input_center_and_back():
    image = np.zeros((300, 400, 3), np.uint8)
    cv2.circle(image, (200, 150), 3, (255, 255, 255), -1)
    crop, crop_box = g.crop_person(image, np.array([150, 50, 250, 250]), (256, 192))
    assert crop.shape == (256, 192, 3)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    assert abs(xs.mean() - 96) < 0.6 and abs(ys.mean() - 128) < 0.6
    # heatmap (64x48) coordinates of the input center decode to the image point.
    back = g.heatmap_to_image_coords(np.array([[[24.0, 32.0]]]), crop_box[None], (64, 48))
    np.testing.assert_allclose(back[0, 0], [200, 150])


def test_normalize_crops_subtracts_rgb_mean():
    crops = np.full((2, 4, 3, 3), 255, np.uint8)
    batch = g.normalize_crops(crops)
    assert batch.shape == (2, 3, 4, 3) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0, :, 0, 0], [1 - 0.406, 1 - 0.457, 1 - 0.480], rtol=1e-6)


def test_box_iou():
    iou = g.box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[1.0, 1 / 3, 0.0]])


def test_atomic_write_replaces_and_keeps_normal_permissions(tmp_path):
    import os

    from posekit.io.atomic import atomic_write_json, atomic_write_text

    target = tmp_path / "out.json"
    target.write_text("old")
    atomic_write_json(target, {"a": 1})
    assert target.read_text() == '{"a": 1}'
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})
    assert target.read_text() == '{"a": 1}'  # a failed write leaves the old file
    atomic_write_text(tmp_path / "new" / "x.txt", "hi")
    assert (tmp_path / "new" / "x.txt").read_text() == "hi"
