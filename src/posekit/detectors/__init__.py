"""Person detectors behind one interface: detect(images) -> per-image boxes and scores."""
