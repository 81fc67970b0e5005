"""``enachi bench pipeline``: the whole ROS 2 pipeline at 1, 3 and 8 robots on this host.

Each robot count is one short ``enachi bringup`` run (same launch files, same recorder). From its
outcomes: the per-task latency breakdown (capture, head, air, tail, total from the
InferenceResult latency fields), the middleware overhead (total minus compute minus emulated air
time: what ROS 2 hand-offs and queueing add) and the sustained frame rate (outcomes per second),
plus the CPU and peak memory of the processes, which is what limits robot count on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from enachi_ros.workloads import DEFAULT_WORKLOAD, WORKLOADS


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pipeline", help="end-to-end ROS 2 pipeline at 1/3/8 robots",
                                   description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robots", default="1,3,8", help="robot counts, comma-separated")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per robot count")
    parser.add_argument("--processes", choices=("per-robot", "per-node"), default="per-robot")
    parser.add_argument("--policy", default="enachi")
    parser.add_argument("--workload", default=DEFAULT_WORKLOAD, choices=tuple(WORKLOADS))
    parser.add_argument("--source", default=None, help="camera source (default: the workload's)")
    parser.add_argument("--frame-rate", type=float, default=None, help="camera Hz per robot")
    parser.add_argument("--nodes", default="", help="only these node names (e.g. camera)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_pipeline"))


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise SystemExit(f"enachi bench pipeline: --robots: expected counts >= 1 like 1,3,8, "
                         f"got {text!r}")
    return counts


def bringup_args(args: argparse.Namespace, robots: int) -> argparse.Namespace:
    """The bringup options of one robot count (parsed, so bringup's defaults apply)."""
    from enachi_ros.tools.bringup.cli import add_arguments as bringup_arguments

    parser = argparse.ArgumentParser()
    bringup_arguments(parser)
    argv = ["--robots", str(robots), "--policy", args.policy, "--workload", args.workload,
            "--duration", str(args.duration), "--processes", args.processes,
            "--dds-profile", "dev", "--out", str(args.out / f"robots-{robots}"), "--quiet"]
    if args.source is not None:
        argv += ["--source", args.source]
    if args.frame_rate is not None:
        argv += ["--frame-rate", str(args.frame_rate)]
    if args.nodes:
        argv += ["--nodes", args.nodes]
    ns = parser.parse_args(argv)
    ns.command = "bench pipeline"
    return ns


def row(robots: int, summary: dict[str, Any]) -> dict[str, Any]:
    """One robot count's figures from its bringup summary."""
    lat = summary["latency_s"]["total"]
    usage = summary["config"].get("processes_usage", {})
    rate = summary.get("outcomes_per_s")
    return {
        "robots": robots,
        "frames_captured": summary["total"]["frames_captured"],
        "outcomes": sum(summary["total"]["outcomes"].values()),
        "outcomes_per_s": rate,
        "outcomes_per_s_per_robot": rate / robots if rate is not None else None,
        "frames_without_outcome": summary["total"]["frames_without_outcome"],
        "latency_mean_s": {k.removeprefix("latency_").removesuffix("_s"): v["mean"]
                           for k, v in lat.items()},
        "latency_p95_total_s": lat["latency_total_s"]["p95"],
        "processes": len(usage),
        "cpu_s": sum(u.get("cpu_s", 0.0) for u in usage.values()),
        "peak_rss_mib": sum(u.get("peak_rss_mib", 0.0) for u in usage.values()),
        "failures": summary["config"].get("failures", []),
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1e3 * value:.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pipeline: mean latency per task (ms), rate and cost")
    for col in ("robots", "capture", "head", "air", "tail", "total", "p95 total", "middleware",
                "outcomes/s", "per robot", "no outcome", "procs", "CPU s", "RSS MiB"):
        table.add_column(col, justify="right")
    for r in rows:
        m = r["latency_mean_s"]
        table.add_row(
            str(r["robots"]), _ms(m["capture"]), _ms(m["head"]), _ms(m["air"]), _ms(m["tail"]),
            _ms(m["total"]), _ms(r["latency_p95_total_s"]), _ms(m["middleware"]),
            _rate(r["outcomes_per_s"]), _rate(r["outcomes_per_s_per_robot"]),
            str(r["frames_without_outcome"]), str(r["processes"]), f"{r['cpu_s']:.1f}",
            f"{r['peak_rss_mib']:.0f}")
    Console(width=140).print(table)


def run(args: argparse.Namespace) -> int:
    from enachi_ros.tools.bringup.errors import BringupError
    from enachi_ros.tools.bringup.run import run as bringup_run

    rows = []
    for robots in _counts(args.robots):
        print(f"bench pipeline: {robots} robot(s), {args.duration:.0f} s ...", flush=True)
        try:
            result = bringup_run(bringup_args(args, robots))
        except BringupError as exc:
            print(f"enachi bench pipeline: error: {exc}")
            return 2
        rows.append(row(robots, result.summary))
        for text in result.failures:
            print("  problem: " + text.splitlines()[0])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(rows, indent=2) + "\n")
    print_table(rows)
    print(f"written to {args.out / 'bench.json'} (per-run folders beside it)")
    return 1 if any(r["failures"] for r in rows) else 0
