"""Every custom message survives a real publish/subscribe between two processes over DDS."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")
from msg_fill import ENACHI_MESSAGES, fill, message_class  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from ros_env import apply_to_this_process, isolated_ros_env  # noqa: E402

HERE = Path(__file__).resolve().parent


def test_fill_sets_non_default_values() -> None:
    for name in ENACHI_MESSAGES:
        cls = message_class("enachi_interfaces", name)
        assert fill(cls) != cls(), name


def test_every_message_round_trips_between_processes() -> None:
    apply_to_this_process()
    child = subprocess.Popen(
        [sys.executable, str(HERE / "_publish_all_msgs.py"), "40"],
        env=isolated_ros_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    received: dict[str, object] = {}
    rclpy.init()
    try:
        node = rclpy.create_node("roundtrip_subscriber")
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        for name in ENACHI_MESSAGES:
            cls = message_class("enachi_interfaces", name)
            node.create_subscription(
                cls, f"rt/{name}", lambda m, n=name: received.setdefault(n, m), qos
            )
        deadline = time.monotonic() + 30
        while len(received) < len(ENACHI_MESSAGES) and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
        node.destroy_node()
    finally:
        rclpy.shutdown()
        child.terminate()
        out = child.communicate(timeout=10)[0].decode(errors="replace")
    missing = sorted(set(ENACHI_MESSAGES) - set(received))
    assert not missing, f"never received {missing}; publisher output:\n{out}"
    for name, msg in received.items():
        assert msg == fill(message_class("enachi_interfaces", name)), name
