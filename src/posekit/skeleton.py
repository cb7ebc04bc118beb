"""Keypoint sets as data: names, flip pairs, limbs, OKS sigmas and AlphaPose's drawing colours.

COCO-17's facts stay module constants (KEYPOINT_NAMES, FLIP_PAIRS, ...); every set (COCO-17, Halpe-26,
Halpe-136, COCO-WholeBody-133, Halpe-68, single hand 21) is a KeypointSet in KEYPOINT_SETS, looked up by
name, joint count, DATA_PRESET or dataset TYPE. Every other module takes skeleton facts from here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
KEYPOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def flip_pairs(names: tuple[str, ...] | list[str] = KEYPOINT_NAMES) -> list[tuple[int, int]]:
    """Left/right index pairs (0-based), found by swapping 'left' and 'right' in the names."""
    index = {name: i for i, name in enumerate(names)}
    pairs = []
    for i, name in enumerate(names):
        if "left" in name:
            j = index.get(name.replace("left", "right"))
            if j is not None:
                pairs.append((i, j))
    return pairs


FLIP_PAIRS: list[tuple[int, int]] = flip_pairs()

# COCO's own skeleton, 1-based, as in the COCO person category.
COCO_SKELETON_1BASED: list[list[int]] = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
LIMBS: list[tuple[int, int]] = [(a - 1, b - 1) for a, b in COCO_SKELETON_1BASED]

# Per-keypoint OKS sigmas (pycocotools' defaults).
OKS_SIGMAS = (
    np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
    )
    / 10.0
)

# AlphaPose drawing: a neck point (index 17, mean of the shoulders) and its limb list, colours in BGR.
NECK_INDEX = 17
RENDER_LIMBS: list[tuple[int, int]] = [
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (17, 11), (17, 12), (11, 13), (12, 14), (13, 15), (14, 16),
]  # fmt: skip
POINT_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 255, 255), (0, 191, 255), (0, 255, 102), (0, 77, 255), (0, 255, 0),
    (77, 255, 255), (77, 255, 204), (77, 204, 255), (191, 255, 77), (77, 191, 255), (191, 255, 77),
    (204, 77, 255), (77, 255, 204), (191, 77, 255), (77, 255, 191), (127, 77, 255), (77, 255, 127),
    (0, 255, 255),
]  # fmt: skip
LIMB_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 215, 255), (0, 255, 204), (0, 134, 255), (0, 255, 50),
    (77, 255, 222), (77, 196, 255), (77, 135, 255), (191, 255, 77), (77, 255, 77),
    (77, 222, 255), (255, 156, 127),
    (0, 127, 255), (255, 127, 77), (0, 77, 255), (255, 77, 36),
]  # fmt: skip
# Colour per track id (idx % 8): red, green, blue, cyan, yellow, orange, purple, white (BGR).
TRACK_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 0),
    (0, 255, 255), (0, 165, 255), (255, 0, 255), (255, 255, 255),
]  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Keypoint sets as data: every set AlphaPose's model zoo uses, looked up by name, joint count,
# DATA_PRESET or dataset TYPE.


@dataclass(frozen=True)
class KeypointSet:
    """One keypoint set: names, flip pairs, drawing (limbs, BGR colours) and OKS sigmas.

    render_limbs index the points after `neck` is appended (COCO-17 only, point K = mean of 5 and 6).
    Points past `point_colors` and limbs past `limb_colors` are drawn white and thin, as AlphaPose does.
    face_hand: how many trailing joints a `Combined` head decodes by integral regression (0: none).
    """

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    limbs: tuple[tuple[int, int], ...]
    render_limbs: tuple[tuple[int, int], ...]
    point_colors: tuple[tuple[int, int, int], ...]
    limb_colors: tuple[tuple[int, int, int], ...]
    sigmas: tuple[float, ...]
    neck: bool = False
    face_hand: int = 0

    @property
    def num_joints(self) -> int:
        """Number of keypoints."""
        return len(self.names)

    @property
    def index(self) -> dict[str, int]:
        """Keypoint name -> 0-based index."""
        return {name: i for i, name in enumerate(self.names)}

    @property
    def oks_sigmas(self) -> np.ndarray:
        """Per-joint OKS sigmas as an array (what pycocotools' kpt_oks_sigmas takes)."""
        return np.asarray(self.sigmas, dtype=np.float64)

    @property
    def coco_skeleton(self) -> list[list[int]]:
        """The limbs 1-based, for a COCO category's `skeleton`."""
        return [[a + 1, b + 1] for a, b in self.limbs]


def _hand_names(prefix: str) -> tuple[str, ...]:
    fingers = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")
    return (f"{prefix}hand_root", *(f"{prefix}{f}{i}" for f in fingers for i in range(1, 5)))


_FACE_NAMES = tuple(f"face_{i}" for i in range(68))
_HALPE_EXTRA = ("head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
                "left_heel", "right_heel")  # fmt: skip
_HALPE26_NAMES = KEYPOINT_NAMES + _HALPE_EXTRA
_HALPE136_NAMES = _HALPE26_NAMES + _FACE_NAMES + _hand_names("left_") + _hand_names("right_")
_WHOLEBODY_NAMES = (
    *KEYPOINT_NAMES,
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
    *_FACE_NAMES,
    *_hand_names("left_"),
    *_hand_names("right_"),
)
_HALPE68_NAMES = _HALPE26_NAMES + _hand_names("left_") + _hand_names("right_")
_HAND_NAMES = _hand_names("")

# AlphaPose's joint_pairs (alphapose/datasets/halpe_136.py); COCO-WholeBody's: its own feet, then these
# minus 3 for face and hands (coco_wholebody.py); Halpe-68's its own list (halpe_68_noface.py).
_HALPE136_PAIRS = (
    (1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16),
    (20, 21), (22, 23), (24, 25), (26, 42), (27, 41), (28, 40), (29, 39), (30, 38),
    (31, 37), (32, 36), (33, 35), (43, 52), (44, 51), (45, 50), (46, 49), (47, 48),
    (62, 71), (63, 70), (64, 69), (65, 68), (66, 73), (67, 72), (57, 61), (58, 60),
    (74, 80), (75, 79), (76, 78), (87, 89), (93, 91), (86, 90), (85, 81), (84, 82),
    *((94 + i, 115 + i) for i in range(21)),
)  # fmt: skip
FLIP_PAIRS_17 = tuple(FLIP_PAIRS)
_WHOLEBODY_PAIRS = (
    *FLIP_PAIRS_17,
    (17, 20),
    (18, 21),
    (19, 22),
    *((a - 3, b - 3) for a, b in _HALPE136_PAIRS[11:]),
)
_HALPE68_PAIRS = (*FLIP_PAIRS_17, (20, 21), (22, 23), (24, 25), *tuple((26 + i, 47 + i) for i in range(21)))

# AlphaPose's Halpe-26/136 drawing (alphapose/utils/vis.py): limbs, point and limb colours (BGR).
_HALPE_BODY_LIMBS = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 18), (6, 18), (5, 7), (7, 9), (6, 8), (8, 10),
    (17, 18), (18, 19), (19, 11), (19, 12), (11, 13), (12, 14), (13, 15), (14, 16),
    (20, 24), (21, 25), (23, 25), (22, 24), (15, 24), (16, 25),
)  # fmt: skip
_FACE_CHAINS = ((26, 42), (43, 47), (48, 52), (53, 56), (57, 61), (62, 67), (68, 73), (74, 93))
_HALPE_FACE_LIMBS = tuple((i, i + 1) for first, last in _FACE_CHAINS for i in range(first, last))


def _hand_limbs(root: int) -> tuple[tuple[int, int], ...]:
    """Wrist -> each finger's four points, as chains (AlphaPose's hand limbs)."""
    limbs = []
    for finger in range(5):
        chain = [root, *(root + 1 + 4 * finger + j for j in range(4))]
        limbs += list(itertools.pairwise(chain))
    return tuple(limbs)


_HALPE136_LIMBS = _HALPE_BODY_LIMBS + _HALPE_FACE_LIMBS + _hand_limbs(94) + _hand_limbs(115)
_HALPE_POINT_COLORS = (
    (0, 255, 255), (0, 191, 255), (0, 255, 102), (0, 77, 255), (0, 255, 0),
    (77, 255, 255), (77, 255, 204), (77, 204, 255), (191, 255, 77), (77, 191, 255), (191, 255, 77),
    (204, 77, 255), (77, 255, 204), (191, 77, 255), (77, 255, 191), (127, 77, 255), (77, 255, 127),
    (77, 255, 255), (0, 255, 255), (77, 204, 255),
    (0, 255, 255), (0, 191, 255), (0, 255, 102), (0, 77, 255), (0, 255, 0), (77, 255, 255),
)  # fmt: skip
_HALPE_LIMB_COLORS = (
    (0, 215, 255), (0, 255, 204), (0, 134, 255), (0, 255, 50),
    (0, 255, 102), (77, 255, 222), (77, 196, 255), (77, 135, 255), (191, 255, 77), (77, 255, 77),
    (77, 191, 255), (204, 77, 255), (77, 222, 255), (255, 156, 127),
    (0, 127, 255), (255, 127, 77), (0, 77, 255), (255, 77, 36),
    (0, 77, 255), (0, 77, 255), (0, 77, 255), (0, 77, 255), (255, 156, 127), (255, 156, 127),
)  # fmt: skip

# OKS sigmas (alphapose/utils/pPose_nms.py oks_iou; COCO-WholeBody's are the dataset's own).
_HALPE26_SIGMAS = tuple(OKS_SIGMAS) + (0.08, 0.08, 0.08) + (0.089,) * 6
_HAND_SIGMAS = (
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017,
    0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
)  # fmt: skip
_WHOLEBODY_SIGMAS = (
    tuple(OKS_SIGMAS)
    + (0.068, 0.066, 0.066, 0.092, 0.094, 0.094)
    + (
        0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032,
        0.037, 0.038, 0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011,
        0.011, 0.013, 0.015, 0.009, 0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010,
        0.017, 0.011, 0.009, 0.011, 0.009, 0.007, 0.013, 0.008, 0.011, 0.012, 0.010, 0.034,
        0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008, 0.009, 0.009, 0.009, 0.007,
        0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008,
    )
    + _HAND_SIGMAS * 2
)  # fmt: skip


def _by_name(names: tuple[str, ...], source: tuple[str, ...], extra_limbs=()) -> tuple[tuple, tuple, tuple]:
    """Halpe-136's drawing carried over by keypoint name (`source` names Halpe-136's points): the limbs
    whose ends both exist in `names` (coloured ones first, `extra_limbs` with their colours before them)
    and each point's colour, up to the first point Halpe-136 draws white."""
    where = {n: i for i, n in enumerate(names)}
    coloured = [limb for limb, _ in extra_limbs]
    colours = [colour for _, colour in extra_limbs]
    plain = []
    for n, (a, b) in enumerate(_HALPE136_LIMBS):
        if source[a] in where and source[b] in where:
            limb = (where[source[a]], where[source[b]])
            if n < len(_HALPE_LIMB_COLORS):
                coloured.append(limb)
                colours.append(_HALPE_LIMB_COLORS[n])
            else:
                plain.append(limb)
    point = {source[i]: c for i, c in enumerate(_HALPE_POINT_COLORS)}
    points = []
    for name in names:
        if name not in point:
            break
        points.append(point[name])
    return tuple(coloured + plain), tuple(points), tuple(colours)


def _make(
    name: str,
    names: tuple[str, ...],
    pairs,
    sigmas,
    face_hand: int = 0,
    source=_HALPE136_NAMES,
    extra_limbs=(),
) -> KeypointSet:
    """A set drawn like the same-named points of Halpe-136 (AlphaPose draws no 133/68/21 sets)."""
    limbs, points, colours = _by_name(names, source, extra_limbs)
    return KeypointSet(
        name=name,
        names=names,
        flip_pairs=tuple(pairs),
        limbs=limbs,
        render_limbs=limbs,
        point_colors=points,
        limb_colors=colours,
        sigmas=tuple(float(s) for s in sigmas),
        face_hand=face_hand,
    )


COCO_17 = KeypointSet(
    name="coco",
    names=KEYPOINT_NAMES,
    flip_pairs=tuple(FLIP_PAIRS),
    limbs=tuple(LIMBS),
    render_limbs=tuple(RENDER_LIMBS),
    point_colors=tuple(POINT_COLORS_BGR),
    limb_colors=tuple(LIMB_COLORS_BGR),
    sigmas=tuple(float(s) for s in OKS_SIGMAS),
    neck=True,
)
HALPE_26 = KeypointSet(
    name="halpe_26",
    names=_HALPE26_NAMES,
    flip_pairs=_HALPE136_PAIRS[:11],
    limbs=_HALPE_BODY_LIMBS,
    render_limbs=_HALPE_BODY_LIMBS,
    point_colors=_HALPE_POINT_COLORS,
    limb_colors=_HALPE_LIMB_COLORS,
    sigmas=_HALPE26_SIGMAS,
)
HALPE_136 = KeypointSet(
    name="halpe_136",
    names=_HALPE136_NAMES,
    flip_pairs=_HALPE136_PAIRS,
    limbs=_HALPE136_LIMBS,
    render_limbs=_HALPE136_LIMBS,
    point_colors=_HALPE_POINT_COLORS,
    limb_colors=_HALPE_LIMB_COLORS,
    sigmas=_HALPE26_SIGMAS + (0.025,) * 110,
    face_hand=110,
)
# COCO-WholeBody has no head/neck/hip points: its body is drawn with COCO's shoulder and hip limbs.
COCO_WHOLEBODY_133 = _make(
    "coco_wholebody",
    _WHOLEBODY_NAMES,
    _WHOLEBODY_PAIRS,
    _WHOLEBODY_SIGMAS,
    face_hand=110,
    extra_limbs=tuple(
        zip(
            ((5, 6), (5, 11), (6, 12), (11, 12)),
            (LIMB_COLORS_BGR[4], *LIMB_COLORS_BGR[9:11], LIMB_COLORS_BGR[4]),
        )
    ),
)
HALPE_68 = _make(
    "halpe_68_noface", _HALPE68_NAMES, _HALPE68_PAIRS, _HALPE26_SIGMAS + (0.025,) * 42, face_hand=42
)
# One hand is drawn as Halpe-136's left hand (white, as AlphaPose draws hands).
HAND_21 = _make(
    "single_hand",
    _HAND_NAMES,
    (),
    _HAND_SIGMAS,
    source=tuple(n.removeprefix("left_") for n in _HALPE136_NAMES),
)

KEYPOINT_SETS: dict[str, KeypointSet] = {
    s.name: s for s in (COCO_17, HALPE_26, HALPE_136, COCO_WHOLEBODY_133, HALPE_68, HAND_21)
}
_BY_JOINTS: dict[int, KeypointSet] = {s.num_joints: s for s in KEYPOINT_SETS.values()}
# AlphaPose's dataset TYPE names (DATASET.*.TYPE) and the set each one reads.
DATASET_TYPES: dict[str, str] = {
    "mscoco": "coco",
    "mscoco_det": "coco",
    "custom": "coco",
    "halpe_26": "halpe_26",
    "halpe_26_det": "halpe_26",
    "halpe_coco_wholebody_26": "halpe_26",
    "halpe_coco_wholebody_26_det": "halpe_26",
    "halpe_136": "halpe_136",
    "halpe_136_det": "halpe_136",
    "halpe_coco_wholebody_136": "halpe_136",
    "halpe_coco_wholebody_136_det": "halpe_136",
    "coco_wholebody": "coco_wholebody",
    "coco_wholebody_det": "coco_wholebody",
    "halpe_68_noface": "halpe_68_noface",
    "halpe_68_noface_det": "halpe_68_noface",
    "singlehand": "single_hand",
    "singlehand_det": "single_hand",
}


def keypoint_set(name: str) -> KeypointSet:
    """A set by name (KEYPOINT_SETS' keys) or AlphaPose dataset TYPE, case-insensitive."""
    key = str(name).lower()
    key = DATASET_TYPES.get(key, key)
    if key not in KEYPOINT_SETS:
        raise KeyError(f"unknown keypoint set {name!r}; known: {', '.join(KEYPOINT_SETS)}")
    return KEYPOINT_SETS[key]


def set_for_joints(num_joints: int, names: Sequence[str] | None = None) -> KeypointSet:
    """The known set with `num_joints` joints; else a custom set built from `names` (flip pairs from
    'left'/'right', no limbs, uniform OKS sigma), or numbered joints when no names are given."""
    known = _BY_JOINTS.get(int(num_joints))
    if known is not None and (names is None or tuple(names) == known.names):
        return known
    names = tuple(names) if names is not None else tuple(f"joint_{i}" for i in range(num_joints))
    return custom_set(names)


UNIFORM_SIGMA = float(OKS_SIGMAS.mean())


def custom_set(names: Sequence[str]) -> KeypointSet:
    """A user's own set: flip pairs by name, no limbs, every OKS sigma the mean COCO-17 sigma."""
    names = tuple(names)
    return KeypointSet(
        name="custom",
        names=names,
        flip_pairs=tuple(flip_pairs(names)),
        limbs=(),
        render_limbs=(),
        point_colors=(),
        limb_colors=(),
        sigmas=(UNIFORM_SIGMA,) * len(names),
    )


def set_for_config(cfg) -> KeypointSet:
    """The set a config trains or runs: DATASET.TRAIN.TYPE when it names a known set with
    DATA_PRESET.NUM_JOINTS joints, else the set with that joint count."""
    num_joints = cfg.data_preset.num_joints
    split = getattr(getattr(cfg, "dataset", None), "train", None)
    kind = str(getattr(split, "type", "")).lower()
    if kind in DATASET_TYPES and KEYPOINT_SETS[DATASET_TYPES[kind]].num_joints == num_joints:
        return KEYPOINT_SETS[DATASET_TYPES[kind]]
    return set_for_joints(num_joints)
