"""How node processes run: the executor, the process main shared by every node process (one node
or a group), stack dumps on request."""

from __future__ import annotations

import faulthandler
import signal
import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


def enable_stack_dumps() -> None:
    """Dump every thread's Python stack to stderr on SIGUSR1 (``kill -USR1 <pid>``).

    A node that does not stop on SIGINT is otherwise a black box; ``enachi bringup`` sends
    SIGUSR1 to stragglers before escalating, so their log says where they were stuck.
    """
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def make_executor(context: rclpy.Context | None = None) -> Executor:
    """The executor every node process spins: rclpy's EventsExecutor (C++ event queue, in
    rclpy since Jazzy) where it exists, else SingleThreadedExecutor, which rebuilds its wait
    set and runs one callback per round. ``enachi bench executors`` (a burst of 4000 feature
    packets into a process shaped like the edge's) measured 2245 packets/s through
    SingleThreadedExecutor and 11609 through EventsExecutor here (5.2x); the camera workload
    sends 81-112 packets per task and robot."""
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor(context=context)
    return EventsExecutor(context=context)


class StartError(RuntimeError):
    """A node could not be built or auto-started; the message says which and why."""


def run_nodes(build: Callable[[rclpy.Context], list[Node]], args: list[str] | None = None) -> int:
    """The process main of every node process (one node, or a group of them): init rclpy with
    ``args``, build the nodes, auto-start the managed ones that ask for it (``autostart``), spin
    until SIGINT/SIGTERM, then take every managed node through its shutdown transition.

    Shutdown never raises: rclpy's own signal handler shuts the context down from another thread
    at any moment, which made ``spin_once`` raise ``RCLError`` ("the given context is not
    valid") while it built a wait set or a timer published (about 1 stop in 4). Here rclpy
    installs no handler (``SignalHandlerOptions.NO``); ours only sets a flag, the spin loop
    notices it within 0.1 s, and the nodes and then the context are shut down in order. A second
    signal ends the process at once (the default action). Returns the exit status: 1 when a node
    could not be built or auto-started (one clear line on stderr, no traceback).
    """
    enable_stack_dumps()
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    context = rclpy.Context()
    rclpy.init(args=args, context=context, signal_handler_options=SignalHandlerOptions.NO)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    nodes: list[Node] = []
    executor: Executor | None = None
    try:
        nodes = build(context)
        executor = make_executor(context)
        for node in nodes:
            executor.add_node(node)
        for node in nodes:
            if getattr(node, "autostart", False):
                autostart(node)
        while not stop.is_set() and context.ok():
            executor.spin_once(timeout_sec=0.1)
    except StartError as exc:
        print(f"{exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for node in nodes:
            if getattr(node, "state_label", "") in ("unconfigured", "inactive", "active"):
                node.trigger_shutdown()
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        context.try_shutdown()
    return 0


def autostart(node: Node) -> None:
    """Configure and activate a managed node from its own process (StartError if it fails)."""
    from rclpy.lifecycle import TransitionCallbackReturn

    if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
        raise StartError(f"{node.get_fully_qualified_name()}: configure failed: "
                         f"{node.configure_error}")
    if node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
        raise StartError(f"{node.get_fully_qualified_name()}: activate failed (see the log)")


def build_errors() -> tuple[type[BaseException], ...]:
    """What a node constructor raises for bad input: rclpy's parameter exceptions (a value out
    of a declared range, a wrong type) and ours."""
    from rclpy.exceptions import ParameterException

    from enachi_ros.ros.params import ParameterError

    return (ParameterException, ParameterError, ValueError)


def spin_node(node_class: type[Node], args: list[str] | None = None) -> None:
    """The console-script main of one node: ``run_nodes`` with ``node_class``; exits with its
    status."""
    def build(context: rclpy.Context) -> list[Node]:
        try:
            return [node_class(context=context)]
        except build_errors() as exc:
            raise StartError(f"{node_class.__name__}: {exc}") from None

    sys.exit(run_nodes(build, args))
