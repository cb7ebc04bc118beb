"""posekit.choices is the one list of every name a user picks from: each owner's registry covers
exactly its names, and the parser and the options accept exactly them."""

from __future__ import annotations

import pytest

from posekit import choices
from posekit.errors import PosekitError


def test_each_registry_builds_exactly_the_names_choices_lists():
    from posekit.detectors import DETECTOR_CLASSES
    from posekit.modelstore import DEFAULT_MODEL_NAME, WHEEL_MODELS
    from posekit.runtime import BACKENDS
    from posekit.track import TRACKER_CLASSES

    assert set(choices.DETECTORS.values()) | set(choices.FILE_DETECTORS.values()) == set(DETECTOR_CLASSES)
    assert set(choices.DETECTOR_ALIASES.values()) <= set(choices.DETECTORS)
    assert ("auto", *BACKENDS) == choices.BACKEND_CHOICES
    assert tuple(TRACKER_CLASSES) == choices.TRACKERS
    assert tuple(WHEEL_MODELS) == choices.PULL_MODELS and DEFAULT_MODEL_NAME == choices.DEFAULT_PULL_MODEL


def test_detector_names_resolve_aliases_and_keep_weight_files():
    assert choices.canonical_detector_name("YOLOX") == "yolox-x"
    assert choices.canonical_detector_name("default") == "blazepose"
    assert choices.canonical_detector_name("my/yolo-pose.PT") == "my/yolo-pose.PT"
    assert "yolov3-spp" in choices.detector_names() and "yolo11n-pose" in choices.detector_names()
    with pytest.raises(PosekitError, match="unknown detector 'nope'; choose one of: blazepose, default"):
        choices.canonical_detector_name("nope")


def test_the_infer_parser_offers_the_choices():
    from posekit.cli.main import build_parser

    parser = build_parser()
    for flag, allowed in (
        ("--format", choices.FORMATS),
        ("--backend", choices.BACKEND_CHOICES),
        ("--precision", choices.PRECISIONS),
        ("--pose_model", choices.POSE_MODELS),
    ):
        for value in allowed:
            assert getattr(parser.parse_args(["infer", flag, value]), flag.lstrip("-")) == value
        with pytest.raises(SystemExit):
            parser.parse_args(["infer", flag, "nope"])
