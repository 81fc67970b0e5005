"""The recorder node: what bringup sees of a run, as outcome and capture rows.

It subscribes to every robot's outcome, capture record (GroundTruth), energy, channel and
feedback topics plus the global decisions and ``/diagnostics``, keeps outcome and capture rows
and each node's latest diagnostics (summarized by ``summary.py``), and streams every message to
an optional MCAP log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from enachi_interfaces.msg import (
    ChannelReport,
    EnergyReport,
    FeaturePacket,
    GroundTruth,
    InferenceResult,
    SchedulerDecisionArray,
    TaskFeedback,
)
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from enachi_ros.ros import qos, topics
from enachi_ros.ros.diagnostics import DIAGNOSTICS
from enachi_ros.tools.recording.summary import capture_row, diagnostics_row, result_row


def best_effort(depth: int) -> QoSProfile:
    # Matches both RELIABLE and BEST_EFFORT publishers: streams whose QoS may vary.
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.BEST_EFFORT)


class RecorderNode(Node):
    """Subscribes to every robot's topics; keeps outcome/capture rows; logs to MCAP."""

    def __init__(self, robot_ids: Sequence[str], log: Callable[[str, Any, int], None] | None,
                 record_features: bool, **kw: Any) -> None:
        super().__init__(kw.pop("node_name", "enachi_recorder"), **kw)
        self.robot_ids = list(robot_ids)
        self.outcomes: list[dict[str, Any]] = []
        self.captures: list[dict[str, Any]] = []
        self.energy: list[dict[str, Any]] = []
        self.diagnostics: dict[str, dict[str, Any]] = {}  # node -> its latest status
        self._log = log
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self._sub(SchedulerDecisionArray, topics.DECISIONS, reliable, None)
        self._sub(DiagnosticArray, DIAGNOSTICS, QoSProfile(depth=100), self._on_diagnostics)
        self._capture_subs: dict[str, Any] = {}
        for rid in self.robot_ids:
            self._sub(InferenceResult, topics.robot_topic(rid, topics.OUTCOME),
                      qos.outcome_qos(), self._on_outcome)
            self._capture_subs[rid] = self._sub(
                GroundTruth, topics.robot_topic(rid, topics.GROUND_TRUTH),
                qos.capture_record_qos(), lambda m, r=rid: self.captures.append(capture_row(r, m)))
            self._sub(EnergyReport, topics.robot_topic(rid, topics.ENERGY),
                      qos.report_qos(50), self._on_energy)
            self._sub(ChannelReport, topics.robot_topic(rid, topics.CHANNEL),
                      qos.report_qos(50), None)
            self._sub(TaskFeedback, topics.robot_topic(rid, topics.FEEDBACK),
                      best_effort(50), None)
            self._sub(InferenceResult, topics.robot_topic(rid, topics.RESULT),
                      best_effort(50), None)
            if record_features:
                self._sub(FeaturePacket, topics.robot_topic(rid, topics.FEATURES),
                          best_effort(256), None)

    def capture_publishers(self, robot_id: str) -> int:
        """Publishers matched to this recorder's capture-record subscription of ``robot_id``
        (1 once that robot's camera is configured and discovered)."""
        return self._capture_subs[robot_id].get_publisher_count()

    def _sub(self, kind: type, topic: str, profile: QoSProfile,
             handler: Callable[[Any], None] | None) -> Any:
        def callback(msg: Any) -> None:
            if handler is not None:
                handler(msg)
            if self._log is not None:
                self._log(topic, msg, self.get_clock().now().nanoseconds)

        return self.create_subscription(kind, topic, callback, profile)

    def _on_outcome(self, msg: Any) -> None:
        self.outcomes.append(result_row(msg))

    def _on_diagnostics(self, msg: Any) -> None:
        for status in msg.status:
            self.diagnostics[status.name] = diagnostics_row(status)

    def _on_energy(self, msg: Any) -> None:
        self.energy.append({
            "robot_id": msg.robot_id, "task_id": int(msg.task_id),
            "total_energy_j": float(msg.total_energy_j), "bytes_sent": int(msg.bytes_sent)})
