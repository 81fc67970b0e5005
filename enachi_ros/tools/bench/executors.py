"""``enachi bench executors``: how fast a node process takes a burst of feature packets, with
rclpy's SingleThreadedExecutor and with the EventsExecutor the nodes use (``nodes.spin``).

A child process publishes ``--packets`` FeaturePackets of ``--bytes`` bytes as fast as it can
(a camera-workload task is 81-112 such packets per robot); this process receives them in a node
shaped like the edge process (two nodes, ten subscriptions, four timers), once per executor, on
loopback in a ROS domain of its own. Printed per executor: packets received, seconds from the
first to the last, packets per second, and the ratio of the nodes' executor to
SingleThreadedExecutor.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TOPIC = "/bench/features"


def add_bench_parser(subparsers) -> None:
    p = subparsers.add_parser("executors", help="feature-packet intake per rclpy executor")
    p.add_argument("--packets", type=int, default=4000, help="packets per burst")
    p.add_argument("--bytes", type=int, default=960, help="payload bytes per packet")
    p.add_argument("--domain-id", type=int, default=None,
                   help="ROS_DOMAIN_ID (default: 101..200 from the pid)")
    p.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)  # the child
    p.set_defaults(func=run)


def _packet(payload: int):
    from enachi_interfaces.msg import FeaturePacket

    m = FeaturePacket(packet_count=81, bits=8, row_start=0, row_count=max(payload // 160, 1))
    m.shape, m.channels, m.scale, m.zero_point = [3, 160, 160], [0], [0.01], [0.0]
    m.data = bytes(payload)
    return m


def _publish(packets: int, payload: int) -> int:
    """Child: wait for the receiver, publish one burst per executor, report nothing."""
    import rclpy
    from rclpy.node import Node

    from enachi_ros.ros import qos

    rclpy.init()  # not ``with``: rclpy.init() returns no context manager on Jazzy
    try:
        node = Node("bench_publisher")
        pub = node.create_publisher(type(_packet(1)), TOPIC, qos.feature_qos(packets, 60.0))
        msg = _packet(payload)
        for _ in range(2):  # one burst per executor
            deadline = time.monotonic() + 30.0
            while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # discovery settles both ways
            for _ in range(packets):
                pub.publish(msg)
            while pub.get_subscription_count() > 0 and time.monotonic() < deadline + 60.0:
                time.sleep(0.05)  # the receiver drops its nodes before the next executor
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return 0


def _receive(kind: str, packets: int) -> tuple[str, int, float]:
    """One executor: (its class, packets received, seconds from the first to the last)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from std_msgs.msg import Header

    from enachi_ros.ros import qos
    from enachi_ros.ros.spin import make_executor

    got: list[float] = []
    rclpy.init()
    try:
        nodes = [Node("bench_edge_like"), Node("bench_other")]
        nodes[0].create_subscription(type(_packet(1)), TOPIC,
                                     lambda _m: got.append(time.perf_counter()),
                                     qos.feature_qos(packets, 60.0))
        for node in nodes:  # the edge process: more subscriptions and timers than the packets'
            for i in range(4):
                node.create_subscription(Header, f"/bench/other{i}", lambda _m: None, 10)
            for _ in range(2):
                node.create_timer(0.2, lambda: None)
        executor = SingleThreadedExecutor() if kind == "single_threaded" else make_executor()
        name = type(executor).__name__
        for node in nodes:
            executor.add_node(node)
        end = time.monotonic() + 60.0
        while time.monotonic() < end and len(got) < packets:
            executor.spin_once(timeout_sec=0.1)
            if got and time.perf_counter() - got[-1] > 5.0:
                break  # the burst is over (best effort: some may be lost)
        for node in nodes:
            node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return name, len(got), (got[-1] - got[0]) if len(got) > 1 else 0.0


def run(args: argparse.Namespace) -> int:
    if args.publish:
        return _publish(args.packets, args.bytes)
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(args.domain_id if args.domain_id is not None
                               else 101 + os.getpid() % 100)
    os.environ.update({k: env[k] for k in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_DOMAIN_ID")})
    child = subprocess.Popen([sys.executable, "-m", "enachi_ros.tools.cli", "bench", "executors",
                              "--publish", "--packets", str(args.packets), "--bytes",
                              str(args.bytes)], env=env)
    rows = []
    try:
        for kind in ("single_threaded", "nodes"):
            rows.append(_receive(kind, args.packets))
    finally:
        child.wait(timeout=120)
    print(f"burst of {args.packets} FeaturePackets of {args.bytes} B, one publisher process, "
          "one receiving process shaped like the edge's")
    print(f"{'executor':26s}{'received':>10s}{'seconds':>10s}{'packets/s':>12s}")
    for name, n, seconds in rows:
        rate = n / seconds if seconds > 0 else float("nan")
        print(f"{name:26s}{n:10d}{seconds:10.3f}{rate:12.0f}")
    (a, n0, s0), (b, n1, s1) = rows
    if s0 > 0 and s1 > 0:
        print(f"intake rate {b} / {a}: {(n1 / s1) / (n0 / s0):.1f}x")
    return 0
