"""A stand-in for Gazebo's /clock: simulated time from EPOCH_S, advancing at RATE x real time in
steps of STEP_S (as gz sim publishes it through ros_gz_bridge), until killed.

    python tests/_sim_clock.py EPOCH_S RATE STEP_S
"""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock


def main() -> None:
    epoch, rate, step = (float(v) for v in sys.argv[1:4])
    rclpy.init()
    node = rclpy.create_node("sim_clock")
    pub = node.create_publisher(Clock, "/clock", QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    start = time.monotonic()
    try:
        while True:
            sim = epoch + rate * (time.monotonic() - start)
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = int(sim), int((sim % 1.0) * 1e9)
            pub.publish(msg)
            time.sleep(step / rate)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
