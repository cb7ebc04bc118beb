"""Reading Labelme files: every accepted form and every rejection reason (posekit.io.labelme)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit.io.labelme import LabelmeError, read_image_bytes, read_labelme

W, H = 64, 48


def write_image(path: Path, width: int = W, height: int = H) -> Path:
    """A small noisy image in the format the suffix names."""
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def person(group_id: int | None = 1, box: tuple[float, float, float, float] = (10, 5, 50, 45)) -> dict:
    """A rectangular person polygon."""
    x0, y0, x1, y1 = box
    return {"label": "person", "points": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "group_id": group_id,
            "shape_type": "polygon", "flags": {}}  # fmt: skip


def point(label: str, x: float, y: float, group_id: int | None = 1, **extra) -> dict:
    """A keypoint shape."""
    return {
        "label": label,
        "points": [[x, y]],
        "group_id": group_id,
        "shape_type": "point",
        "flags": {},
        **extra,
    }


def labelme_doc(shapes: list, image_path: str | None = "img.jpg", **extra) -> dict:
    """A Labelme 5 document."""
    return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image_path, "imageData": None,
            "imageHeight": H, "imageWidth": W, **extra}  # fmt: skip


def write_doc(folder: Path, doc: dict, name: str = "a.json", image: str | None = "img.jpg") -> Path:
    """Write the json (and its image unless None) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if image:
        write_image(folder / image)
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def problems_of(path: Path, root: Path | None = None) -> str:
    with pytest.raises(LabelmeError) as info:
        read_labelme(path, root)
    assert str(info.value).startswith(f"{path}: ")
    return info.value.reason


def test_two_people_keypoints_go_to_their_own_person(tmp_path):
    shapes = [person(1, (1, 1, 30, 40)), person(2, (32, 2, 60, 44)),
              point("nose", 10, 10, 1), point("nose", 40, 12, 2), point("left_ankle", 20, 38, 1)]  # fmt: skip
    doc = read_labelme(write_doc(tmp_path, labelme_doc(shapes)))
    assert (doc.image.width, doc.image.height, doc.image.format, doc.image.name) == (W, H, "JPEG", "img.jpg")
    assert [p.group_id for p in doc.persons] == [1, 2]
    first, second = doc.persons
    assert first.polygons == ((1, 1, 30, 1, 30, 40, 1, 40),)
    assert first.keypoints[0] == (10, 10, 2) and first.keypoints[15] == (20, 38, 2)
    assert second.keypoints[0] == (40, 12, 2) and second.keypoints[15] == (0, 0, 0)
    assert sum(1 for k in first.keypoints if k[2]) == 2


def test_occluded_flag_or_description_gives_v1(tmp_path):
    shapes = [
        person(),
        point("nose", 10, 10, flags={"occluded": True}),
        point("left_eye", 11, 9, description=" Occluded "),
        point("right_eye", 9, 9, flags={"occluded": False}),
    ]
    (p,) = read_labelme(write_doc(tmp_path, labelme_doc(shapes))).persons
    assert [k[2] for k in p.keypoints[:3]] == [1, 1, 2]


def test_single_person_without_group_id(tmp_path):
    shapes = [person(None), point("nose", 10, 10, None), point("right_knee", 20, 30, None)]
    (p,) = read_labelme(write_doc(tmp_path, labelme_doc(shapes))).persons
    assert p.group_id is None and p.keypoints[0] == (10, 10, 2) and p.keypoints[14] == (20, 30, 2)


def test_single_person_with_group_id_takes_points_without_one(tmp_path):
    (p,) = read_labelme(write_doc(tmp_path, labelme_doc([person(7), point("nose", 10, 10, None)]))).persons
    assert p.group_id == 7 and p.keypoints[0] == (10, 10, 2)


def test_several_polygons_of_one_person_form_one_segmentation(tmp_path):
    shapes = [person(1, (1, 1, 10, 10)), person(1, (20, 20, 30, 30)), point("nose", 5, 5)]
    (p,) = read_labelme(write_doc(tmp_path, labelme_doc(shapes))).persons
    assert len(p.polygons) == 2


def test_old_labelme_without_shape_type_size_or_flags(tmp_path):
    old = {"label": "person", "points": [[1, 1], [20, 1], [20, 20]], "line_color": None, "fill_color": None}
    doc = {"imagePath": "img.jpg", "imageData": None, "shapes": [old], "flags": {}}
    (p,) = read_labelme(write_doc(tmp_path, doc)).persons
    assert p.polygons == ((1, 1, 20, 1, 20, 20),) and p.keypoints[0] == (0, 0, 0)


def test_labels_are_normalized(tmp_path):
    shapes = [person(), point("Left Eye", 10, 10), point("right-eye", 12, 10), point(" NOSE ", 11, 12)]
    (p,) = read_labelme(write_doc(tmp_path, labelme_doc(shapes))).persons
    assert [k[2] for k in p.keypoints[:3]] == [2, 2, 2]


@pytest.mark.parametrize(
    "suffix,fmt", [(".png", "PNG"), (".bmp", "BMP"), (".webp", "WEBP"), (".jpeg", "JPEG")]
)
def test_png_bmp_webp_images(tmp_path, suffix, fmt):
    image = f"photo{suffix}"
    doc = read_labelme(write_doc(tmp_path, labelme_doc([person()], image), image=image))
    assert doc.image.format == fmt and doc.image.path == tmp_path / image
    assert doc.image.name == "photo" + {".jpeg": ".jpg"}.get(suffix, suffix)


def test_image_path_relative_to_json_with_windows_separators(tmp_path):
    write_image(tmp_path / "images" / "x.png")
    path = write_doc(tmp_path, labelme_doc([person()], "images\\x.png"), image=None)
    assert read_labelme(path).image.path == tmp_path / "images" / "x.png"


def test_embedded_image_data_used_when_image_file_is_missing(tmp_path):
    png = write_image(tmp_path / "src.png").read_bytes()
    (tmp_path / "src.png").unlink()
    doc = labelme_doc([person()], "gone.jpg", imageData=base64.b64encode(png).decode())
    parsed = read_labelme(write_doc(tmp_path, doc, image=None))
    assert parsed.image.path is None and parsed.image.format == "PNG" and parsed.image.name == "gone.png"
    assert read_image_bytes(parsed) == png


def test_embedded_image_data_without_image_path(tmp_path):
    jpg = write_image(tmp_path / "src.jpg").read_bytes()
    doc = labelme_doc([person()], None, imageData=base64.b64encode(jpg).decode())
    parsed = read_labelme(write_doc(tmp_path, doc, name="frame 7.json", image=None))
    assert parsed.image.name == "frame 7.jpg" and read_image_bytes(parsed) == jpg


def test_exif_rotated_jpeg_has_the_size_labelme_shows(tmp_path):
    from PIL import Image

    image = Image.new("RGB", (W, H))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90: shown as H x W
    image.save(tmp_path / "img.jpg", exif=exif)
    shapes = [person(1, (1, 1, 40, 60))]
    doc = read_labelme(write_doc(tmp_path, labelme_doc(shapes, imageHeight=W, imageWidth=H), image=None))
    assert (doc.image.width, doc.image.height) == (H, W)
    assert cv2.imread(str(tmp_path / "img.jpg")).shape[:2] == (W, H)  # cv2 rotates the same way


@pytest.mark.parametrize(
    "content,expected",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a Labelme file"),
        ('{"imagePath": "img.jpg"}', "no 'shapes' list"),
    ],
)
def test_unreadable_documents(tmp_path, content, expected):
    write_image(tmp_path / "img.jpg")
    (tmp_path / "a.json").write_text(content)
    assert expected in problems_of(tmp_path / "a.json")


def test_missing_image(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person()], "nowhere.jpg"), image=None)
    assert problems_of(path) == "image 'nowhere.jpg' not found beside the json and no imageData embedded"


def test_no_image_at_all(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person()], None), image=None)
    assert problems_of(path) == "no imagePath and no embedded imageData"


def test_not_an_image(tmp_path):
    (tmp_path / "img.jpg").write_bytes(b"hello")
    path = write_doc(tmp_path, labelme_doc([person()]), image=None)
    assert "image 'img.jpg' is not a readable image" in problems_of(path)


def test_gif_is_refused(tmp_path):
    from PIL import Image

    Image.new("RGB", (W, H)).save(tmp_path / "img.gif")
    path = write_doc(tmp_path, labelme_doc([person()], "img.gif"), image=None)
    assert "has format GIF; supported: jpg, png, bmp, webp" in problems_of(path)


def test_image_path_escaping_the_input_folder(tmp_path):
    write_image(tmp_path / "outside.jpg")
    path = write_doc(tmp_path / "in", labelme_doc([person()], "../outside.jpg"), image=None)
    assert "imagePath '../outside.jpg' escapes the input folder" in problems_of(path, tmp_path / "in")
    absolute = write_doc(tmp_path / "in", labelme_doc([person()], str(tmp_path / "outside.jpg")), image=None)
    assert "escapes the input folder" in problems_of(absolute, tmp_path / "in")


def test_escaping_image_path_is_never_read_when_image_data_is_embedded(tmp_path):
    write_image(tmp_path / "outside.jpg", 10, 10)
    png = write_image(tmp_path / "src.png").read_bytes()
    doc = labelme_doc([person()], "../outside.jpg", imageData=base64.b64encode(png).decode())
    parsed = read_labelme(write_doc(tmp_path / "in", doc, image=None), tmp_path / "in")
    assert parsed.image.path is None and (parsed.image.width, parsed.image.format) == (W, "PNG")


def test_unknown_label(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person(), point("hand", 5, 5)]))
    assert problems_of(path) == "shape 1: unknown label 'hand' (expected 'person' or a COCO keypoint name)"


def test_point_whose_group_has_no_polygon(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person(1), person(2), point("nose", 5, 5, 3)]))
    assert problems_of(path) == "shape 2 'nose': no person polygon has group_id 3"


def test_point_without_group_among_several_people(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person(1), person(2), point("nose", 5, 5, None)]))
    assert problems_of(path) == "shape 2 'nose': no group_id, but the image has 2 people"


def test_point_without_any_person(tmp_path):
    path = write_doc(tmp_path, labelme_doc([point("nose", 5, 5, None)]))
    assert problems_of(path) == "shape 0 'nose': the image has no person polygon"


def test_duplicate_label_for_one_person(tmp_path):
    path = write_doc(
        tmp_path, labelme_doc([person(4), point("left_knee", 5, 5, 4), point("left_knee", 6, 6, 4)])
    )
    assert problems_of(path) == "person with group_id 4 has two 'left_knee' points"


def test_unnumbered_polygon_among_several_people(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person(None), person(2)]))
    assert "person polygon without group_id among several people" in problems_of(path)


@pytest.mark.parametrize("x,y", [(-0.5, 10), (10, H + 0.01), (W + 1, 3)])
def test_coordinates_outside_the_image(tmp_path, x, y):
    path = write_doc(tmp_path, labelme_doc([person(), point("nose", x, y)]))
    assert problems_of(path) == f"shape 1 'nose': point ({x}, {y}) is outside the {W}x{H} image"


def test_points_on_the_image_border_are_inside(tmp_path):
    doc = read_labelme(write_doc(tmp_path, labelme_doc([person(1, (0, 0, W, H)), point("nose", W, H)])))
    assert doc.persons[0].keypoints[0] == (W, H, 2)


@pytest.mark.parametrize(
    "shape,expected",
    [
        ({"label": "person", "points": [[1, 1], [5, 5]], "shape_type": "polygon"}, "at least 3 points"),
        ({"label": "person", "points": [[1, 1], [5, 5]], "shape_type": "rectangle"}, "must be a polygon"),
        ({"label": "nose", "points": [[1, 1], [5, 5]], "shape_type": "line"}, "must be a single point"),
        ({"label": "nose", "points": [["1", 1]], "shape_type": "point"}, "points are not a list of [x, y]"),
        ({"label": "nose", "points": [[1, 1]], "shape_type": "point", "group_id": "1"}, "is not an integer"),
        ({"label": 3, "points": [[1, 1]]}, "has no text label"),
        ("nose", "is not an object"),
    ],
)
def test_malformed_shapes(tmp_path, shape, expected):
    assert expected in problems_of(write_doc(tmp_path, labelme_doc([person(), shape])))


def test_every_problem_in_a_file_is_reported(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person(), point("hand", 1, 1), point("nose", 500, 1)]))
    reason = problems_of(path)
    assert "unknown label 'hand'" in reason and "outside the 64x48 image" in reason


def test_size_in_the_json_must_match_the_image(tmp_path):
    path = write_doc(tmp_path, labelme_doc([person()], imageWidth=640, imageHeight=480))
    assert (
        problems_of(path) == f"imageWidth x imageHeight 640x480 in the json differ from the image ({W}x{H})"
    )
