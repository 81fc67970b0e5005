"""``enachi reproduce``: run every experiment config and write ``report.md``.

The report opens with the headline table (the most stringent deadline of the deadline sweep:
ENACHI against each baseline, accuracy gain and energy reduction in percent), then one section
per experiment with the reasons for its parameters (the config's description), tables and plots,
and an automatic verdict per baseline. Hand-written analysis, if present, is appended from
``NOTES.md`` next to the configs.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from enachi_ros.sim.config import ExperimentConfig
from enachi_ros.sim.experiment import jobs_for, run_jobs, write_outputs

BASELINES = ("task_dpp", "progressive_fixed", "neurosurgeon", "edge_only", "device_only")
ABLATIONS = ("enachi_no_inner", "enachi_no_stop", "enachi_no_importance", "enachi_pacing",
             "enachi_stop_aware")
_COLS = ("accuracy", "energy_per_task_j", "deadline_met_rate", "bytes_per_task",
         "energy_vs_budget", "mean_queue", "early_stop_rate")


def _pct(new: float, old: float, base: float | None = None) -> str:
    """(new - old) / base in percent, base defaulting to old."""
    base = old if base is None else base
    return "n/a" if base == 0 else f"{100.0 * (new - old) / abs(base):+.1f}%"


def headline_table(policies: dict[str, dict]) -> list[str]:
    """ENACHI vs each other policy: accuracy gain and energy reduction in percent."""
    e = policies["enachi"]
    lines = ["| vs | accuracy ENACHI | accuracy other | accuracy gain | energy ENACHI (mJ) | "
             "energy other (mJ) | energy reduction | other within budget |",
             "|---|---|---|---|---|---|---|---|"]
    for name in (*BASELINES, *ABLATIONS, "oracle"):
        if name not in policies:
            continue
        o = policies[name]
        e_o, e_e = o["energy_per_task_j"], e["energy_per_task_j"]
        reduction = _pct(e_o, e_e, base=e_o)
        lines.append(
            f"| {name} | {e['accuracy']:.3f} | {o['accuracy']:.3f} | "
            f"{_pct(e['accuracy'], o['accuracy'])} | {1e3 * e['energy_per_task_j']:.2f} | "
            f"{1e3 * o['energy_per_task_j']:.2f} | {reduction} | "
            f"{'yes' if o['energy_vs_budget'] <= 1.05 else 'no'} ({o['energy_vs_budget']:.2f}x) |")
    return lines


def verdicts(policies: dict[str, dict], acc_tol: float = 0.005,
             energy_tol: float = 0.02) -> list[str]:
    """One line per baseline: does ENACHI beat it on accuracy, energy, both? Differences below
    ``acc_tol`` (absolute) and ``energy_tol`` (relative) count as ties."""
    e = policies["enachi"]
    out = []
    for name in BASELINES:
        if name not in policies:
            continue
        o = policies[name]
        d_acc = e["accuracy"] - o["accuracy"]
        d_energy = (o["energy_per_task_j"] - e["energy_per_task_j"]) / max(
            o["energy_per_task_j"], 1e-12)
        acc = 0 if abs(d_acc) <= acc_tol else (1 if d_acc > 0 else -1)
        energy = 0 if abs(d_energy) <= energy_tol else (1 if d_energy > 0 else -1)
        budget = (f"{o['energy_vs_budget']:.2f}x vs ENACHI {e['energy_vs_budget']:.2f}x the "
                  "budget")
        if acc >= 0 and energy >= 0:
            out.append(f"- ENACHI beats **{name}** on both accuracy and energy."
                       if acc > 0 and energy > 0 else
                       f"- ENACHI and **{name}** are level here (accuracy within "
                       f"{acc_tol:.3f}, energy within {100 * energy_tol:.0f}%)."
                       if acc == 0 and energy == 0 else
                       f"- ENACHI is at least as good as **{name}** on both (one is a tie).")
        elif acc > 0:
            out.append(f"- ENACHI is more accurate than **{name}** but spends more energy "
                       f"({budget}).")
        elif energy > 0:
            out.append(f"- **{name}** is more accurate ({o['accuracy']:.3f} vs "
                       f"{e['accuracy']:.3f}) but spends more energy ({budget}).")
        else:
            out.append(f"- **{name}** beats ENACHI on accuracy and energy here.")
    return out


def point_table(points: list[dict], param: str | None) -> list[str]:
    """Rows: policies (x each sweep value); columns: the main metrics."""
    lines = [f"| {param or 'point'} | policy | " + " | ".join(_COLS) + " |",
             "|---|---|" + "---|" * len(_COLS)]
    for p in points:
        for name, m in p["policies"].items():
            cells = " | ".join(f"{m[c]:.4g}" for c in _COLS)
            lines.append(f"| {p['value'] if p['value'] is not None else '-'} | {name} | {cells} |")
    return lines


def sweep_table(points: list[dict], param: str, key: str) -> list[str]:
    """Compact: one row per sweep value, one column per policy, the metric ``key``."""
    names = list(points[0]["policies"])
    lines = [f"| {param} | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for p in points:
        lines.append(f"| {p['value']:g} | " + " | ".join(
            f"{p['policies'][n][key]:.4g}" for n in names) + " |")
    return lines


def reproduce_all(cfgs: list[ExperimentConfig], out: Path, frames: int | None = None,
                  workers: int = 1) -> Path:
    """Run all configs (points spread over ``workers`` processes) and write report.md."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    jobs, owners = [], []
    for i, cfg in enumerate(cfgs):
        for job in jobs_for(cfg, frames):
            jobs.append(job)
            owners.append(i)
    results = run_jobs(jobs, workers)
    summaries = []
    for i, cfg in enumerate(cfgs):
        mine = [r for r, o in zip(results, owners, strict=True) if o == i]
        summaries.append(write_outputs(cfg, mine, out / cfg.name, frames))
    wall = time.perf_counter() - t0
    path = out / "report.md"
    text = _report(cfgs, summaries, wall, frames, workers=workers, out=out)
    path.write_text("\n".join(text) + "\n")
    return path


def _headline_source(summaries: list[dict]) -> tuple[dict, float | None]:
    for s in summaries:
        if s["sweep"] and s["sweep"]["parameter"] == "deadline_s":
            point = min(s["points"], key=lambda p: p["value"])
            return point["policies"], point["value"]
    return summaries[0]["policies"], None


def _report(cfgs, summaries, wall, frames, *, workers, out: Path) -> list[str]:
    head, deadline = _headline_source(summaries)
    lines = ["# ENACHI reproduction report", "",
             f"Wall time {wall:.0f} s on {os.cpu_count()} cores ({workers} workers), "
             f"{platform.platform()}; frames per point: "
             f"{frames or 'as in each config'}; seeds as in each config.", "",
             "## Headline: the most stringent deadline"
             + (f" (T_d = {1e3 * deadline:g} ms)" if deadline else ""), ""]
    if "enachi" in head:
        lines += [*headline_table(head), ""]
        lines += ["Accuracy gain = (ENACHI - other) / other; energy reduction = (other - "
                  "ENACHI) / other (device energy per task). A task that misses its deadline "
                  "counts as wrong. 'within budget': time-average energy <= 1.05 x E_bar.", ""]
        lines += [*verdicts(head), ""]
    for cfg, s in zip(cfgs, summaries, strict=True):
        lines += [f"## {cfg.name}", "", cfg.description.strip(), ""]
        if s["sweep"] and len(s["points"]) > 1:
            param = s["sweep"]["parameter"]
            lines += ["Accuracy:", "", *sweep_table(s["points"], param, "accuracy"), ""]
            lines += ["Device energy per task (J):", ""]
            lines += [*sweep_table(s["points"], param, "energy_per_task_j"), ""]
            lines += ["Time-average energy / budget:", ""]
            lines += [*sweep_table(s["points"], param, "energy_vs_budget"), ""]
            lines += [f"![{cfg.name}]({cfg.name}/sweep.png)", ""]
        lines += ["<details><summary>all metrics</summary>", ""]
        lines += point_table(s["points"], s["sweep"]["parameter"] if s["sweep"] else None)
        lines += ["", "</details>", "", f"![{cfg.name} timeline]({cfg.name}/timeline.png)", ""]
    notes = Path(__file__).resolve().parents[2] / "config" / "experiments" / "NOTES.md"
    if notes.is_file():
        lines += ["## Analysis", "", notes.read_text().strip(), ""]
    lines += [f"Raw outputs: {out}/<experiment>/summary.json, frames.csv."]
    return lines
