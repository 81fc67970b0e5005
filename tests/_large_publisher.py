"""Child process of test_dds_profiles: publishes large BEST_EFFORT images at a fixed rate."""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image


def main() -> None:
    size, count, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    rclpy.init()
    node = rclpy.create_node("large_publisher")
    pub = node.create_publisher(Image, "large", qos_profile_sensor_data)
    wait_until = time.monotonic() + 10
    while pub.get_subscription_count() == 0 and time.monotonic() < wait_until:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(0.5)
    payload = bytes(size)
    for i in range(count):
        msg = Image(height=1, width=size, encoding="mono8", step=size)
        msg.header.frame_id = str(i)
        msg.data = payload
        pub.publish(msg)
        time.sleep(1.0 / rate)
    time.sleep(1.0)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
