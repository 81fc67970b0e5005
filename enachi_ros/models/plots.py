"""PNG plots of a calibration profile (reads only the profile dict, so it can be re-run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from enachi_ros.core.surrogate import surrogate_accuracy


def _partial_splits(profile: dict) -> list[dict]:
    """The cuts that send partial features (codec options have a plot of their own)."""
    return [s for s in profile["splits"] if s["kind"] not in ("device_only", "edge_codec")]


def _grid(n: int) -> tuple[plt.Figure, np.ndarray]:
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def plot_accuracy_vs_fraction(profile: dict, path: Path) -> None:
    label = "agreement" if profile.get("accuracy_kind") != "accuracy" else "accuracy"
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    beta = np.linspace(0, 1, 401)
    partial = []
    for s in _partial_splits(profile):
        curve = s["accuracy_vs_fraction"]
        sur = s["surrogate"]
        partial += curve["accuracy_test"][1:] + curve["accuracy_calib"][1:]
        name = f"{s['name']} (K={len(s['packets'])})"
        for ax in axes:
            line, = ax.plot(curve["fraction"], curve["accuracy_test"], "o-", ms=3, label=name)
            ax.plot(curve["fraction"], curve["accuracy_calib"], "x", color=line.get_color(),
                    ms=4)
            if len(curve["fraction"]) > 2:
                ax.plot(beta, surrogate_accuracy(beta, sur["a0"], sur["a1"], sur["a2"]), ":",
                        color=line.get_color())
    low = min(partial) if partial else 0.0
    axes[1].set_ylim(max(0.0, low - 0.01), max(partial or [1.0]) + 0.005)
    axes[1].set_title("zoom: at least one packet received")
    axes[0].set_title(f"{profile['model']}: {label} vs fraction, {profile['bits_default']}-bit")
    for ax in axes:
        ax.set_xlabel("fraction of packets received (importance order, mean fill)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{label} (o held-out, x calibration, : surrogate)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _multi(profile: dict, path: Path, title: str, curves_of) -> None:
    items = [(s, curves_of(s)) for s in _partial_splits(profile)]
    items = [(s, c) for s, c in items if c]
    if not items:
        return
    fig, axes = _grid(len(items))
    for ax, (s, curves) in zip(axes, items, strict=False):
        for name, curve in curves.items():
            ax.plot(curve["fraction"], curve["accuracy"], "o-", ms=3, label=name)
        ax.set_title(s["name"], fontsize=10)
        ax.set_xlabel("fraction of packets")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_codecs(profile: dict, path: Path) -> None:
    """Held-out accuracy against the mean encoded size of each codec option, beside the
    full-feature size and accuracy of every cut (what a split must beat: SC2's question)."""
    codecs = [s for s in profile["splits"] if s["kind"] == "edge_codec"]
    if not codecs:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for fmt in sorted({s["codec"]["format"] for s in codecs}):
        pts = sorted((s["codec"]["bytes_mean_test"], s["codec"]["accuracy_test"],
                      s["codec"]["quality"]) for s in codecs if s["codec"]["format"] == fmt)
        xs, ys, qs = zip(*pts, strict=True)
        ax.plot(xs, ys, "o-", ms=4, label=f"{fmt} (quality {min(qs)}-{max(qs)})")
    bits = str(profile["bits_default"])
    for s in _partial_splits(profile):
        acc = s["accuracy_vs_fraction"]["accuracy_test"][-1]
        ax.plot(s["bits"][bits]["payload_bytes"], acc, "s", ms=5, color="0.4")
        ax.annotate(s["name"], (s["bits"][bits]["payload_bytes"], acc), fontsize=7,
                    xytext=(3, -9), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("bytes per frame (codec: mean over the held-out frames; cut: all packets)")
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"{profile['model']}: codec options vs {bits}-bit features")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_plots(profile: dict[str, Any], folder: Path, options: Any = None) -> list[Path]:
    """Write the calibration plots into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "accuracy_vs_fraction.png", folder / "importance_vs_channel_order.png",
             folder / "mean_fill_vs_zero_fill.png", folder / "codecs_vs_features.png"]
    plot_accuracy_vs_fraction(profile, paths[0])
    plot_codecs(profile, paths[3])
    comparison = profile.get("importance_comparison", {})
    chosen = profile.get("importance_method")
    _multi(profile, paths[1],
           f"{profile['model']}: calibration curve per channel ranking (chosen: {chosen})",
           lambda s: {m: c["curves_calib"][s["name"]] for m, c in comparison.items()
                      if s["name"] in c["curves_calib"]})
    _multi(profile, paths[2], f"{profile['model']}: mean fill vs zero fill (calibration)",
           lambda s: {k: v for k, v in s.get("fill_comparison", {}).items() if k != "on"})
    return [p for p in paths if p.is_file()]
