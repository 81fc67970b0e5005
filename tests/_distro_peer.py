"""Child of test_ros_distros: one side of a FeaturePacket / SchedulerDecision exchange.

``sender``: publishes a filled FeaturePacket and SchedulerDecision on x/out/<Type> until the
echoes come back on x/back/<Type> equal to what it sent, then prints a JSON report.
``echo``: republishes whatever it receives on x/out/<Type> on x/back/<Type>, after checking it
equals the filled message, i.e. deserializes and serializes every field in its own distro; it
ends once it has seen both types and the sender has been quiet for QUIET_S.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from msg_fill import fill, message_class

TYPES = ("FeaturePacket", "SchedulerDecision")
QUIET_S = 2.0


def main() -> None:
    role, seconds = sys.argv[1], float(sys.argv[2])
    rclpy.init()
    node = rclpy.create_node(f"distro_{role}")
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    sent = {n: fill(message_class("enachi_interfaces", n)) for n in TYPES}
    got: dict[str, bool] = {}
    last = [time.monotonic()]
    topic_out, topic_in = ("out", "back") if role == "sender" else ("back", "out")
    pubs = {}
    for name in TYPES:
        cls = message_class("enachi_interfaces", name)
        pubs[name] = node.create_publisher(cls, f"x/{topic_out}/{name}", qos)

        def on_msg(msg: object, name: str = name) -> None:
            got[name] = msg == sent[name]
            last[0] = time.monotonic()
            if role == "echo":
                pubs[name].publish(msg)

        node.create_subscription(cls, f"x/{topic_in}/{name}", on_msg, qos)
    deadline = time.monotonic() + seconds
    while (time.monotonic() < deadline and len(got) < len(TYPES)) or (
        role == "echo" and time.monotonic() < min(deadline, last[0] + QUIET_S)
    ):
        if role == "sender":
            for name, msg in sent.items():
                pubs[name].publish(msg)
        rclpy.spin_once(node, timeout_sec=0.2)
    print(json.dumps({"role": role, "rclpy": version("ros-rclpy"), "equal": got}), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
