"""Each node's health on ``/diagnostics`` (diagnostic_msgs/DiagnosticArray), as ROS tools expect.

Why: rqt_robot_monitor, the diagnostic aggregator and ``ros2 topic echo /diagnostics`` are what
a robotics engineer watches in a field trial. Every managed node publishes one DiagnosticStatus
once per period and at each deactivation (so the last counts reach a recorder before the node
stops): its lifecycle state, its input rejections per topic and field
(:class:`~enachi_ros.ros.rejects.InputRejects`), and what the node itself reports
(``ManagedNode.health``: e.g. a robot that hears the edge but gets no decision). Level WARN
while a problem is reported or while rejections grow, ERROR when the node reports one.

The publisher is a plain one (not a lifecycle publisher): a node reports its health in every
lifecycle state, inactive and unconfigured included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from enachi_ros.ros.rejects import InputRejects

DIAGNOSTICS = "/diagnostics"  # the ROS convention (diagnostic_updater, the aggregator)
OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR
LEVEL_NAMES = {0: "ok", 1: "warn", 2: "error", 3: "stale"}  # by the level's integer value


def level_value(level: bytes | int) -> int:
    """A DiagnosticStatus level as an int (rclpy holds the byte field as ``bytes``)."""
    return int.from_bytes(level, "little") if isinstance(level, bytes) else int(level)

# What a node reports of itself: (level, message, extra key/values).
Health = tuple[int, str, dict[str, Any]]


def reject_key(topic: str, field: str) -> str:
    """The KeyValue key of one rejection counter (parsed back by :func:`rejects_of`)."""
    return f"rejected {topic} {field}"


def rejects_of(status: Any) -> dict[str, dict[str, int]]:
    """``{topic: {field: count}}`` from a received DiagnosticStatus."""
    out: dict[str, dict[str, int]] = {}
    for kv in status.values:
        parts = kv.key.split(" ")
        if len(parts) == 3 and parts[0] == "rejected" and kv.value.isdigit():
            out.setdefault(parts[1], {})[parts[2]] = int(kv.value)
    return out


class NodeDiagnostics:
    """Builds and publishes one node's DiagnosticStatus."""

    def __init__(self, node: Any, rejects: InputRejects, hardware_id: Callable[[], str],
                 health: Callable[[], Health], state: Callable[[], str]) -> None:
        self.node, self.rejects = node, rejects
        self._hardware_id, self._health, self._state = hardware_id, health, state
        self.name = node.get_fully_qualified_name()
        self._last_total = 0
        self.pub = node.create_publisher(DiagnosticArray, DIAGNOSTICS, 10)

    def status(self) -> DiagnosticStatus:
        level, message, extra = self._health()
        total = self.rejects.total
        if total > self._last_total and level == OK:
            level, message = WARN, f"{total - self._last_total} input message(s) rejected"
        self._last_total = total
        values = [KeyValue(key="state", value=self._state()),
                  KeyValue(key="rejected total", value=str(total))]
        for topic, fields in self.rejects.by_topic().items():
            values += [KeyValue(key=reject_key(topic, f), value=str(n)) for f, n in fields.items()]
        values += [KeyValue(key=str(k), value=str(v)) for k, v in extra.items()]
        return DiagnosticStatus(level=level, name=self.name, message=message or "ok",
                                hardware_id=self._hardware_id(), values=values)

    def publish(self) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.status = [self.status()]
        self.pub.publish(msg)
