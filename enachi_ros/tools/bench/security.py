"""``enachi bench security``: what the secured mode costs, signed against plain, in one run.

A child process publishes the two signed message types the fleet sends most (a
SchedulerDecisionArray for ``--robots`` robots, an EnergyReport) at ``--rate`` per second, in
blocks of ``--messages``, plain and signed alternately (``--rounds`` rounds, so drift and the
other load of the machine fall on both alike); this process receives them. Signed messages go
through the code the nodes run (``ros.auth``: ``SignedPublisher``, ``guard_subscription``, i.e.
sign, raw take, verify, deserialize), with a keystore made for the run.

Printed per type and mode: messages received, latency from the publisher's call (its wall
clock, stamped before signing) to the receiver's callback (p50, p95), CPU per message of the
publisher and of the receiver (process CPU time over each block, idle included), bytes on the
wire; then the secured mode's extra CPU and latency per message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODES = ("plain", "signed")
TYPES = ("SchedulerDecisionArray", "EnergyReport")


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("security", help="cost of security:=true: latency and CPU per "
                              "message, signed vs plain")
    p.add_argument("--messages", type=int, default=200, help="messages per block")
    p.add_argument("--rate", type=float, default=200.0, help="messages per second in a block")
    p.add_argument("--rounds", type=int, default=5, help="plain/signed rounds per type")
    p.add_argument("--robots", type=int, default=3, help="decisions per SchedulerDecisionArray")
    p.add_argument("--domain-id", type=int, default=None,
                   help="ROS_DOMAIN_ID (default: 101..200 from the pid)")
    p.add_argument("--keystore", type=Path, default=None, help=argparse.SUPPRESS)  # the child's
    p.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)  # the child
    p.set_defaults(func=run)


def _topic(kind: str, mode: str) -> str:
    """The fleet's names when signed (the permissions are checked), elsewhere when plain."""
    from enachi_ros.ros import topics

    name = topics.DECISIONS if kind == TYPES[0] else topics.robot_topic("robot1", topics.ENERGY)
    return name if mode == "signed" else "/bench_plain" + name


def _message(kind: str, robots: int) -> Any:
    from enachi_interfaces.msg import EnergyReport, SchedulerDecision, SchedulerDecisionArray

    if kind == "EnergyReport":
        return EnergyReport(robot_id="robot1", task_id=1, compute_energy_j=0.002,
                            total_energy_j=0.002, packets_sent=81, bytes_sent=72000)
    return SchedulerDecisionArray(policy="enachi", frame_period_s=0.5, decisions=[
        SchedulerDecision(robot_id=f"robot{i + 1}", policy="enachi", model_name="lite0_frames",
                          split_name="raw", power_law="tracking", bits=8, deadline_s=0.2,
                          slot_s=0.005, window_slots=40) for i in range(robots)])


def _publish(args: argparse.Namespace) -> int:
    """Child: publish every block, print the CPU seconds each took (JSON, one line)."""
    import rclpy

    from enachi_ros.ros import qos
    from enachi_ros.ros.auth import Authenticator, SignedPublisher
    from enachi_ros.ros.keystore import load_fleet

    rclpy.init()
    cpu: dict[str, float] = {}
    try:
        node = rclpy.create_node("bench_security_publisher")
        signers = {TYPES[0]: "/enachi/edge", TYPES[1]: "/enachi/robot1"}
        pubs = {}
        for kind in TYPES:
            for mode in MODES:
                pub = node.create_publisher(_message(kind, 1).__class__, _topic(kind, mode),
                                            qos.report_qos())
                if mode == "signed":
                    pub = SignedPublisher(pub, Authenticator(load_fleet(args.keystore,
                                                                        signers[kind])))
                pubs[kind, mode] = pub
        deadline = time.monotonic() + 30.0
        while (min(p.get_subscription_count() for p in pubs.values()) < 1
               and time.monotonic() < deadline):
            time.sleep(0.05)
        time.sleep(1.0)  # discovery settles both ways
        period = 1.0 / args.rate
        for r in range(args.rounds):
            for kind in TYPES:
                for mode in MODES if r % 2 == 0 else MODES[::-1]:
                    msg, pub = _message(kind, args.robots), pubs[kind, mode]
                    start, t_next = time.process_time(), time.monotonic()
                    for i in range(args.messages):
                        msg.header.frame_id = f"{kind}:{mode}:{r}:{i}"
                        now = time.time_ns()
                        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 10**9)
                        pub.publish(msg)
                        t_next += period
                        time.sleep(max(0.0, t_next - time.monotonic()))
                    key = f"{kind}:{mode}"
                    cpu[key] = cpu.get(key, 0.0) + time.process_time() - start
                    time.sleep(0.3)  # the receiver drains the block
        print(json.dumps(cpu), flush=True)
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.publish:
        return _publish(args)
    for name in ("messages", "rounds", "robots"):
        if getattr(args, name) < 1:
            raise SystemExit(f"enachi bench security: --{name}: expected >= 1, got "
                             f"{getattr(args, name)}")
    if not args.rate > 0:
        raise SystemExit(f"enachi bench security: --rate: expected > 0, got {args.rate}")
    from enachi_ros.tools.security.create import create_keystore

    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(args.domain_id if args.domain_id is not None
                               else 101 + os.getpid() % 100)
    os.environ.update({k: env[k] for k in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_DOMAIN_ID")})
    with tempfile.TemporaryDirectory(prefix="enachi-bench-keystore-") as keystore:
        create_keystore(keystore, ["robot1"])
        child = subprocess.Popen(
            [sys.executable, "-m", "enachi_ros.tools.cli", "bench", "security", "--publish",
             "--keystore", keystore, "--messages", str(args.messages), "--rate",
             str(args.rate), "--rounds", str(args.rounds), "--robots", str(args.robots)],
            env=env, stdout=subprocess.PIPE, text=True)
        try:
            received, cpu_in = _receive(args, Path(keystore), int(env["ROS_DOMAIN_ID"]), child)
        finally:
            out, _ = child.communicate(timeout=120)
        sizes = _sizes(args, Path(keystore))
    cpu_out = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    _report(args, received, cpu_in, cpu_out, sizes)
    return 0


def _sizes(args: argparse.Namespace, keystore: Path) -> dict[str, int]:
    """Bytes of each type's serialization, plain and signed."""
    from rclpy.serialization import serialize_message

    from enachi_ros.ros.auth import Authenticator
    from enachi_ros.ros.keystore import EDGE_ENCLAVE, load_fleet

    signer = Authenticator(load_fleet(keystore, EDGE_ENCLAVE))
    out = {}
    for kind in TYPES:
        out[f"{kind}:plain"] = len(serialize_message(_message(kind, args.robots)))
        out[f"{kind}:signed"] = len(signer.sign(_message(kind, args.robots),
                                                _topic(kind, "signed"), 1, 1))
    return out


def _receive(args: argparse.Namespace, keystore: Path, domain_id: int,
             child: subprocess.Popen) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per ``type:mode``: latencies (s), and this process's CPU seconds from each message to
    the next one of the same block (so start-up and the pauses between blocks count nowhere)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from enachi_ros.ros import qos
    from enachi_ros.ros.auth import Authenticator, guard_subscription
    from enachi_ros.ros.keystore import load_fleet

    latencies: dict[str, list[float]] = {f"{k}:{m}": [] for k in TYPES for m in MODES}
    cpu: dict[str, list[float]] = {key: [] for key in latencies}  # CPU s between messages
    last = ["", 0.0]  # the previous message's block and CPU time
    expected = args.messages * args.rounds * len(TYPES) * len(MODES)
    receivers = {TYPES[0]: "/enachi/robot1", TYPES[1]: "/enachi/edge"}

    def on_message(msg: Any) -> None:
        now = time.time_ns()
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        key = msg.header.frame_id.rsplit(":", 2)[0]
        latencies[key].append((now - stamp) * 1e-9)
        t = time.process_time()  # the CPU since the previous message of the same block
        if key == last[0]:
            cpu[key].append(t - last[1])
        last[:] = [key, t]

    def reject(topic: str, error: Exception, _what: str) -> None:
        raise RuntimeError(f"bench: a signed message was rejected on {topic}: {error}")

    rclpy.init()
    try:
        node = rclpy.create_node("bench_security_receiver")
        for kind in TYPES:
            msg_type = _message(kind, 1).__class__
            for mode in MODES:
                topic = _topic(kind, mode)
                callback, raw = on_message, False
                if mode == "signed":
                    authenticator = Authenticator(load_fleet(keystore, receivers[kind]),
                                                  domain_id=domain_id)
                    callback, raw = guard_subscription(authenticator, msg_type, topic,
                                                       on_message, reject)
                node.create_subscription(msg_type, topic, callback, qos.report_qos(), raw=raw)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        end = time.monotonic() + 60.0 + expected / args.rate * 1.5
        while time.monotonic() < end and child.poll() is None:
            executor.spin_once(timeout_sec=0.1)
            if sum(map(len, latencies.values())) >= expected:
                break
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return latencies, cpu


def _report(args: argparse.Namespace, received: dict[str, list[float]],
            cpu_in: dict[str, list[float]], cpu_out: dict[str, float],
            sizes: dict[str, int]) -> None:
    import numpy as np

    sent = args.messages * args.rounds
    print(f"signed vs plain: {args.rounds} rounds of {args.messages} messages per type and mode "
          f"at {args.rate:g}/s, one publisher process, one receiving process (loopback); "
          f"SchedulerDecisionArray of {args.robots} decisions")
    print(f"{'message':24s}{'mode':>7s}{'received':>10s}{'lat p50 us':>12s}{'lat p95 us':>12s}"
          f"{'pub CPU us':>12s}{'sub CPU us':>12s}{'bytes':>7s}")
    rows = {}
    for kind in TYPES:
        for mode in MODES:
            key = f"{kind}:{mode}"
            lat = np.asarray(received[key]) * 1e6
            n = len(lat)
            p50, p95 = (np.percentile(lat, 50), np.percentile(lat, 95)) if n else (np.nan,) * 2
            pub = cpu_out.get(key, np.nan) / sent * 1e6
            sub = float(np.mean(cpu_in[key])) * 1e6 if cpu_in[key] else np.nan
            size = sizes[key]
            rows[key] = (p50, p95, pub, sub)
            print(f"{kind:24s}{mode:>7s}{n:>6d}/{sent:<3d}{p50:12.0f}{p95:12.0f}{pub:12.0f}"
                  f"{sub:12.0f}{size:7d}")
    for kind in TYPES:
        (p50a, p95a, puba, suba), (p50b, p95b, pubb, subb) = (rows[f"{kind}:{m}"] for m in MODES)
        print(f"{kind}: signed costs {pubb - puba:+.0f} us CPU to publish, "
              f"{subb - suba:+.0f} us CPU to receive, {p50b - p50a:+.0f} us latency at the "
              f"median, {p95b - p95a:+.0f} us at p95")
