"""``enachi bench scheduler``: ENACHI's decision time and plan quality, side by side with the
solver of an earlier commit, and simulator throughput.

The comparison runs the earlier solver (by default the price-bisection solver this project had
before the knapsack, commit ``LEGACY_REF``) from a git worktree of that commit in a subprocess,
on the very same frame states (channel gains, queues, deadline, channel width) of the camera
workload's Wi-Fi 6 regime, each solver with its own artifact and physics as it was committed;
both plans are then valued by today's planner (``core.solver.plan_outcome``: MCS rates, the
radio's draw), so the table says what each allocation is worth on the corrected model: units
handed out, robots served, and the P1.1 objective; both solvers are timed in the same run on
the same machine. Decision time is also timed for 10 and 100 robots (W scaled with N).
Throughput is simulated tasks per second of ``run_point``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LEGACY_REF = "1082ee6"  # the last commit with the price-bisection solver (issue 18 replaced it)
ROOT = Path(__file__).resolve().parents[3]
SCARCE = ((5, 9), (8, 9), (10, 9), (20, 9), (5, 4))  # (robots, 26-tone units) at T_d 33 ms

# The earlier commit's side: its own solver, artifact and physics (the Shannon rate, radiated
# power only), fed the same states; prints its plans as JSON.
_LEGACY_SCRIPT = r"""
import json, sys, time
import numpy as np
from enachi_ros.core.artifact import default_artifact_dir, load_artifact
from enachi_ros.core.params import DeviceParams, RadioParams
from enachi_ros.core.solver import solve_outer
from enachi_ros.core.split_table import SplitTable
states = json.load(open(sys.argv[1]))
art = load_artifact(default_artifact_dir("lite0_frames"))
splits = SplitTable.from_profile(art.profile, DeviceParams(1.3, 4.0, 24.0))
out = []
for s in states:
    radio = RadioParams(bandwidth_hz=s["bandwidth_hz"], noise_psd_w_per_hz=s["noise_psd"],
                        slot_s=1e-3, p_max_w=0.1, decode_snr_db=2.0, residual_loss=0.01,
                        feedback_s=1e-3, granularity_hz=2.03125e6)
    g, q = np.array(s["gains"]), np.array(s["queues"])
    times = []
    for _ in range(s["repeats"]):
        t0 = time.perf_counter()
        sol = solve_outer(g, q, s["v"], s["bandwidth_hz"], splits, radio=radio,
                          deadline_s=s["deadline_s"], allowed=splits.network,
                          energy_scale_j=s["budget_j"])
        times.append(time.perf_counter() - t0)
    out.append({"split": sol.split.tolist(), "bandwidth_hz": sol.bandwidth_hz.tolist(),
                "p_ref": sol.p_ref.tolist(), "run": sol.run.tolist(),
                "ms": 1e3 * float(np.median(times))})
print(json.dumps(out))
"""


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("scheduler", help="decision time and plan quality (vs an earlier "
                              "solver) and simulator tasks/s")
    p.add_argument("--baseline-ref", default=LEGACY_REF,
                   help=f"git commit whose solver to compare with (default {LEGACY_REF}); "
                   "'' skips the comparison")
    p.add_argument("--repeats", type=int, default=10, help="timed solves per state")
    p.add_argument("--frames", type=int, default=60, help="frames of the throughput run")
    p.set_defaults(func=run)


def camera_regime():
    """The camera experiments' physics (config/experiments/camera: Wi-Fi 6, Pi 5, GPU edge)."""
    from enachi_ros.sim.config import load_config
    from enachi_ros.tools.cli.sim import experiments_dir

    return load_config(experiments_dir() / "camera" / "robots_sweep.yaml")


def frame_states(cfg, repeats: int) -> list[dict]:
    """Frame states of the scarce-channel cases (at Q = 0 and at random queues), and the
    timing cases of 10 and 100 robots on a channel widened with the fleet."""
    from enachi_ros.core.channel import path_gain

    rng = np.random.default_rng(0)
    radio = cfg.radio.params()
    states = []
    cases = [(n, u, qs) for n, u in SCARCE for qs in (0.0, 1.0)]
    cases += [(n, None, 1.0) for n in (10, 100)]
    for n, units, qscale in cases:
        width = units * radio.granularity_hz if units else 20e6 * n / 5
        width = 20e6 if units == 9 else width
        gains = path_gain(rng.uniform(*cfg.robots.distance_m, n), cfg.channel.params())
        gains = gains * rng.exponential(1.0, n)
        queues = qscale * rng.uniform(0.0, 20.0 * cfg.robots.budget_j, n)
        states.append({"robots": n, "units": units, "qscale": qscale, "gains": gains.tolist(),
                       "queues": queues.tolist(), "bandwidth_hz": float(width),
                       "deadline_s": 0.033, "v": cfg.effective_v,
                       "budget_j": cfg.robots.budget_j,
                       "noise_psd": radio.noise_psd_w_per_hz, "repeats": repeats})
    return states


def legacy_plans(ref: str, states: list[dict]) -> list[dict] | None:
    """The earlier commit's plans and times for ``states`` (None when git or the commit is not
    available: a clone without history)."""
    with tempfile.TemporaryDirectory(prefix="enachi_legacy_") as tmp:
        tree = Path(tmp) / "tree"
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                               ref], check=False, capture_output=True, text=True)
        if made.returncode != 0:
            print(f"(no comparison: git worktree of {ref!r} failed: {made.stderr.strip()})")
            return None
        try:
            path = Path(tmp) / "states.json"
            path.write_text(json.dumps(states))
            env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
            done = subprocess.run([sys.executable, "-c", _LEGACY_SCRIPT, str(path)], cwd=tree,
                                  env=env, check=False, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode != 0:
                print(f"(no comparison: the {ref} solver failed: {done.stderr[-2000:]})")
                return None
            return json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)


def value(plan: dict, state: dict, cfg, splits) -> tuple[float, int, int, float]:
    """(objective, units held, robots transmitting, mean planned accuracy) of a plan on
    today's planning model."""
    from enachi_ros.core.deadline import window_slots
    from enachi_ros.core.solver import objective, plan_outcome

    radio = cfg.radio.params()
    n = len(state["gains"])
    split = np.asarray(plan["split"], int)
    run = np.asarray(plan["run"], bool)
    w = np.asarray(plan["bandwidth_hz"], float)
    slots = window_slots(np.full(n, state["deadline_s"]), splits, radio.slot_s, radio.feedback_s)
    window = slots[np.arange(n), split] * radio.slot_s
    acc, energy, _ = plan_outcome(split, w, np.asarray(plan["p_ref"], float),
                                  np.asarray(state["gains"]), window, splits=splits, radio=radio)
    acc, energy = np.where(run, acc, 0.0), np.where(run, energy, 0.0)
    tx = run & splits.transmits[split] & (w > 0)
    units = int(np.round(w / radio.granularity_hz).sum())
    return (objective(acc, energy, np.asarray(state["queues"]), state["v"]), units,
            int(tx.sum()), float(acc.mean()))


def new_plans(states: list[dict], cfg, splits) -> list[dict]:
    from dataclasses import replace

    from enachi_ros.core.solver import solve_outer

    radio = cfg.radio.params()
    out = []
    for s in states:
        r = replace(radio, bandwidth_hz=s["bandwidth_hz"])
        times = []
        for _ in range(s["repeats"]):
            t0 = time.perf_counter()
            sol = solve_outer(np.array(s["gains"]), np.array(s["queues"]), s["v"],
                              s["bandwidth_hz"], splits, radio=r, deadline_s=s["deadline_s"],
                              allowed=splits.network, energy_scale_j=s["budget_j"])
            times.append(time.perf_counter() - t0)
        out.append({"split": sol.split.tolist(), "bandwidth_hz": sol.bandwidth_hz.tolist(),
                    "p_ref": sol.p_ref.tolist(), "run": sol.run.tolist(),
                    "ms": 1e3 * float(np.median(times))})
    return out


def run(args: argparse.Namespace) -> int:
    from enachi_ros.sim.simulator import load_inputs, run_point

    cfg = camera_regime()
    splits, traces = load_inputs(cfg)
    states = frame_states(cfg, args.repeats)
    ours = new_plans(states, cfg, splits)
    theirs = legacy_plans(args.baseline_ref, states) if args.baseline_ref else None
    print("ENACHI's outer solver on the camera workload's Wi-Fi 6 regime (T_d 33 ms), plans "
          "valued by today's planning model; old = commit "
          f"{args.baseline_ref or '-'} (price bisection), new = the unit knapsack:")
    print(f"{'robots':>6} {'units':>5} {'queues':>6} | {'objective old':>13} {'new':>8} | "
          f"{'units old':>9} {'new':>4} | {'sending old':>11} {'new':>4} | "
          f"{'ms old':>7} {'new':>7}")
    for i, s in enumerate(states):
        new = value(ours[i], s, cfg, splits)
        old = value(theirs[i], s, cfg, splits) if theirs else (float("nan"), -1, -1, 0.0)
        units = s["units"] or round(s["bandwidth_hz"] / cfg.radio.granularity_hz)
        queues = "0" if s["qscale"] == 0 else "random"
        old_ms = f"{theirs[i]['ms']:7.2f}" if theirs else "      -"
        print(f"{s['robots']:6d} {units:5d} {queues:>6} | {old[0]:13.4f} {new[0]:8.4f} | "
              f"{old[1]:9d} {new[1]:4d} | {old[2]:11d} {new[2]:4d} | {old_ms} "
              f"{ours[i]['ms']:7.2f}")
    for policies in (["enachi"], ["enachi", "task_dpp", "edge_jpeg", "edge_webp"]):
        c = cfg.model_copy(update={"policies": policies})
        t0 = time.perf_counter()
        run_point(c, splits, traces, args.frames)
        wall = time.perf_counter() - t0
        tasks = args.frames * c.robots.count * len(policies)
        print(f"simulator: {tasks / wall:8.0f} tasks/s ({len(policies)} policies x "
              f"{c.robots.count} robots x {args.frames} frames in {wall:.1f} s)")
    return 0
