"""Environment for tests that start real ROS 2 nodes: loopback discovery, a domain of our own."""

from __future__ import annotations

import os

_BASE_DOMAIN = 1 + os.getpid() % 70  # 1..70 (+ test offsets <= 30): valid ROS domain ids


def isolated_ros_env(offset: int = 0, **extra: str) -> dict[str, str]:
    """A copy of os.environ for a child process on loopback in this run's ROS domain."""
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(_BASE_DOMAIN + offset)
    env.pop("ROS_STATIC_PEERS", None)
    env.update(extra)
    return env


def apply_to_this_process() -> None:
    """Put this process itself in the run's domain (before rclpy.init)."""
    os.environ.update(
        {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DOMAIN_ID": str(_BASE_DOMAIN)}
    )
