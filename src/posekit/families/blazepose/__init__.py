"""BlazePose (Google MediaPipe's person detector and full-body landmark model, Apache-2.0) run with LiteRT.

Modules, lowest first: `litert` (loading a .tflite file, one interpreter per file for all its users),
`alignment` (the detector's alignment points ->
rotation, body box and MediaPipe's region), `ssd` (anchors, decoding, weighted NMS), `landmarks` (the
landmark model as a COCO-17 pose model) and `detector` (the person detector, whose boxes come from one
landmark pass). Nothing here imports the rest of posekit's detectors or pose models.
"""

from posekit.families.blazepose.detector import BlazePoseDetector
from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel, default_pose_model

__all__ = ["BlazePoseDetector", "BlazePoseLandmarkModel", "default_pose_model"]
