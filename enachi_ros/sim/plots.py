"""PNG plots of an experiment: metrics vs the swept parameter (seed means with 95% intervals),
accuracy and queues over frames, and the accuracy-energy planes of a front experiment."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from enachi_ros.sim.fronts import family

_STYLE = {"enachi": dict(color="black", lw=2.4, marker="o"), "oracle": dict(color="gray", ls=":")}
_PANELS = (("accuracy", "accuracy (answered, correct, in time / all tasks)"),
           ("answered_rate", "answered rate"),
           ("energy_per_task_j", "device energy per task (J)"),
           ("energy_vs_budget", "time-avg energy / budget"))
_COLORS = plt.get_cmap("tab10").colors


def _label(param: str) -> str:
    return {"deadline_s": "deadline (s)", "radio.bandwidth_hz": "total bandwidth W (Hz)",
            "robots.count": "number of robots", "v": "V", "theta": "entropy threshold"}.get(
                param, param)


def plot_sweep(summary: dict, out: Path) -> Path:
    """One panel per metric, one line per policy (seed mean, 95% interval), x = the value."""
    points = [p for p in summary["points"] if p["budget_j"] is None]
    xs = [p["value"] for p in points]
    names = list(points[0]["policies"])
    fig, grid = plt.subplots(2, 2, figsize=(10, 7.5))
    axes = grid.ravel()
    for ax, (key, title) in zip(axes, _PANELS, strict=True):
        for name in names:
            ys = np.array([np.nan if p["policies"][name][key] is None else
                           p["policies"][name][key] for p in points], float)
            err = None
            if key in points[0]["ci"][name]:
                err = [p["ci"][name][key]["half_width"] for p in points]
            ax.errorbar(xs, ys, yerr=err, label=name, capsize=2,
                        **_STYLE.get(name, dict(marker=".")))
        if key == "energy_vs_budget":
            ax.axhline(1.0, color="red", lw=0.8, ls="--")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(_label(summary["sweep"]["parameter"]), fontsize=8)
        if summary["sweep"]["parameter"] in ("radio.bandwidth_hz", "v"):
            ax.set_xscale("log")
        if key in ("energy_per_task_j", "energy_vs_budget"):
            ax.set_yscale("log")
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(f"{summary['experiment']} ({len(summary['seeds'])} seeds, 95% intervals)",
                 fontsize=10)
    fig.tight_layout()
    path = out / "sweep.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_timeline(results: list[dict], out: Path, window: int = 25) -> Path | None:
    """First seed at the headline point: moving-average accuracy and mean queue per frame."""
    rows = [r for res in results for r in res["rows"]]
    if not rows:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name in dict.fromkeys(r[3] for r in rows):
        mine = [r for r in rows if r[3] == name]
        acc = np.array([r[5] for r in mine])
        queue = np.array([r[9] for r in mine])
        kernel = np.ones(min(window, acc.size)) / min(window, acc.size)
        style = {k: v for k, v in _STYLE.get(name, {}).items() if k != "marker"}
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


def plot_fronts(summary: dict, out: Path) -> Path:
    """One accuracy-energy plane per sweep value: every family's seed-mean operating points
    (filled: budgeted, hollow: unbudgeted) and its front (time-sharing hull)."""
    planes = summary["planes"]
    cols = min(len(planes), 3)
    rows = int(np.ceil(len(planes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.3 * rows), squeeze=False)
    families = sorted({family(p["policy"]) for pl in planes for p in pl["points"]},
                      key=lambda f: (f != "enachi", f == "oracle", f))
    color = {f: ("black" if f == "enachi" else "gray" if f == "oracle" else
                 _COLORS[i % len(_COLORS)]) for i, f in enumerate(families)}
    param = summary["sweep"]["parameter"] if summary["sweep"] else ""
    for ax, plane in zip(axes.ravel(), planes, strict=False):
        for f in families:
            front = plane["fronts"].get(f)
            if front is None:
                continue
            ax.plot(1e3 * np.array(front["energy_j"]), front["accuracy"], color=color[f],
                    lw=2.2 if f == "enachi" else 1.2, ls=":" if f == "oracle" else "-",
                    label=f)
            pts = [p for p in plane["points"] if family(p["policy"]) == f]
            for p in pts:
                hollow = p["policy"].endswith("_unbudgeted")
                ax.plot(1e3 * p["energy_j"], p["accuracy"], "s" if hollow else "o", ms=4,
                        color=color[f], mfc="none" if hollow else color[f])
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlabel("device energy per task (mJ)", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        value = plane["value"]
        ax.set_title(f"{_label(param)} = {value:g}" if value is not None else "", fontsize=9)
        ax.set_ylim(-0.02, 1.0)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(planes):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"{summary['experiment']}: accuracy-energy fronts ({len(summary['seeds'])} "
                 "seeds; hollow squares: unbudgeted baselines)", fontsize=10)
    fig.tight_layout()
    path = out / "fronts.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_experiment(summary: dict, results: list[dict], out: Path) -> list[Path]:
    paths = [plot_timeline(results, out)]
    if summary["planes"]:
        paths.append(plot_fronts(summary, out))
    elif summary["sweep"] and len(summary["points"]) > 1:
        paths.append(plot_sweep(summary, out))
    return [p for p in paths if p is not None]
