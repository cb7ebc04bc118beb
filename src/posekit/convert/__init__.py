"""Dataset conversion: Labelme annotations -> COCO person keypoints (the seed's step 1)."""

from posekit.convert.labelme_coco import (
    ConversionPlan,
    ConvertedImage,
    ConvertSummary,
    Skipped,
    convert_labelme,
    plan_conversion,
    write_conversion,
)

__all__ = [
    "ConversionPlan",
    "ConvertSummary",
    "ConvertedImage",
    "Skipped",
    "convert_labelme",
    "plan_conversion",
    "write_conversion",
]
