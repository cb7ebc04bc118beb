"""File formats in and out: Labelme, COCO json, results json, images and video."""
