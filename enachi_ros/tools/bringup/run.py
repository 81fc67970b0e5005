"""One bringup run: plan, start (edge first), record, stop capture, drain, stop, write.

The launch file is evaluated into NodeSpecs (``enachi_ros.tools.launch_eval``), so what runs here
is what ``ros2 launch`` runs on a robot. A recorder node inside this process counts captured
frames and outcomes live, and at the end the run is written to ``--out``: summary.json,
tasks.csv, plots and an MCAP recording.

Start and stop go through the nodes' lifecycles (``startup.py``): every process starts, then the
transitions the launch file drives run round by round (edge and heads active before any camera).
Shutdown order matters for "every captured frame has exactly one outcome": the cameras are
deactivated first, in-flight frames get a grace period to finish, then every process group gets
SIGINT and its nodes shut down (``processes.stop``).
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from enachi_ros.tools.bringup.display import Progress
from enachi_ros.tools.bringup.errors import BringupError
from enachi_ros.tools.bringup.outputs import write_outputs
from enachi_ros.tools.bringup.plan import (
    Group,
    build_commands,
    group_specs,
    launch_arguments,
    plan_specs,
    robot_base,
    robot_ids_of,
    ros_environment,
)
from enachi_ros.tools.bringup.processes import (
    STOP_TIMEOUTS_S,
    Proc,
    check,
    inject,
    log_tail,
    parse_kills,
    start,
    stop,
)
from enachi_ros.tools.bringup.startup import close_open_tasks, drive, stop_capture
from enachi_ros.tools.lifecycle_client import LifecycleClient
from enachi_ros.tools.recording.summary import summarize


@dataclass
class RunResult:
    summary: dict[str, Any]
    out: Path
    failures: list[str]


def run(args: argparse.Namespace) -> RunResult:
    """The whole bringup: plan, start, record, stop, write. Raises BringupError on bad input."""
    launch = args.launch or _default_launch()
    arguments = launch_arguments(args)
    specs = plan_specs(Path(launch), arguments, args.nodes, args.max_frames)
    if not specs:
        raise BringupError("nothing to start: the launch file produced no nodes")
    if args.duration < 0:
        raise BringupError(f"--duration: expected >= 0 seconds, got {args.duration}")
    out = Path(args.out or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    groups = group_specs(specs, args.processes)
    env = {**os.environ, **ros_environment(args.domain_id)}
    build_commands(groups, out / "specs", env)
    robot_ids = robot_ids_of(specs)
    config = {
        "launch": str(launch), "launch_arguments": arguments, "processes": args.processes,
        "duration_s": args.duration, "grace_s": args.grace, "nodes": [s.fqn for s in specs],
        "ros_domain_id": env["ROS_DOMAIN_ID"], "robot_ids": robot_ids,
        "groups": {g.name: [s.fqn for s in g.specs] for g in groups},
        "parameters": {s.fqn: {"files": s.parameter_files, "inline": s.parameters} for s in specs},
        "robot_base": robot_base(specs),
    }
    # This process joins the same domain and DDS profile as the nodes it records.
    os.environ.update({k: v for k, v in groups[0].environment.items()
                       if k.startswith(("ROS_", "FASTDDS_", "RMW_"))})
    return _record(args, groups, robot_ids, config, out)


def _default_launch() -> Path:
    from enachi_ros.paths import share_dir

    return share_dir() / "launch" / "demo.launch.py"


def _record(args: argparse.Namespace, groups: list[Group], robot_ids: list[str],
            config: dict[str, Any], out: Path) -> RunResult:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from enachi_ros.tools.recording.mcap_log import McapLog
    from enachi_ros.tools.recording.recorder import RecorderNode

    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    mcap = McapLog(out / "recording.mcap")
    recorder = RecorderNode(robot_ids, log=mcap.write, record_features=args.record_features,
                             context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(recorder)
    progress = Progress(robot_ids, live=not (args.no_live or args.quiet), quiet=args.quiet)
    failures: list[str] = []
    kills = parse_kills(args.kill, [g.name for g in groups])
    config["injected_faults"] = [f"{name}@{at:g}s" for name, at in kills]
    procs: list[Proc] = []
    started = time.monotonic()
    usage: dict[str, dict[str, float]] = {}
    try:
        procs += start(groups, out / "logs")
        manager = LifecycleClient(recorder, executor)
        t0 = time.monotonic()
        failures += drive([s for g in groups for s in g.specs], manager, recorder,
                          lambda: all(p.popen.poll() is None for p in procs), progress.note)
        progress.note(f"fleet up after {time.monotonic() - t0:.1f} s" if not failures else
                      "the fleet did not come up")
        started = time.monotonic()
        with progress:
            end = started + args.duration if args.duration > 0 else float("inf")
            if failures:
                end = started
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.05)
                kills = inject(kills, procs, time.monotonic() - started, progress)
                check(procs, failures, progress)
                progress.update(recorder, time.monotonic() - started)
                if failures:  # a node that cannot run makes the run meaningless: stop now
                    break
            usage = {p.group.name: p.usage() for p in procs}
            capture_s = time.monotonic() - started
            progress.note("stopping capture")
            stop_capture([s for g in groups for s in g.specs], manager)
            _drain(recorder, executor, args.grace)
            close_open_tasks([s for g in groups for s in g.specs], manager)
            _drain(recorder, executor, 1.0)
            progress.update(recorder, time.monotonic() - started, force=True)
    except KeyboardInterrupt:
        capture_s = time.monotonic() - started
        failures.append("interrupted by the user (Ctrl-C)")
    finally:
        stop(procs)
        for p in procs:
            if p.popen.returncode not in (0, -signal.SIGINT, None) and p.failed_at is None:
                why = (f" (did not exit within {STOP_TIMEOUTS_S[0]:g} s of SIGINT; thread "
                       "stacks in its log)" if p.stop_signal not in ("", "SIGINT") else "")
                failures.append(f"{p.group.name} exited with {p.popen.returncode} on stop{why}; "
                                f"log {p.log}:\n{log_tail(p.log, 30)}")
        config["stop"] = {p.group.name: {"signal": p.stop_signal, "exit_s": p.exit_s,
                                         "returncode": p.popen.returncode} for p in procs}
        mcap.close()
        executor.shutdown()
        recorder.destroy_node()
        context.try_shutdown()
    config["processes_usage"] = usage
    config["mcap_messages"] = mcap.messages
    config["mcap_errors"] = mcap.errors
    config["failures"] = failures
    summary = summarize(recorder.outcomes, recorder.captures, robot_ids, config, capture_s,
                        diagnostics=recorder.diagnostics)
    write_outputs(out, summary, recorder.outcomes, recorder.captures)
    if not args.quiet:
        progress.final(summary, out)
    return RunResult(summary, out, failures)


def _drain(recorder: Any, executor: Any, grace: float) -> None:
    """Spin until every captured frame has an outcome, or ``grace`` seconds passed."""
    end = time.monotonic() + grace
    settle = time.monotonic() + min(0.3, grace)  # capture records still in flight
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
        if time.monotonic() > settle:
            seen = {(o["robot_id"], o["capture_stamp_ns"]) for o in recorder.outcomes}
            if all((c["robot_id"], c["stamp_ns"]) in seen for c in recorder.captures) and \
                    recorder.outcomes:
                break
