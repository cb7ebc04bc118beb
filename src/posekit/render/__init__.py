"""Drawing poses (fast and blended) and writing rendered video."""
