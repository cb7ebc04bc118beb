"""Training: dataset and augmentation, heatmap targets, loss, accuracy, the loop and checkpoints."""
