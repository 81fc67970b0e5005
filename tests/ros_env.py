"""Environment for tests that start real ROS 2 nodes: loopback discovery, a domain of our own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def ros_context(monkeypatch: Any, offset: int) -> Iterator[Any]:
    """An rclpy context of this process in the run's domain + ``offset`` (loopback discovery):
    for tests that run real nodes in-process. The environment is restored by ``monkeypatch``."""
    import rclpy

    env = isolated_ros_env(offset)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(env["ROS_DOMAIN_ID"]))
    try:
        yield context
    finally:
        context.try_shutdown()
