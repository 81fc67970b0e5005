"""A camera driver as the project does not control it: plain rclpy, stock QoS, stock Fast DDS.

Run as a script (``python stock_image_publisher.py RELIABILITY SECONDS RATE WIDTH HEIGHT
TOPIC``) by ``enachi bench external_images`` and the camera tests, in an environment without any
Fast DDS profile variable. It imports nothing of enachi_ros on purpose: it stands for a Gazebo
bridge or a camera driver. RELIABILITY ``best_effort`` publishes with ``qos_profile_sensor_data``
(what image_transport and most drivers use for sensor data), ``reliable`` with rclpy's default
profile (RELIABLE, KEEP_LAST 10: what ``create_publisher(Image, topic, 10)`` gives). Frames are
rgb8, stamped with the publisher's clock, ``frame_id`` = their index; publication waits for a
matched subscriber (and one more second for discovery to settle both ways), then runs at RATE for
SECONDS, paced on the monotonic clock. Prints ``PUBLISHED <n> <failed publish calls>`` at the end.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image


def main() -> int:
    reliability, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    width, height, topic = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    qos = qos_profile_sensor_data if reliability == "best_effort" else QoSProfile(
        depth=10, reliability=ReliabilityPolicy.RELIABLE)
    rclpy.init()
    node = rclpy.create_node("stock_image_publisher")
    pub = node.create_publisher(Image, topic, qos)
    deadline = time.monotonic() + 30.0
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8).tobytes()
    count, failed = round(seconds * rate), 0
    start = time.monotonic()
    for i in range(count):
        msg = Image(height=height, width=width, encoding="rgb8", step=width * 3)
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.header.frame_id = str(i)
        msg.data = pixels  # bytes: assigning an ndarray is element-wise and ~1000x slower
        try:
            pub.publish(msg)
        except Exception:  # a RELIABLE writer outrun by its reader raises; count, go on
            failed += 1
        time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
    time.sleep(1.0)  # repairs of the last frames
    print(f"PUBLISHED {count} {failed}", flush=True)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
