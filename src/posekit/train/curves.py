"""training curves: loss, acc and mAP per epoch as one PNG."""

from __future__ import annotations

from pathlib import Path

from posekit.io.atomic import atomic_write_with


def plot_curves(history: list[dict], path: str | Path) -> None:
    """Write loss / acc / mAP per epoch to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    axes[0].plot(epochs, [h["loss"] for h in history], "o-")
    axes[0].set_title("train loss")
    axes[0].set_yscale("log")
    axes[1].plot(epochs, [h["acc"] for h in history], "o-", color="tab:green")
    axes[1].set_title("train acc")
    axes[1].set_ylim(0, 1)
    for key, label in (("gt_map", "gt box"), ("det_map", "det box")):
        points = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        if points:
            axes[2].plot(*zip(*points), "o-", label=label)
    axes[2].set_title("val mAP")
    axes[2].set_ylim(0, 1)
    if axes[2].get_lines():
        axes[2].legend(loc="lower right")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=80))
    plt.close(fig)
