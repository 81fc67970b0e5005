"""Managed nodes (ros.lifecycle) and the process main (ros.spin.run_nodes): what each transition
creates and destroys, a bad parameter fails configure by name, and a stop on SIGINT never raises
(rclpy's own handler raced the spin loop in about 1 stop in 4)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from ros_env import isolated_ros_env, ros_context
from std_msgs.msg import Header

from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.params import Param

HERE = Path(__file__).resolve().parent
OFFSET = 14  # this file's ROS domain offsets: 14, 15
SUCCESS = TransitionCallbackReturn.SUCCESS


class Probe(ManagedNode):
    PARAMS = (Param("rate", 100.0, "ticks per second", low=1.0, high=1000.0),
              Param("mode", "a", "a mode", choices=("a", "b")))

    def __init__(self, **kwargs) -> None:
        super().__init__("probe", **kwargs)
        self.ticks = 0
        self.heard: list[str] = []
        self.configured = 0

    def configure_node(self) -> None:
        self.configured += 1
        self.pub = self.create_publisher(Header, "probe_topic", 10)
        self.create_subscription(Header, "probe_in", lambda m: self.heard.append(m.frame_id), 10)

    def activate_node(self) -> None:
        self.create_timer(1.0 / self.p["rate"], self._tick)

    def _tick(self) -> None:
        self.ticks += 1
        self.pub.publish(Header(frame_id="tick"))


@pytest.fixture
def context(monkeypatch):
    with ros_context(monkeypatch, OFFSET) as ctx:
        yield ctx


def _spin(executor, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)


def test_transitions_create_and_destroy_the_nodes_io(context) -> None:
    node = Probe(context=context)
    other = rclpy.create_node("feeder", context=context)
    feed = other.create_publisher(Header, "probe_in", 10)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(other)
    try:
        assert node.state_label == "unconfigured" and node.count_publishers("probe_topic") == 0
        assert node.trigger_configure() == SUCCESS and node.state_label == "inactive"
        assert node.count_publishers("/probe_topic") == 1  # endpoints exist: discovery runs
        feed.publish(Header(frame_id="while inactive"))
        _spin(executor, 0.3)
        assert node.ticks == 0 and node.heard == []  # no timer, messages ignored
        assert node.trigger_activate() == SUCCESS
        _spin(executor, 0.3)
        feed.publish(Header(frame_id="while active"))
        _spin(executor, 0.2)
        assert node.ticks > 5 and node.heard == ["while active"]
        assert node.trigger_deactivate() == SUCCESS
        ticks = node.ticks
        feed.publish(Header(frame_id="after"))
        _spin(executor, 0.3)
        assert node.ticks == ticks and node.heard == ["while active"]  # stopped at once
        assert node.trigger_cleanup() == SUCCESS and node.state_label == "unconfigured"
        assert node.count_publishers("/probe_topic") == 0  # cleanup destroyed the endpoints
        assert node.trigger_configure() == SUCCESS and node.configured == 2  # again
        assert node.trigger_shutdown() == SUCCESS and node.state_label == "finalized"
    finally:
        executor.shutdown()
        node.destroy_node()
        other.destroy_node()


def test_a_bad_parameter_fails_configure_by_name(context) -> None:
    node = Probe(context=context, parameter_overrides=[Parameter("mode", value="c")])
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert "mode" in node.configure_error and "'c'" in node.configure_error
        assert node.state_label == "unconfigured"
        result = node.set_parameters([Parameter("mode", value="b")])[0]
        assert result.successful
        assert node.trigger_configure() == SUCCESS  # fixed at run time, configured
    finally:
        node.destroy_node()


def test_sigint_never_raises() -> None:
    """20 stops at random moments of a busy three-node process: each exits 0, quietly."""
    env = {**isolated_ros_env(OFFSET + 1), "PYTHONPATH": str(HERE)}
    rng = random.Random(4)
    for run in range(20):
        proc = subprocess.Popen([sys.executable, str(HERE / "_managed_stress.py")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "starting"
        time.sleep(0.3 + rng.random() * 0.7)  # imports done, then inside the busy spin loop
        os.kill(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        assert proc.returncode == 0, f"run {run}: exit {proc.returncode}\n{out}"
        assert "Traceback" not in out and "RCLError" not in out, f"run {run}:\n{out}"
