"""COCO keypoint evaluation (pycocotools) and gt-box / det-box validation."""
