"""Pose networks (SE-ResNet backbones, FastPose head), the builder and checkpoint loading."""
