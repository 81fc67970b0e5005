"""PNG plots of an experiment: metrics vs the swept parameter, and queues/accuracy over frames."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

_STYLE = {"enachi": dict(color="black", lw=2.4, marker="o"), "oracle": dict(color="gray", ls=":")}
_PANELS = (("accuracy", "accuracy"), ("energy_per_task_j", "device energy per task (J)"),
           ("energy_vs_budget", "time-avg energy / budget"), ("mean_queue", "mean virtual queue"))


def _label(param: str) -> str:
    return {"deadline_s": "deadline (s)", "radio.bandwidth_hz": "total bandwidth W (Hz)",
            "robots.count": "number of robots", "v": "V", "theta": "entropy threshold"}.get(
                param, param)


def plot_sweep(summary: dict, out: Path) -> Path:
    """One panel per metric, one line per policy, x = the swept value."""
    xs = [p["value"] for p in summary["points"]]
    names = list(summary["points"][0]["policies"])
    fig, grid = plt.subplots(2, 2, figsize=(10, 7.5))
    axes = grid.ravel()
    for ax, (key, title) in zip(axes, _PANELS, strict=True):
        for name in names:
            ys = [p["policies"][name][key] for p in summary["points"]]
            ax.plot(xs, ys, label=name, **_STYLE.get(name, dict(marker=".")))
        if key == "energy_vs_budget":
            ax.axhline(1.0, color="red", lw=0.8, ls="--")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(_label(summary["sweep"]["parameter"]), fontsize=8)
        if summary["sweep"]["parameter"] in ("radio.bandwidth_hz", "v"):
            ax.set_xscale("log")
        if key in ("energy_per_task_j", "energy_vs_budget"):
            ax.set_yscale("log")
        elif key == "mean_queue":
            ax.set_yscale("symlog", linthresh=1e-3)
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(summary["experiment"], fontsize=10)
    fig.tight_layout()
    path = out / "sweep.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_timeline(summary: dict, results: list[dict], out: Path, window: int = 25) -> Path:
    """At the headline point: moving-average accuracy and mean queue per frame."""
    head = next(r for r in results if r["value"] == summary["headline_value"])
    rows = head["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name in head["policies"]:
        mine = [r for r in rows if r[1] == name]
        acc = np.array([r[3] for r in mine])
        queue = np.array([r[7] for r in mine])
        kernel = np.ones(min(window, acc.size)) / min(window, acc.size)
        style = _STYLE.get(name, {})
        style = {k: v for k, v in style.items() if k != "marker"}
        axes[0].plot(np.convolve(acc, kernel, mode="valid"), label=name, **style)
        axes[1].plot(queue, label=name, **style)
    axes[0].set_title(f"accuracy (moving average over {window} frames)", fontsize=9)
    axes[1].set_title("mean virtual queue Q (J)", fontsize=9)
    axes[1].set_yscale("symlog", linthresh=1e-3)
    for ax in axes:
        ax.set_xlabel("frame", fontsize=8)
    axes[0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path = out / "timeline.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_experiment(summary: dict, results: list[dict], out: Path) -> list[Path]:
    paths = [plot_timeline(summary, results, out)]
    if summary["sweep"] and len(summary["points"]) > 1:
        paths.append(plot_sweep(summary, out))
    return paths
