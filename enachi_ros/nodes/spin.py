"""The console-script entry shared by the nodes (the ros2/examples ``main`` pattern)."""

from __future__ import annotations

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def spin_node(node_class: type[Node], args: list[str] | None = None) -> None:
    """Init rclpy with ``args``, spin one ``node_class`` until Ctrl-C or external shutdown."""
    try:
        with rclpy.init(args=args):
            rclpy.spin(node_class())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
