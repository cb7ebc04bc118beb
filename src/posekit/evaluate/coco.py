"""COCO keypoint evaluation with pycocotools (OKS matching is never re-implemented here).

OKS sigmas: the per-keypoint sigmas of the ground truth's keypoint set (posekit.skeleton: COCO-17,
Halpe-26/136, COCO-WholeBody-133, Halpe-68, hand-21), passed to COCOeval.params.kpt_oks_sigmas; a custom
set (any other joint count) gets UNIFORM_OKS_SIGMA for every joint.
"""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError, brief
from posekit.io.entries import field, finite_number, keypoint_triplets
from posekit.io.jsonio import read_json
from posekit.io.results import check_results, read_results
from posekit.skeleton import UNIFORM_SIGMA, set_for_joints

STAT_NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
# OKS sigma of every joint of a custom keypoint set: the mean COCO-17 sigma (~0.0669), a middling
# tolerance between the face points (0.025) and the hips (0.107).
UNIFORM_OKS_SIGMA = UNIFORM_SIGMA


def oks_sigmas(num_keypoints: int) -> np.ndarray:
    """Per-joint OKS sigmas of the K-joint keypoint set (UNIFORM_OKS_SIGMA each for a custom set)."""
    return set_for_joints(num_keypoints).oks_sigmas.copy()


def load_coco(gt_json: str | Path):
    """pycocotools COCO for a keypoints ground-truth file (quiet); errors name the file."""
    from pycocotools.coco import COCO

    data = read_json(gt_json, "ground-truth file")
    annotations = data.get("annotations") if isinstance(data, dict) else None
    images = data.get("images", []) if isinstance(data, dict) else None
    if not isinstance(annotations, list) or not isinstance(images, list):
        raise PosekitError(f"{gt_json}: not a COCO ground truth (no 'annotations' and 'images' lists)")
    for n, image in enumerate(images):
        field(gt_json, f"image {n}", image, "id")
    for n, annotation in enumerate(annotations):
        where = f"annotation {n}"
        for key in ("id", "image_id"):
            field(gt_json, where, annotation, key)
        if finite_number(gt_json, where, annotation, "num_keypoints", default=0) > 0:
            keypoint_triplets(gt_json, where, annotation)
    if not any(a.get("num_keypoints", 0) > 0 for a in annotations):
        raise PosekitError(f"{gt_json}: no annotation with keypoints (num_keypoints > 0) to evaluate against")
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _image_id_map(coco) -> dict[str, int]:
    """String ids AlphaPose writes (file basenames) -> GT image ids; also stems and decimal ids."""
    mapping: dict[str, int] = {}
    for image_id, image in coco.imgs.items():
        name = Path(str(image.get("file_name", ""))).name
        for key in (name, Path(name).stem, str(image_id)):
            mapping.setdefault(key, image_id)
    return mapping


def _num_keypoints(coco) -> int:
    """Keypoints per person in the ground truth (17 when no annotation lists any)."""
    return next((len(a["keypoints"]) // 3 for a in coco.anns.values() if a.get("keypoints")), 17)


def normalise_results(coco, results: list[dict], source: str) -> list[dict]:
    """Results with integer GT image ids and category 1; PosekitError for unknown images."""
    if not results:
        raise PosekitError(f"{source}: results are empty")
    mapping = _image_id_map(coco)
    out = []
    num_joints = _num_keypoints(coco) * 3
    for entry in results:
        raw = entry.get("image_id")
        image_id = raw if isinstance(raw, int) and raw in coco.imgs else mapping.get(str(raw))
        if image_id is None:
            raise PosekitError(f"{source}: image_id {brief(raw)} is not an image of the ground truth")
        if len(entry["keypoints"]) != num_joints:
            raise PosekitError(
                f"{source}: {len(entry['keypoints']) // 3} keypoints per person, "
                f"ground truth has {num_joints // 3}"
            )
        item = {k: v for k, v in entry.items() if k not in ("bbox", "area", "id", "box", "idx")}
        item.update(image_id=image_id, category_id=entry.get("category_id", 1), score=float(entry["score"]))
        out.append(item)
    return out


def evaluate_keypoints(
    gt_json: str | Path, results: str | Path | list[dict], verbose: bool = False
) -> dict[str, float]:
    """COCO's 10 keypoint stats (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl) of results vs GT.

    `results` is a results file or list: AlphaPose's (string image ids = file names) or plain COCO.
    OKS uses `oks_sigmas(K)` for the ground truth's K joints. With verbose=True pycocotools' summary
    table is printed.
    """
    from pycocotools.cocoeval import COCOeval

    coco = load_coco(gt_json)
    source = str(results) if isinstance(results, str | Path) else "results"
    if isinstance(results, str | Path):
        entries = read_results(results)
    else:
        entries = check_results(copy.deepcopy(results), source)
    entries = normalise_results(coco, entries, source)
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with sink:
        detections = coco.loadRes(entries)
        evaluator = COCOeval(coco, detections, "keypoints")
        evaluator.params.kpt_oks_sigmas = oks_sigmas(_num_keypoints(coco))
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats)}
