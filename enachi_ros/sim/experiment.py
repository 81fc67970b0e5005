"""Run an experiment config (one point or a sweep) and write its outputs.

Outputs in ``DIR``: ``summary.json`` (per point and policy: accuracy, energy_per_task_j,
deadline_met_rate, bytes_per_task, energy_vs_budget, mean_queue, early_stop_rate, ...; the
top-level ``policies`` holds the headline point), ``frames.csv`` (one row per point, policy and
frame) and PNG plots. Points run in worker processes (``workers``); each point is deterministic
for the config's seed, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import csv
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from enachi_ros.sim.config import ExperimentConfig
from enachi_ros.sim.simulator import load_inputs, run_point

FRAME_COLUMNS = ("value", "policy", "frame", "accuracy", "energy_j", "deadline_met",
                 "bytes", "mean_queue", "early_stop")


def _point_values(cfg: ExperimentConfig) -> list[float | None]:
    return list(cfg.sweep.values) if cfg.sweep else [None]


def run_job(job: tuple[ExperimentConfig, float | None, int | None]) -> dict:
    """One point: ``(config, sweep value, frames)`` -> summaries and per-frame rows."""
    cfg, value, frames = job
    point_cfg = cfg.at(cfg.sweep.parameter if cfg.sweep else None, value)
    splits, traces = load_inputs(point_cfg)
    t0 = time.perf_counter()
    stats = run_point(point_cfg, splits, traces, frames)
    rows = [(value, name, *r) for name, s in stats.items() for r in s.rows]
    return {"value": value, "policies": {n: s.summary() for n, s in stats.items()},
            "rows": rows, "wall_s": time.perf_counter() - t0}


def run_jobs(jobs: list, workers: int = 1) -> list[dict]:
    """Run point jobs, in parallel when ``workers > 1``; results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        return [run_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_job, jobs))


def jobs_for(cfg: ExperimentConfig, frames: int | None = None) -> list:
    return [(cfg, v, frames) for v in _point_values(cfg)]


def write_outputs(cfg: ExperimentConfig, results: list[dict], out: Path,
                  frames: int | None = None) -> dict:
    """Write summary.json, frames.csv and the plots; returns the summary."""
    from enachi_ros.sim.plots import plot_experiment

    out.mkdir(parents=True, exist_ok=True)
    headline = cfg.sweep.headline if cfg.sweep and cfg.sweep.headline is not None else \
        results[0]["value"]
    head = next((r for r in results if r["value"] == headline), results[0])
    summary = {
        "experiment": cfg.name,
        "description": cfg.description,
        "frames": frames or cfg.frames,
        "seed": cfg.seed,
        "sweep": cfg.sweep.model_dump() if cfg.sweep else None,
        "headline_value": head["value"],
        "policies": head["policies"],
        "points": [{"value": r["value"], "policies": r["policies"], "wall_s": r["wall_s"]}
                   for r in results],
        "config": cfg.model_dump(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    with (out / "frames.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FRAME_COLUMNS)
        for r in results:
            writer.writerows(r["rows"])
    plot_experiment(summary, results, out)
    return summary


def run_experiment(cfg: ExperimentConfig, out: Path, frames: int | None = None,
                   workers: int = 1) -> dict:
    """Simulate every point of ``cfg`` and write the outputs into ``out``."""
    return write_outputs(cfg, run_jobs(jobs_for(cfg, frames), workers), out, frames)
