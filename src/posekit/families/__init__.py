"""Model families that are more than one network, each in one package giving the standard detector and
pose-model interfaces: blazepose (LiteRT detector + landmarks + alignment), yolo_pose (restricted
unpickler, the network from the stored architecture, decode + NMS)."""
