"""A robot that hears the edge but holds no decision says so and recovers (issue 11: under the
real ros2 launch one robot heard the edge's heartbeat, never got a decision, ran all its frames
locally and nothing flagged it).

Real scheduler, tail and head nodes in one process. A late-joining robot gets the current
decision at once (TRANSIENT_LOCAL). A dropped decision is reproduced with a relay between the
scheduler and the head (the head's decision topic remapped onto it, standard ROS remapping) that
drops the scheduler's first decision array; the scheduler's frame period is long (10 s), so
without recovery the robot would wait that long. The head warns, reports WARN on /diagnostics,
asks the scheduler, and holds a valid decision again well before the next frame.
"""

from __future__ import annotations

import time

import pytest
import rclpy
from enachi_interfaces.msg import SchedulerDecisionArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from ros_env import ros_context

from enachi_ros.nodes.head import HeadNode
from enachi_ros.nodes.scheduler import SchedulerNode
from enachi_ros.nodes.tail import TailNode
from enachi_ros.ros import qos, topics
from enachi_ros.ros.diagnostics import OK, WARN

OFFSET = 21  # this file's ROS domain offset
RELAYED = "/relay/decisions"


@pytest.fixture
def fleet(monkeypatch):
    with ros_context(monkeypatch, OFFSET) as context:
        yield from _fleet_in(context)


def _fleet_in(context):
    executor = SingleThreadedExecutor(context=context)
    nodes = []

    def start(cls, cli_args=None, **params):
        node = cls(context=context, cli_args=cli_args,
                   parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS, node.configure_error
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        executor.add_node(node)
        nodes.append(node)
        return node

    def spin(seconds: float, until=lambda: False) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds and not until():
            executor.spin_once(timeout_sec=0.02)
        return time.monotonic() - t0

    yield start, spin, context, executor
    for node in nodes:
        node.trigger_shutdown()
        node.destroy_node()
    executor.shutdown()


def test_a_late_joining_robot_gets_the_current_decision_at_once(fleet) -> None:
    start, spin, *_ = fleet
    start(SchedulerNode, robot_ids=["robot1"], frame_period_s=10.0)
    start(TailNode, robot_ids=["robot1"])
    spin(2.0)  # the fleet has run (and published its only decision) before the robot joins
    head = start(HeadNode, cli_args=["--ros-args", "-r", "__ns:=/robot1"], robot_id="robot1",
                 decision_timeout_s=5.0)  # no request within the test: the durable decision
    waited = spin(8.0, until=lambda: head.decision is not None and head.edge_alive)
    assert head.decision is not None and head.edge_alive, waited
    assert head.decision.frame_index == 0  # the one decision published before it joined
    assert head.decision_requests == 0
    assert head.diagnostics.status().level == OK


def test_a_dropped_decision_is_reported_and_recovered(fleet) -> None:
    start, spin, context, executor = fleet
    scheduler = start(SchedulerNode, robot_ids=["robot1"], frame_period_s=10.0)
    relay = rclpy.create_node("lossy_relay", context=context)
    out = relay.create_publisher(SchedulerDecisionArray, RELAYED, qos.decision_qos())
    dropped = []

    def forward(msg: SchedulerDecisionArray) -> None:
        if not dropped:
            dropped.append(msg)  # the first decision array is lost
        else:
            out.publish(msg)

    relay.create_subscription(SchedulerDecisionArray, topics.DECISIONS, forward,
                              qos.decision_qos())
    executor.add_node(relay)
    spin(1.0, until=lambda: bool(dropped))
    assert dropped, "the relay did not see the scheduler's first decision"
    start(TailNode, robot_ids=["robot1"])
    warnings: list[str] = []
    head = start(HeadNode, cli_args=["--ros-args", "-r", "__ns:=/robot1",
                                     "-r", f"{topics.DECISIONS}:={RELAYED}"],
                 robot_id="robot1", decision_timeout_s=0.5)
    real_warn = head.get_logger().warn
    head.get_logger().warn = lambda text, **kw: (warnings.append(text), real_warn(text, **kw))
    spin(3.0, until=lambda: head.edge_alive)
    assert head.edge_alive and head.decision is None
    levels = []
    t = spin(5.0, until=lambda: (levels.append(head.diagnostics.status().level) or
                                 head.decision is not None))
    assert head.decision is not None, (warnings, scheduler.requests)
    assert t < 3.0  # recovered long before the scheduler's next frame (10 s)
    assert WARN in levels
    assert any("no valid scheduler decision" in w for w in warnings), warnings
    assert scheduler.requests >= 1 and head.decision_requests >= 1
    assert head.diagnostics.status().level == OK
    relay.destroy_node()
