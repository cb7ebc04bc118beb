"""Pose tracking: PoseFlow and an online OKS/IoU tracker."""
