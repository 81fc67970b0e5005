"""Run an experiment config (one point, a sweep, and on a front the budget x V grid, each over
several seeds) and write its outputs.

Outputs in ``DIR``: ``summary.json`` (per point: the seed-mean of every metric per policy and
the paired 95% intervals of each policy against ENACHI; on a front, the fronts and the
comparisons read off them), ``frames.csv`` (per-frame rows of the first seed) and PNG plots.
Jobs (one per sweep value, seed and front grid point) run in worker processes; each is
deterministic for its seed, so the outputs do not depend on the number of workers.
"""

from __future__ import annotations

import csv
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enachi_ros.core.policies import BASELINES, CODEC_BASELINES
from enachi_ros.sim.config import ExperimentConfig
from enachi_ros.sim.fronts import Front, compare_at, fronts_by_family
from enachi_ros.sim.simulator import load_inputs, run_point
from enachi_ros.sim.stats import mean_ci, paired

FRAME_COLUMNS = ("value", "budget_j", "v", "policy", "frame", "accuracy", "answered_rate",
                 "energy_j", "bytes", "mean_queue", "early_stop")
METRICS = ("accuracy", "answered_rate", "deadline_met_rate", "energy_per_task_j",
           "compute_per_task_j", "transmit_per_task_j", "listen_per_task_j", "base_per_task_j",
           "controlled_share", "bytes_per_task", "energy_vs_budget", "mean_queue",
           "early_stop_rate", "packets_per_task", "decision_ms")
COMPARED = ("accuracy", "answered_rate", "energy_per_task_j")
FRONT_BASELINES = ("task_dpp", *BASELINES, *CODEC_BASELINES)  # families on the fronts
OURS = ("enachi", "enachi_codec")  # ENACHI without and with the codec options


@dataclass(frozen=True)
class Job:
    """One simulation: a sweep value, a seed, and on a front a budget and a V scale."""

    cfg: ExperimentConfig
    value: float | None
    seed: int
    budget_j: float | None
    v_scale: float | None
    policies: tuple[str, ...]
    frames: int | None
    keep_rows: bool


def run_job(job: Job) -> dict:
    """Simulate one job -> per-policy summaries (and per-frame rows when asked)."""
    point = job.cfg.point(job.value, job.seed, job.budget_j, job.v_scale)
    point = point.model_copy(update={"policies": list(job.policies)})
    splits, traces = load_inputs(point)
    t0 = time.perf_counter()
    stats = run_point(point, splits, traces, job.frames)
    rows = [(job.value, job.budget_j, point.effective_v, name, *r)
            for name, s in stats.items() for r in s.rows] if job.keep_rows else []
    return {"value": job.value, "seed": job.seed, "budget_j": job.budget_j,
            "v_scale": job.v_scale, "v": point.effective_v,
            "policies": {n: s.summary() for n, s in stats.items()},
            "rows": rows, "wall_s": time.perf_counter() - t0}


def run_jobs(jobs: list[Job], workers: int = 1) -> list[dict]:
    """Run jobs, in parallel when ``workers > 1``; results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        return [run_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_job, jobs, chunksize=1))


def jobs_for(cfg: ExperimentConfig, frames: int | None = None) -> list[Job]:
    """Every job of ``cfg``. On a front, budgeted policies run on the budget x V grid and the
    unbudgeted ones once per sweep value and seed (they read neither). Every sweep value's
    physics is checked here (ValueError naming the field), before any job runs: a bad value
    must not surface in a worker after an hour of simulation."""
    values = list(cfg.sweep.values) if cfg.sweep else [None]
    for value in values:
        point = cfg.at(cfg.sweep.parameter if cfg.sweep else None, value)
        point.radio.params(), point.device.params(), point.channel.params()
    first = cfg.seed_list[0]
    headline = _headline_value(cfg)
    jobs = []
    for value in values:
        for seed in cfg.seed_list:
            if cfg.front is None:
                jobs.append(Job(cfg, value, seed, None, None, tuple(cfg.policies), frames,
                                seed == first))
                continue
            budgeted = tuple(p for p in cfg.policies if not p.endswith("_unbudgeted"))
            free = tuple(p for p in cfg.policies if p.endswith("_unbudgeted"))
            for budget in cfg.front.budgets_j:
                for v_scale in cfg.front.v_scales:
                    keep = (seed == first and value == headline
                            and v_scale == cfg.front.v_scales[0])
                    jobs.append(Job(cfg, value, seed, budget, v_scale, budgeted, frames, keep))
            if free:
                jobs.append(Job(cfg, value, seed, None, None, free, frames, False))
    return jobs


def _headline_value(cfg: ExperimentConfig) -> float | None:
    if not cfg.sweep:
        return None
    return cfg.sweep.headline if cfg.sweep.headline is not None else cfg.sweep.values[0]


def aggregate(cfg: ExperimentConfig, results: list[dict]) -> list[dict]:
    """Group job results into points (value, budget, V): seed means and paired intervals of
    every policy against ENACHI (common random numbers make the per-seed difference the
    paired sample)."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["value"], r["budget_j"], r["v_scale"]), []).append(r)
    points = []
    for (value, budget, v_scale), group in groups.items():
        rs = sorted(group, key=lambda r: r["seed"])
        names = list(rs[0]["policies"])
        per_seed = {n: [r["policies"][n] for r in rs] for n in names}
        mean = {n: {m: _mean([s[m] for s in per_seed[n]]) for m in METRICS} for n in names}
        for n in names:
            mean[n]["unanswered"] = {k: int(sum(s["unanswered"][k] for s in per_seed[n]))
                                     for k in per_seed[n][0]["unanswered"]}
            mean[n]["tasks"] = int(sum(s["tasks"] for s in per_seed[n]))
            mean[n]["split_share"] = {k: _mean([s["split_share"].get(k, 0.0)
                                                for s in per_seed[n]])
                                      for k in per_seed[n][0]["split_share"]}
        ci = {n: {m: mean_ci([_nan(s[m]) for s in per_seed[n]]).as_dict() for m in COMPARED}
              for n in names}
        vs = {}
        if "enachi" in per_seed:
            ours = per_seed["enachi"]
            vs = {n: {m: paired([_nan(s[m]) for s in ours], [_nan(s[m]) for s in per_seed[n]]
                                ).as_dict() for m in COMPARED}
                  for n in names if n != "enachi"}
        points.append({"value": value, "budget_j": budget, "v_scale": v_scale,
                       "v": rs[0]["v"] if budget is not None else None,
                       "seeds": [r["seed"] for r in rs], "policies": mean, "ci": ci,
                       "enachi_minus": vs, "wall_s": sum(r["wall_s"] for r in rs)})
    return points


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def front_planes(cfg: ExperimentConfig, results: list[dict]) -> list[dict]:
    """Per sweep value: every policy family's front (seed-mean operating points) and the
    comparisons at each budget of the grid as reference energy."""
    planes = []
    values = list(cfg.sweep.values) if cfg.sweep else [None]
    for value in values:
        mine = [r for r in results if r["value"] == value]
        by_seed: dict[int, list[tuple[str, float, float]]] = {}
        for r in mine:
            for name, s in r["policies"].items():
                by_seed.setdefault(r["seed"], []).append(
                    (name, s["energy_per_task_j"], s["accuracy"] or 0.0))
        seeds = sorted(by_seed)
        mean_points: dict[tuple, list] = {}
        for r in mine:
            for name, s in r["policies"].items():
                mean_points.setdefault((name, r["budget_j"], r["v_scale"]), []).append(
                    (s["energy_per_task_j"], s["accuracy"] or 0.0))
        points = [(k[0], float(np.mean([e for e, _ in v])), float(np.mean([a for _, a in v])))
                  for k, v in mean_points.items()]
        fronts = fronts_by_family(points)
        baselines = tuple(b for b in FRONT_BASELINES if b in fronts)
        planes.append({
            "value": value,
            "points": [{"policy": p, "energy_j": e, "accuracy": a} for p, e, a in points],
            "fronts": {k: _front_dict(f) for k, f in fronts.items()},
            "compare": {ours: compare_at([by_seed[s] for s in seeds], list(cfg.front.budgets_j),
                                         baselines, ours)
                        for ours in OURS if ours in fronts},
        })
    return planes


def _front_dict(f: Front) -> dict:
    return {"energy_j": f.energy.tolist(), "accuracy": f.accuracy.tolist()}


def write_outputs(cfg: ExperimentConfig, results: list[dict], out: Path,
                  frames: int | None = None) -> dict:
    """Write summary.json, frames.csv and the plots; returns the summary."""
    from enachi_ros.sim.plots import plot_experiment

    out.mkdir(parents=True, exist_ok=True)
    points = aggregate(cfg, results)
    headline = _headline_value(cfg)
    head = next((p for p in points if p["value"] == headline), points[0])
    summary = {
        "experiment": cfg.name,
        "description": cfg.description,
        "frames": frames or cfg.frames,
        "seeds": cfg.seed_list,
        "sweep": cfg.sweep.model_dump() if cfg.sweep else None,
        "front": cfg.front.model_dump() if cfg.front else None,
        "headline_value": headline,
        "policies": head["policies"],
        "points": points,
        "planes": front_planes(cfg, results) if cfg.front else None,
        "wall_s": sum(r["wall_s"] for r in results),
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
    """Simulate every job of ``cfg`` and write the outputs into ``out``."""
    return write_outputs(cfg, run_jobs(jobs_for(cfg, frames), workers), out, frames)
