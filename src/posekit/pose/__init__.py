"""Pose estimation: heatmap decoding, flip test, pose NMS and pose models over person boxes."""
