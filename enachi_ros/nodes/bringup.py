"""``enachi bringup`` / ``enachi demo``: run the launch configuration without ``ros2 launch``.

The launch file is evaluated into NodeSpecs (``enachi_ros.launch_eval``), so what runs here is
what ``ros2 launch`` runs on a robot. Each spec runs either in its own process
(``--processes per-node``: ``<venv>/bin/<executable> --ros-args ...``) or grouped per namespace
(``per-robot``, the default: one process per robot/edge running its node classes on one
SingleThreadedExecutor, see ``group.py``; lighter on 2 cores). A recorder node inside this
process counts captured frames and outcomes live, and at the end the run is written to
``--out``: summary.json, tasks.csv, plots and an MCAP recording.

Shutdown order matters for "every captured frame has exactly one outcome": capture is stopped
first (the cameras' ``enabled`` parameter), in-flight frames get a grace period to finish, then
every process group gets SIGINT, then SIGTERM, then SIGKILL (children run in their own sessions,
so nothing is orphaned).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from enachi_ros.launch_eval import NodeSpec
from enachi_ros.nodes.recorder import OUTCOME_KINDS, RESULT_FIELDS, summarize
from enachi_ros.workloads import DEFAULT_WORKLOAD, WORKLOADS

DEMO_DEFAULTS = {"robots": 3, "policy": "enachi", "duration": 60.0}
# stop(): seconds to wait after SIGINT, SIGTERM, SIGKILL. A node exits on SIGINT in well under a
# second when idle, but 9 interpreters tearing down DDS at once on a busy 2-core machine take
# longer; ros2 launch waits 5 s before SIGTERM (sigterm_timeout), we allow more.
STOP_TIMEOUTS_S = (15.0, 5.0, 2.0)
EDGE_WAIT_S = 60.0  # the longest bringup waits for the edge's heartbeat before the robots
# Convenience flags -> launch argument names (passed only when given).
FLAG_ARGS = {"robots": "robots", "policy": "policy", "source": "source",
             "frame_rate": "frame_rate", "dds_profile": "dds_profile", "workload": "workload"}
PROCESS_MODES = ("per-robot", "per-node")


class BringupError(RuntimeError):
    """A configuration problem reported to the user as one clear line (no traceback)."""


# ----------------------------------------------------------------------------- CLI
def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bringup`` and ``demo`` (the same runner, demo defaults for the latter)."""
    for name, text in (
        ("bringup", "run a launch file's nodes without ros2 launch, record and summarize"),
        ("demo", "single-host fleet demo: edge + 3 robots, labelled camera frames and "
                 "EfficientNet-Lite0 over emulated Wi-Fi 6, 60 s"),
    ):
        parser = subparsers.add_parser(name, help=text, description=text)
        add_arguments(parser, demo=name == "demo")
        parser.set_defaults(func=main)


def add_arguments(parser: argparse.ArgumentParser, demo: bool = False) -> None:
    d = DEMO_DEFAULTS
    parser.add_argument("--launch", type=Path, default=None,
                        help="launch file to evaluate (default: launch/demo.launch.py)")
    parser.add_argument("--arg", action="append", default=[], metavar="K=V",
                        help="launch argument, repeatable (as `ros2 launch ... k:=v`)")
    parser.add_argument("--robots", type=int, default=d["robots"] if demo else None,
                        help="launch argument robots (number of robots)")
    parser.add_argument("--policy", default=d["policy"] if demo else None,
                        help="launch argument policy (scheduling policy)")
    parser.add_argument("--workload", default=None, choices=tuple(WORKLOADS),
                        help=f"launch argument workload (default {DEFAULT_WORKLOAD}; camera: "
                        "160 px frames and EfficientNet-Lite0; fmnist: the small 28x28 case)")
    parser.add_argument("--source", default=None,
                        help="launch argument source (camera source of every robot; default: "
                        "the workload's)")
    parser.add_argument("--frame-rate", type=float, default=None,
                        help="launch argument frame_rate (camera Hz)")
    parser.add_argument("--dds-profile", default="dev" if demo else None,
                        help="launch argument dds_profile: dev | radio | system")
    parser.add_argument("--duration", type=float, default=d["duration"] if demo else 30.0,
                        help="seconds of capture (0: until Ctrl-C)")
    parser.add_argument("--processes", choices=PROCESS_MODES, default="per-robot",
                        help="one process per namespace (default) or per node")
    parser.add_argument("--nodes", default="",
                        help="only start these node names, comma-separated (e.g. camera)")
    parser.add_argument("--max-frames", type=int, default=0,
                        help="camera max_frames of every robot (0 = unlimited)")
    parser.add_argument("--grace", type=float, default=2.0,
                        help="seconds to let in-flight frames finish after capture stops")
    parser.add_argument("--domain-id", type=int, default=None,
                        help="ROS_DOMAIN_ID (default: $ROS_DOMAIN_ID, else 1..100 from the pid)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default runs/<timestamp>)")
    parser.add_argument("--record-features", action="store_true",
                        help="also record feature packets in the MCAP file")
    parser.add_argument("--kill", action="append", default=[], metavar="GROUP@SECONDS",
                        help="fault injection: SIGKILL process GROUP (e.g. edge.tail with "
                        "--processes per-node, or edge) SECONDS after start; repeatable")
    parser.add_argument("--no-live", action="store_true", help="no live table; progress lines")
    parser.add_argument("--quiet", action="store_true", help="no progress and no final table")


def launch_arguments(args: argparse.Namespace) -> dict[str, str]:
    """``--arg k=v`` plus the convenience flags that were given (flags win)."""
    out: dict[str, str] = {}
    for item in args.arg:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BringupError(f"--arg: expected K=V, got {item!r}")
        out[key.strip()] = value.strip()
    for attr, name in FLAG_ARGS.items():
        value = getattr(args, attr, None)
        if value is not None:
            out[name] = str(value)
    return out


# ----------------------------------------------------------------------------- planning
@dataclass
class Group:
    """One process to start: its name, specs and command."""

    name: str
    specs: list[NodeSpec]
    command: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


def plan_specs(launch: Path, arguments: dict[str, str], nodes: str = "",
               max_frames: int = 0) -> list[NodeSpec]:
    """Evaluate the launch file, filter ``--nodes``, check every executable exists."""
    from enachi_ros.launch_eval import evaluate
    from enachi_ros.nodes.group import MissingNodeError, check_executable

    if not launch.is_file():
        raise BringupError(f"--launch: launch file {launch} does not exist")
    try:
        specs = evaluate(launch, arguments)
    except ValueError as exc:
        raise BringupError(str(exc)) from None
    if nodes:
        wanted = {n.strip() for n in nodes.split(",") if n.strip()}
        unknown = wanted - {s.name for s in specs}
        if unknown:
            raise BringupError(f"--nodes: no node named {sorted(unknown)} in {launch.name}; "
                               f"nodes: {sorted({s.name for s in specs})}")
        specs = [s for s in specs if s.name in wanted]
    missing = []
    for executable in dict.fromkeys(s.executable for s in specs):
        try:
            check_executable(executable)
        except MissingNodeError as exc:
            missing.append(str(exc))
    if missing:
        raise BringupError("cannot start: " + "; ".join(missing)
                           + " (start fewer nodes with --nodes, e.g. --nodes camera)")
    for spec in specs:
        if spec.name == "camera":  # bringup knows the graph: wait for this robot's head
            has_head = any(s.name == "head" and s.namespace == spec.namespace for s in specs)
            spec.parameters["wait_for_subscribers"] = 1 if has_head else 0
            # the recorder (this process) and the head (it pairs labels) read ground truth
            spec.parameters["wait_for_truth_subscribers"] = 2 if has_head else 1
            if max_frames:
                spec.parameters["max_frames"] = max_frames
    return specs


def group_specs(specs: list[NodeSpec], mode: str) -> list[Group]:
    """Per-node: one group per spec; per-robot: one group per namespace, in launch order."""
    if mode not in PROCESS_MODES:
        raise BringupError(f"--processes: expected one of {PROCESS_MODES}, got {mode!r}")
    if mode == "per-node":
        return [Group(s.fqn.strip("/").replace("/", "."), [s]) for s in specs]
    groups: dict[str, Group] = {}
    for spec in specs:
        key = spec.namespace.strip("/") or "root"
        groups.setdefault(key, Group(key, [])).specs.append(spec)
    return list(groups.values())


def robot_ids_of(specs: list[NodeSpec]) -> list[str]:
    """Namespaces that run a camera: the robots whose frames are counted."""
    return list(dict.fromkeys(s.namespace.strip("/") for s in specs if s.name == "camera"))


def ros_environment(domain_id: int | None) -> dict[str, str]:
    """Loopback discovery and a domain of this run, unless the user set them already."""
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE":
           os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")}
    if domain_id is not None:
        if not 0 <= domain_id <= 101:
            raise BringupError(f"--domain-id: expected 0..101, got {domain_id}")
        env["ROS_DOMAIN_ID"] = str(domain_id)
    else:
        env["ROS_DOMAIN_ID"] = os.environ.get("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
    return env


def _script(executable: str) -> str:
    local = Path(sys.executable).parent / executable
    return str(local) if local.exists() else (shutil.which(executable) or executable)


def build_commands(groups: list[Group], spec_dir: Path, base_env: dict[str, str]) -> None:
    """Fill each group's command and environment (spec JSON files go to ``spec_dir``)."""
    from enachi_ros.nodes.group import specs_to_json

    spec_dir.mkdir(parents=True, exist_ok=True)
    for g in groups:
        g.environment = {**base_env}
        for spec in g.specs:
            g.environment.update(spec.environment)
        if len(g.specs) == 1 and g.name != g.specs[0].namespace.strip("/"):
            spec = g.specs[0]
            g.command = [_script(spec.executable), *spec.ros_args()]
        else:
            path = spec_dir / f"{g.name}.json"
            path.write_text(specs_to_json(g.specs))
            g.command = [sys.executable, "-m", "enachi_ros.nodes.group", "--spec-json", str(path)]


# ----------------------------------------------------------------------------- processes
@dataclass
class Proc:
    group: Group
    popen: subprocess.Popen
    log: Path
    failed_at: float | None = None
    stop_signal: str = ""  # the last signal stop() sent ("" if it had exited before)
    exit_s: float | None = None  # seconds from the first stop signal to its exit

    def usage(self) -> dict[str, float]:
        """Peak RSS (MiB) and CPU seconds so far, from /proc (empty if gone)."""
        try:
            status = Path(f"/proc/{self.popen.pid}/status").read_text()
            stat = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return {}
        hwm = next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM")), 0)
        ticks = os.sysconf("SC_CLK_TCK")
        return {"peak_rss_mib": hwm / 1024, "cpu_s": (int(stat[11]) + int(stat[12])) / ticks}


def start(groups: list[Group], log_dir: Path) -> list[Proc]:
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for g in groups:
        log = log_dir / f"{g.name}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(g.command, env=g.environment, stdout=handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(Proc(g, popen, log))
    return procs


def start_edge_first(groups: list[Group], log_dir: Path, recorder: Any, executor: Any,
                     progress: Any, procs: list[Proc], timeout_s: float = EDGE_WAIT_S) -> None:
    """Start the processes of the edge namespace, wait (at most ``timeout_s``) for the edge's
    heartbeat, then start the robots: the edge loads and traces its model for several seconds
    (the camera model: ~10 s here), and robots started with it would run their first frames
    on the device-only fallback, at ~1 J each for a cold model on a Pi 5 class CPU. Robots
    without an edge, or an edge without robots, start at once. Each process is appended to
    ``procs`` as it starts, so an interrupted wait still stops what was started."""
    from std_msgs.msg import Header

    from enachi_ros.nodes import qos, topics

    edge = [g for g in groups if all(s.namespace.strip("/") == "edge" for s in g.specs)]
    rest = [g for g in groups if g not in edge]
    if not edge or not rest:
        procs += start(groups, log_dir)
        return
    heard: list[float] = []
    sub = recorder.create_subscription(Header, topics.EDGE_ALIVE,
                                       lambda _m: heard.append(time.monotonic()),
                                       qos.heartbeat_qos())
    procs += start(edge, log_dir)
    t0 = time.monotonic()
    while (not heard and time.monotonic() - t0 < timeout_s
           and all(p.popen.poll() is None for p in procs)):
        executor.spin_once(timeout_sec=0.05)
    recorder.destroy_subscription(sub)
    progress.note(f"edge up after {time.monotonic() - t0:.1f} s" if heard else
                  f"no edge heartbeat within {timeout_s:g} s: starting the robots anyway")
    procs += start(rest, log_dir)


def stop(procs: list[Proc], timeouts: tuple[float, float, float] = STOP_TIMEOUTS_S) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to each process group, waiting between steps.

    Before escalating past SIGINT, stragglers get SIGUSR1: the nodes register faulthandler on it
    (``spin.py``), so their log shows every thread's Python stack at the moment they hung.
    Each Proc records how long it took to exit (``exit_s``) and which signal ended it.
    """
    began = time.monotonic()
    for sig, timeout in zip((signal.SIGINT, signal.SIGTERM, signal.SIGKILL), timeouts,
                            strict=True):
        alive = [p for p in procs if p.popen.poll() is None]
        if not alive:
            break
        if sig != signal.SIGINT:
            for p in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.popen.pid, signal.SIGUSR1)
            time.sleep(0.2)  # let faulthandler write before the processes are ended
        for p in alive:
            p.stop_signal = sig.name
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.popen.pid, sig)
        end = time.monotonic() + timeout
        while time.monotonic() < end and any(p.popen.poll() is None for p in alive):
            for p in alive:
                if p.exit_s is None and p.popen.poll() is not None:
                    p.exit_s = time.monotonic() - began
            time.sleep(0.05)
    for p in procs:  # reap the process-group leaders' stragglers too
        if p.exit_s is None and p.popen.poll() is not None and p.stop_signal:
            p.exit_s = time.monotonic() - began
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------- the run
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

    from enachi_ros.nodes.mcap_log import McapLog
    from enachi_ros.nodes.recorder import make_recorder

    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    mcap = McapLog(out / "recording.mcap")
    recorder = make_recorder(robot_ids, log=mcap.write, record_features=args.record_features,
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
        start_edge_first(groups, out / "logs", recorder, executor, progress, procs)
        started = time.monotonic()
        with progress:
            end = started + args.duration if args.duration > 0 else float("inf")
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.05)
                kills = _inject(kills, procs, time.monotonic() - started, progress)
                _check(procs, failures, progress)
                progress.update(recorder, time.monotonic() - started)
                if failures:  # a node that cannot run makes the run meaningless: stop now
                    break
            usage = {p.group.name: p.usage() for p in procs}
            capture_s = time.monotonic() - started
            progress.note("stopping capture")
            _stop_cameras(recorder, executor, groups)
            _drain(recorder, executor, args.grace)
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
    summary = summarize(recorder.outcomes, recorder.captures, robot_ids, config, capture_s)
    write_outputs(out, summary, recorder.outcomes, recorder.captures)
    if not args.quiet:
        progress.final(summary, out)
    return RunResult(summary, out, failures)


def parse_kills(items: list[str], group_names: list[str]) -> list[tuple[str, float]]:
    """``GROUP@SECONDS`` items -> sorted (group, seconds); unknown groups are refused."""
    kills = []
    for item in items:
        name, sep, at = item.partition("@")
        try:
            seconds = float(at)
        except ValueError:
            seconds = -1.0
        if not sep or seconds < 0:
            raise BringupError(f"--kill: expected GROUP@SECONDS, got {item!r}")
        if name not in group_names:
            raise BringupError(f"--kill: no process group {name!r}; groups: {group_names}")
        kills.append((name, seconds))
    return sorted(kills, key=lambda k: k[1])


def _inject(kills: list[tuple[str, float]], procs: list[Proc], elapsed: float,
            progress: Any) -> list[tuple[str, float]]:
    """Kill the groups whose time has come; an injected death is not a failure."""
    while kills and kills[0][1] <= elapsed:
        name, _ = kills.pop(0)
        for p in procs:
            if p.group.name == name and p.popen.poll() is None:
                os.killpg(p.popen.pid, signal.SIGKILL)
                p.popen.wait(timeout=5)
                p.failed_at = time.monotonic()  # expected: _check and stop() leave it alone
                progress.note(f"fault injected: killed {name} at {elapsed:.1f} s")
    return kills


def _check(procs: list[Proc], failures: list[str], progress: Any) -> None:
    for p in procs:
        if p.failed_at is None and p.popen.poll() is not None:
            p.failed_at = time.monotonic()
            text = f"process {p.group.name} exited early with {p.popen.returncode}; log {p.log}"
            failures.append(text + "\n" + log_tail(p.log))
            progress.note(text + "\n" + log_tail(p.log))


def _stop_cameras(recorder: Any, executor: Any, groups: list[Group]) -> None:
    """Set ``enabled=false`` on every camera (best effort, bounded wait)."""
    from rclpy.parameter import Parameter
    from rclpy.parameter_client import AsyncParameterClient

    futures = []
    for g in groups:
        for spec in g.specs:
            if spec.name == "camera":
                client = AsyncParameterClient(recorder, spec.fqn)
                if client.services_are_ready() or client.wait_for_services(timeout_sec=0.5):
                    futures.append(client.set_parameters([Parameter("enabled", value=False)]))
    end = time.monotonic() + 2.0
    while time.monotonic() < end and not all(f.done() for f in futures):
        executor.spin_once(timeout_sec=0.05)


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


# ----------------------------------------------------------------------------- outputs
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


# ----------------------------------------------------------------------------- display
class Progress:
    """Live per-robot table (rich) while running; plain lines when not a terminal."""

    def __init__(self, robot_ids: list[str], live: bool, quiet: bool) -> None:
        from rich.console import Console

        self.robot_ids, self.quiet = robot_ids, quiet
        self.console = Console(stderr=True)
        self.live_enabled = live and self.console.is_terminal
        self._live: Any = None
        self._last = 0.0

    def __enter__(self) -> Progress:
        if self.live_enabled:
            from rich.live import Live

            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[bold]bringup:[/bold] {text}", highlight=False)

    def update(self, recorder: Any, elapsed: float, force: bool = False) -> None:
        now = time.monotonic()
        period = 0.5 if self._live is not None else 5.0
        if self.quiet or (not force and now - self._last < period):
            return
        self._last = now
        summary = summarize(recorder.outcomes, recorder.captures, self.robot_ids)
        table = summary_table(summary, f"t = {elapsed:5.1f} s")
        if self._live is not None:
            self._live.update(table)
        else:
            t = summary["total"]
            self.console.print(
                f"t={elapsed:5.1f}s frames={t['frames_captured']} "
                f"outcomes={sum(t['outcomes'].values())} accuracy={_fmt(t['accuracy'])}",
                highlight=False)

    def final(self, summary: dict[str, Any], out: Path) -> None:
        from rich.console import Console

        console = Console(width=max(110, shutil.get_terminal_size().columns))
        console.print(summary_table(summary, "run summary"))
        lat = summary["latency_s"]["total"]
        console.print(
            f"latency mean: total {_fmt(lat['latency_total_s']['mean'], 4)} s, middleware "
            f"{_fmt(lat['middleware_s']['mean'], 4)} s; outcomes/s "
            f"{_fmt(summary['outcomes_per_s'], 2)}; written to {out}", highlight=False)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_table(summary: dict[str, Any], title: str) -> Any:
    """A rich Table: one row per robot plus the total."""
    from rich.table import Table

    table = Table(title=title)
    short = {"edge_early_stop": "early stop", "edge_deadline": "edge dl", "local_fallback":
             "local", "dropped": "dropped", "skipped": "skipped"}
    for col in ("robot", "frames", *(short[k] for k in OUTCOME_KINDS), "acc", "answered",
                "J/task", "dl met", "no outc", "dup"):
        table.add_column(col, justify="left" if col == "robot" else "right")
    rows = [*summary["robots"].items(), ("total", summary["total"])]
    for name, s in rows:
        table.add_row(
            name, str(s["frames_captured"]), *(str(s["outcomes"][k]) for k in OUTCOME_KINDS),
            _fmt(s["accuracy"]), _fmt(s["answered_rate"]), _fmt(s["energy_per_task_j"], 4),
            _fmt(s["deadline_met_rate"]),
            str(s["frames_without_outcome"]), str(s["duplicate_outcomes"]),
            style="bold" if name == "total" else None)
    return table


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

    from enachi_ros.nodes.recorder import LATENCY_FIELDS

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


def main(args: argparse.Namespace) -> int:
    try:
        result = run(args)
    except BringupError as exc:
        print(f"enachi {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if result.failures:
        print(f"enachi {args.command}: {len(result.failures)} problem(s):", file=sys.stderr)
        for text in result.failures:
            print("  " + text.replace("\n", "\n    "), file=sys.stderr)
        return 1
    return 0


__all__ = ["OUTCOME_KINDS", "BringupError", "add_parser", "main", "run"]
