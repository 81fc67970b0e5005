"""The console-script entry shared by the nodes (the ros2/examples ``main`` pattern)."""

from __future__ import annotations

import faulthandler
import signal
import sys

import rclpy
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node


def enable_stack_dumps() -> None:
    """Dump every thread's Python stack to stderr on SIGUSR1 (``kill -USR1 <pid>``).

    A node that does not stop on SIGINT is otherwise a black box; ``enachi bringup`` sends
    SIGUSR1 to stragglers before escalating, so their log says where they were stuck.
    """
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def make_executor() -> Executor:
    """The executor every node process spins: rclpy's EventsExecutor (C++ event queue, in
    rclpy since Jazzy) where it exists, else SingleThreadedExecutor, which rebuilds its wait
    set and runs one callback per round. ``enachi bench executors`` (a burst of 4000 feature
    packets into a process shaped like the edge's) measured 2245 packets/s through
    SingleThreadedExecutor and 11609 through EventsExecutor here (5.2x); the camera workload
    sends 81-112 packets per task and robot."""
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor()
    return EventsExecutor()


def spin_until_shutdown(executor: Executor) -> None:
    """Spin ``executor`` until its context is shut down, and end quietly when it is shut down
    under it.

    On SIGINT rclpy's signal handler shuts the context down while ``spin_once`` may be building
    its wait set or taking a message; that raises ``RCLError`` ("the given context is not
    valid") or a pybind ``RuntimeError`` instead of ``ExternalShutdownException`` (seen in about
    1 of 4 bringup stops). An exception raised once the context is shut down is that race: it
    is noted on stderr and the node ends normally. Any exception while the context is still
    valid is a real error and is re-raised.
    """
    try:
        while executor.context.ok():  # EventsExecutor.spin() ran no callback here (rclpy
            executor.spin_once(timeout_sec=0.1)  # 9.1.2 wheels); spin_once does
    except (_rclpy.RCLError, RuntimeError) as exc:
        if executor.context.ok():
            raise
        print(f"shutdown: {type(exc).__name__} ignored, the context was already shut down: "
              f"{exc}", file=sys.stderr, flush=True)


def spin_node(node_class: type[Node], args: list[str] | None = None) -> None:
    """Init rclpy with ``args``, spin one ``node_class`` until Ctrl-C or external shutdown."""
    enable_stack_dumps()
    try:
        with rclpy.init(args=args):
            node = node_class()
            executor = make_executor()
            executor.add_node(node)
            try:
                spin_until_shutdown(executor)
            finally:  # tear down while the context is alive, not in interpreter-exit GC
                node.destroy_node()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
