"""``enachi simulate`` and ``enachi reproduce`` (registered by ``add_parser``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from enachi_ros.paths import share_dir
from enachi_ros.workloads import DEFAULT_WORKLOAD, WORKLOADS


def experiments_dir() -> Path:
    """The committed experiment configs (config/experiments/<workload>/), installed or not."""
    return share_dir() / "config" / "experiments"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--frames", type=_positive, help="frames per point (shortens any experiment)")
    p.add_argument("--artifact", help="override the config's artifact (model name, dir, "
                   "or 'synthetic')")
    p.add_argument("--seeds", type=_positive, help="override the number of seeds of every config")
    p.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="worker processes for the jobs (sweep values x seeds x front points); "
                   "results do not depend on it")


def add_parser(subparsers) -> None:
    sim = subparsers.add_parser("simulate", help="simulate one experiment config",
                                description="Frame- and slot-level simulation driven by the "
                                "calibration traces; writes summary.json, frames.csv, plots.")
    sim.add_argument("--config", required=True, type=Path, help="experiment YAML")
    sim.add_argument("--seed", type=int, help="override the config's seed")
    _common(sim)
    sim.set_defaults(func=simulate)
    rep = subparsers.add_parser("reproduce", help="run every experiment and write report.md",
                                description="Runs all configs of a workload in "
                                "config/experiments/<workload> and writes a markdown report "
                                "headed by the accuracy-energy fronts.")
    rep.add_argument("--workload", choices=sorted(WORKLOADS), default=DEFAULT_WORKLOAD,
                     help="whose experiments: config/experiments/<workload> (default: "
                     "%(default)s)")
    rep.add_argument("--configs", type=Path,
                     help="directory of experiment YAML files (instead of --workload's)")
    rep.add_argument("--render", action="store_true",
                     help="no simulation: rewrite the outputs and report.md of --out from its "
                     "run.json (after changing the analysis or the plots)")
    rep.add_argument("--quick", action="store_true",
                     help="reduced run for tests: 2 seeds, 30 frames, first and last sweep "
                     "values, 3 front budgets, one V scale")
    _common(rep)
    rep.set_defaults(func=reproduce)


def _load(path: Path, args) -> object:
    from enachi_ros.sim.config import load_config

    cfg = load_config(path)
    updates = {}
    if getattr(args, "seed", None) is not None:
        updates["seed"] = args.seed
    if getattr(args, "seeds", None) is not None:
        updates["seeds"] = args.seeds
    if args.artifact:
        updates["artifact"] = args.artifact
    return cfg.model_copy(update=updates) if updates else cfg


def simulate(args) -> int:
    from enachi_ros.sim.experiment import run_experiment

    try:
        cfg = _load(args.config, args)
    except ValueError as exc:
        print(f"enachi simulate: {exc}", file=sys.stderr)
        return 2
    summary = run_experiment(cfg, args.out, args.frames, args.workers)
    _print_table(summary)
    print(f"wrote {args.out}/summary.json, frames.csv and plots")
    return 0


def reproduce(args) -> int:
    from enachi_ros.sim.report import render, reproduce_all

    if args.render:
        try:
            print(f"wrote {render(args.out)}")
        except ValueError as exc:
            print(f"enachi reproduce: {exc}", file=sys.stderr)
            return 2
        return 0

    folder = args.configs or experiments_dir() / args.workload
    try:
        configs = sorted(folder.glob("*.yaml"))
        if not configs:
            raise ValueError(f"--configs: no *.yaml in {folder}")
        cfgs = [_load(p, args) for p in configs]
    except ValueError as exc:
        print(f"enachi reproduce: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    path = reproduce_all(cfgs, args.out, args.frames, args.workers, quick=args.quick,
                         notes=folder / "NOTES.md")
    print(f"wrote {path} in {time.perf_counter() - t0:.0f} s wall time ({args.workers} workers)")
    return 0


def _print_table(summary: dict) -> None:
    keys = ("accuracy", "answered_rate", "deadline_met_rate", "energy_per_task_j",
            "bytes_per_task", "energy_vs_budget", "early_stop_rate")
    print(f"{'policy':30s}" + "".join(f"{k[:16]:>17s}" for k in keys))
    for name, m in summary["policies"].items():
        print(f"{name:30s}" + "".join(
            f"{'-':>17s}" if m[k] is None else f"{m[k]:17.4g}" for k in keys))
