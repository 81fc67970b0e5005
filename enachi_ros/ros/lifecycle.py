"""Managed (lifecycle) nodes: the base class of the five nodes.

Why managed nodes: a fleet must load its models before frames flow, start capture only when the
consumers are up, and stop capture while in-flight frames finish. ROS 2's answer is the node
lifecycle (``ros2 lifecycle``, launch_ros ``LifecycleNode``), driven by the launch files, by
``enachi bringup`` or by any lifecycle manager, instead of hand-rolled gates.

What each transition does here:

- constructor: declares the parameters (so a parameter file and ``ros2 param set`` reach them
  before configure) and nothing else: no model, no I/O;
- ``configure``: validates every parameter (a bad one fails the transition with a log line
  naming it, and ``configure_error`` keeps the text), loads models, builds the node's state and
  creates its publishers (lifecycle publishers: they publish nothing until activated) and
  subscriptions (their callbacks run only while active) (``configure_node``). Creating the
  endpoints here, as the ROS 2 lifecycle demos do, lets DDS discovery match them while the
  fleet configures, so the first frame after activation reaches its consumers;
- ``activate``: enables the publishers, creates the timers and starts the work, e.g. capture
  (``activate_node``);
- ``deactivate``: destroys those timers, disables the publishers and ignores incoming messages:
  a deactivated camera captures nothing (``deactivate_node`` for anything else);
- ``cleanup``: destroys the publishers and subscriptions and drops what configure built
  (``cleanup_node``); ``shutdown``: whatever of these applies, from any state.

Every managed node validates what it receives and counts what it rejects (``self.rejects``,
``ros.rejects``), and reports its health on ``/diagnostics`` once a second and at each
deactivation (``ros.diagnostics``; subclasses add their own findings in ``health``).

Exceptions in a transition are logged with the transition's name and fail it (rclpy would turn
them into ERROR without a word). With the parameter ``autostart`` (for ``ros2 run``) the process
configures and activates the node itself (``spin.run_nodes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from enachi_ros.ros import auth
from enachi_ros.ros.diagnostics import OK, Health, NodeDiagnostics
from enachi_ros.ros.params import Param, check_values, declare
from enachi_ros.ros.rejects import InputRejects

AUTOSTART = Param("autostart", False, "configure and activate at start-up, without a lifecycle "
                  "manager (for ros2 run); launch files and enachi bringup drive the transitions",
                  read_only=True)
ACTIVE, INACTIVE, UNCONFIGURED = "active", "inactive", "unconfigured"

DIAGNOSTICS_PERIOD_S = 1.0
SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


class ManagedNode(LifecycleNode):
    """A lifecycle node whose I/O works only while it is active.

    Subclasses set ``PARAMS`` and implement ``configure_node`` (read ``self.p``, load models,
    build state, create publishers and subscriptions through the usual ``create_*`` calls),
    ``activate_node`` (create timers, start work), and optionally ``deactivate_node`` and
    ``cleanup_node``.
    """

    PARAMS: Sequence[Param] = ()

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(kwargs.pop("node_name", name), **kwargs)
        self.p: dict[str, Any] = declare(self, (*self.PARAMS, AUTOSTART))
        # security:=true: signed decisions and reports (ros.auth); a bad keystore fails here
        self.authenticator = auth.process_authenticator()
        self.configure_error = ""
        self.serving = False  # active: subscription callbacks run
        self._io_phase: list[tuple[str, Any]] | None = None  # I/O recorded during a transition
        self._io_endpoints: list[tuple[str, Any]] = []  # configure's publishers and subscriptions
        self._io_timers: list[tuple[str, Any]] = []  # activate's timers
        self.rejects = InputRejects(  # counted under full topic names (/robot1/camera/image)
            self.get_logger().warn,
            resolve=lambda topic: self.resolve_topic_name(topic, only_expand=True))
        self.diagnostics = NodeDiagnostics(
            self, self.rejects, hardware_id=lambda: str(self.p.get("robot_id") or "edge"),
            health=self._health, state=lambda: self.state_label)
        # steady clock: health keeps flowing when a simulated /clock stops
        super().create_timer(DIAGNOSTICS_PERIOD_S, self.diagnostics.publish,
                             clock=Clock(clock_type=ClockType.STEADY_TIME))

    # I/O created inside configure or activate is recorded, so its inverse destroys exactly it --
    def create_publisher(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_io_phase", None) is None:  # rclpy's own (parameter events, rosout)
            return super().create_publisher(*args, **kwargs)
        return auth.guard_publisher(self.authenticator, self._track(
            "publisher", self.create_lifecycle_publisher(*args, **kwargs)))

    def create_subscription(self, msg_type: Any, topic: str, callback: Any, *args: Any,
                            **kwargs: Any) -> Any:
        if getattr(self, "authenticator", None):  # unset in rclpy's __init__ (/clock)
            callback, raw = auth.guard_subscription(  # verified before anything else runs
                self.authenticator, msg_type, self.resolve_topic_name(topic), callback,
                self.rejects.reject)
            kwargs["raw"] = raw

        def when_active(msg: Any) -> None:
            if self.serving:
                callback(msg)

        handle = super().create_subscription(msg_type, topic, when_active, *args, **kwargs)
        return self._track("subscription", handle)

    def replace_subscription(self, old: Any, msg_type: Any, topic: str, callback: Any,
                             *args: Any, **kwargs: Any) -> Any:
        """Create a subscription again in place of ``old`` (a configure-time one: the new one is
        destroyed at cleanup as the old one would have been), e.g. to redo a discovery match."""
        new = self.create_subscription(msg_type, topic, callback, *args, **kwargs)
        self._io_endpoints = [(kind, new if handle is old else handle)
                              for kind, handle in self._io_endpoints]
        self.destroy_subscription(old)
        return new

    def now(self) -> float:
        """The node's ROS clock in seconds (simulated time under use_sim_time): every deadline,
        age and latency of the nodes is on it."""
        return self.get_clock().now().nanoseconds * 1e-9

    def create_timer(self, *args: Any, **kwargs: Any) -> Any:
        return self._track("timer", super().create_timer(*args, **kwargs))

    def _track(self, kind: str, handle: Any) -> Any:
        if getattr(self, "_io_phase", None) is not None:
            self._io_phase.append((kind, handle))
        return handle

    @property
    def state_label(self) -> str:
        """The current lifecycle state (``unconfigured``, ``inactive``, ``active``, ...)."""
        return str(self._state_machine.current_state[1])

    @property
    def autostart(self) -> bool:
        return bool(self.p["autostart"])

    # the transitions ------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._io_phase = self._io_endpoints = []
        try:
            check_values(self.p, (*self.PARAMS, AUTOSTART))
            self.configure_node()
        except Exception as exc:
            self.configure_error = str(exc)
            self.get_logger().error(f"configure failed: {exc}")
            self._cleanup()
            return FAILURE
        finally:
            self._io_phase = None
        self.configure_error = ""
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._io_phase = self._io_timers = []
        try:
            self.activate_node()
        except Exception as exc:
            self.get_logger().error(f"activate failed: {exc}")
            self._destroy(self._io_timers)
            return FAILURE
        finally:
            self._io_phase = None
        self.serving = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ok = self._deactivate()
        super().on_deactivate(state)
        self.diagnostics.publish()  # the final counts, before a fleet stops
        return SUCCESS if ok else FAILURE

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        return SUCCESS if self._cleanup() else FAILURE

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.serving:
            self._deactivate()
        self._cleanup()
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate()
        self._cleanup()
        return SUCCESS  # back to unconfigured: the node can be configured again

    def _deactivate(self) -> bool:
        was_active, self.serving = self.serving, False
        self._destroy(self._io_timers)
        return self._safely("deactivate", self.deactivate_node) if was_active else True

    def _cleanup(self) -> bool:
        ok = self._safely("cleanup", self.cleanup_node)
        self._destroy(self._io_endpoints)
        return ok

    def _destroy(self, io: list[tuple[str, Any]]) -> None:
        destroy = {"publisher": self.destroy_lifecycle_publisher,
                   "subscription": self.destroy_subscription, "timer": self.destroy_timer}
        while io:
            kind, handle = io.pop()
            destroy[kind](handle)

    def _health(self) -> Health:
        # a subclass's health reads what configure built: only once configured
        if self.state_label in (ACTIVE, INACTIVE):
            return self.health()
        return OK, self.state_label, {}

    def _safely(self, what: str, step: Any) -> bool:
        try:
            step()
        except Exception as exc:
            self.get_logger().error(f"{what} failed: {exc}")
            return False
        return True

    # what subclasses implement --------------------------------------------------------------
    def configure_node(self) -> None:
        """Load models, build state, create publishers and subscriptions (raise to fail)."""

    def activate_node(self) -> None:
        """Create timers; start work."""

    def deactivate_node(self) -> None:
        """Stop work that is not a timer (e.g. worker threads, queued tasks)."""

    def cleanup_node(self) -> None:
        """Drop what ``configure_node`` built."""

    def health(self) -> Health:
        """What this node reports of itself on /diagnostics: (level, message, key/values)."""
        return OK, "", {}
