"""Pose networks (FastPose, FastPose_DUC, SimplePose, HRNet; ResNet backbones, DCN), builder, checkpoints."""
