"""What bringup writes at the end of a run: summary.json, tasks.csv, captures.csv and plots."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from enachi_ros.tools.recording.summary import LATENCY_FIELDS, OUTCOME_KINDS, RESULT_FIELDS


def write_outputs(out: Path, summary: dict[str, Any], outcomes: list[dict[str, Any]],
                  captures: list[dict[str, Any]]) -> None:
    """summary.json, tasks.csv (one row per outcome), captures.csv and the plots."""
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    with (out / "tasks.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RESULT_FIELDS))
        writer.writeheader()
        writer.writerows(outcomes)
    with (out / "captures.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["robot_id", "stamp_ns", "label",
                                                    "sample_index"])
        writer.writeheader()
        writer.writerows(captures)
    write_plots(out, summary, outcomes)


def write_plots(out: Path, summary: dict[str, Any], outcomes: list[dict[str, Any]]) -> None:
    """accuracy_energy.png, outcomes.png, latency.png (skipped parts say why in the figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    robots = list(summary["robots"])
    per = summary["robots"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].bar(robots, [per[r]["accuracy"] or 0.0 for r in robots])
    axes[0].set_ylabel("accuracy")
    axes[0].set_ylim(0, 1)
    axes[1].bar(robots, [per[r]["energy_per_task_j"] or 0.0 for r in robots], color="tab:orange")
    axes[1].set_ylabel("device energy per task (J)")
    fig.tight_layout()
    fig.savefig(out / "accuracy_energy.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bottom = [0] * len(robots)
    for kind in OUTCOME_KINDS:
        values = [per[r]["outcomes"][kind] for r in robots]
        ax.bar(robots, values, bottom=bottom, label=kind)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("outcomes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "outcomes.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    done = [o for o in outcomes if o["outcome_kind"] not in ("dropped", "skipped")]
    if done:
        for name in LATENCY_FIELDS:
            ax.hist([1e3 * float(o[name]) for o in done], bins=40, alpha=0.5,
                    label=name.removeprefix("latency_").removesuffix("_s"))
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("tasks")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no completed tasks", ha="center", va="center")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)
