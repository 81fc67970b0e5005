"""``enachi bench scheduler``: ENACHI decision time per frame and simulator throughput.

Decision time is what the scheduler node pays once per frame (``policy.decide``: outer DPP
solver + decision arrays) for 10, 100 and 1000 robots with random channels and queues; the
target is < 5 ms at 100 robots. Throughput is simulated tasks per second of ``run_point`` (all
policies, batched slot loop), which bounds how long ``enachi reproduce`` takes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("scheduler", help="decision time per frame and simulator tasks/s")
    p.add_argument("--artifact", default="fmnist_resnet",
                   help="model name, artifact directory or 'synthetic'")
    p.add_argument("--robots", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--repeats", type=int, default=30, help="frames timed per size")
    p.add_argument("--frames", type=int, default=100, help="frames of the throughput run")
    p.set_defaults(func=run)


def _artifact_spec(spec: str) -> str:
    from enachi_ros.sim.simulator import resolve_artifact

    try:
        resolve_artifact(spec)
        return spec
    except FileNotFoundError:
        print(f"(artifact {spec!r} not found; using the synthetic artifact)")
        return "synthetic"


def decision_times(cfg, splits, sizes, repeats: int) -> list[tuple[int, float, float]]:
    """(robots, median ms, p95 ms) of ``Enachi.decide`` on random frames."""
    from enachi_ros.core.channel import path_gain
    from enachi_ros.core.policies import FrameState, make_policy

    radio = cfg.radio.params()
    rng = np.random.default_rng(0)
    out = []
    for n in sizes:
        policy = make_policy("enachi", v=cfg.effective_v)
        gains = path_gain(rng.uniform(*cfg.robots.distance_m, n), cfg.channel.params())
        times = []
        for _ in range(max(3, repeats if n <= 100 else repeats // 3)):
            queues = rng.uniform(0.0, 20.0 * cfg.robots.budget_j, n)  # the experiments' scale
            state = FrameState(gains * rng.exponential(1.0, n), queues,
                               np.full(n, cfg.robots.budget_j), cfg.deadline_s,
                               radio.bandwidth_hz * n / cfg.robots.count, splits, radio)
            t0 = time.perf_counter()
            policy.decide(state)
            times.append(time.perf_counter() - t0)
        out.append((n, 1e3 * float(np.median(times)), 1e3 * float(np.percentile(times, 95))))
    return out


def run(args: argparse.Namespace) -> int:
    from enachi_ros.sim.config import load_config
    from enachi_ros.sim.simulator import load_inputs, run_point
    from enachi_ros.tools.cli.sim import experiments_dir

    base = load_config(experiments_dir() / "fmnist" / "bandwidth_sweep.yaml")  # fmnist regime
    cfg = base.at(None, None).model_copy(update={
        "artifact": _artifact_spec(args.artifact), "deadline_s": 0.02, "sweep": None,
        "robots": base.robots.model_copy(update={"count": 10})})
    splits, traces = load_inputs(cfg)
    print(f"ENACHI decision time per frame (artifact {cfg.artifact}, W scaled with N):")
    print(f"{'robots':>8} {'median ms':>10} {'p95 ms':>8}")
    for n, med, p95 in decision_times(cfg, splits, args.robots, args.repeats):
        flag = "  (target < 5 ms)" if n == 100 else ""
        print(f"{n:8d} {med:10.2f} {p95:8.2f}{flag}")
    for policies in (["enachi"], list(cfg.policies)):
        c = cfg.model_copy(update={"policies": policies})
        t0 = time.perf_counter()
        run_point(c, splits, traces, args.frames)
        wall = time.perf_counter() - t0
        tasks = args.frames * c.robots.count * len(policies)
        print(f"simulator: {tasks / wall:8.0f} tasks/s ({len(policies)} policies x "
              f"{c.robots.count} robots x {args.frames} frames in {wall:.1f} s)")
    return 0
