"""Child of test_interfaces_roundtrip: publishes one filled message of each type, repeatedly."""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from msg_fill import ENACHI_MESSAGES, fill, message_class


def main() -> None:
    rclpy.init()
    node = rclpy.create_node("roundtrip_publisher")
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    pubs = [
        (node.create_publisher(message_class("enachi_interfaces", n), f"rt/{n}", qos), n)
        for n in ENACHI_MESSAGES
    ]
    deadline = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 30)
    while time.monotonic() < deadline and rclpy.ok():
        for pub, name in pubs:
            pub.publish(fill(message_class("enachi_interfaces", name)))
        rclpy.spin_once(node, timeout_sec=0.1)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
