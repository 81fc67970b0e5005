"""The console-script entry shared by the nodes (the ros2/examples ``main`` pattern)."""

from __future__ import annotations

import faulthandler
import signal

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def enable_stack_dumps() -> None:
    """Dump every thread's Python stack to stderr on SIGUSR1 (``kill -USR1 <pid>``).

    A node that does not stop on SIGINT is otherwise a black box; ``enachi bringup`` sends
    SIGUSR1 to stragglers before escalating, so their log says where they were stuck.
    """
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def spin_node(node_class: type[Node], args: list[str] | None = None) -> None:
    """Init rclpy with ``args``, spin one ``node_class`` until Ctrl-C or external shutdown."""
    enable_stack_dumps()
    try:
        with rclpy.init(args=args):
            node = node_class()
            try:
                rclpy.spin(node)
            finally:  # tear down while the context is alive, not in interpreter-exit GC
                node.destroy_node()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
