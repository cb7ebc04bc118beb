"""Model families that are more than one network (a detector, its pose head, their file formats)."""
