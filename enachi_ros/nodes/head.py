"""Robot head-inference node: runs the head at the decided split, quantizes, orders, hands off.

It is also the robot's task owner: every captured frame gets a ledger entry and ends in exactly
one ``InferenceResult`` on ``enachi/outcome`` (edge result, local inference, a skip the
scheduler decided, or a drop with its reason). Fallbacks: no valid decision in time -> the
robot's local policy; edge unreachable (its liveliness lost, or several tasks in a row without
an edge result) -> device-only.

Device energy = active power x head CPU time x device slowdown (core.energy). CPU time of the
inference thread, not wall time: the emulated robot CPU is dedicated, so a busy host (a whole
fleet on one machine) must not inflate the robot's energy.
"""

from __future__ import annotations

import time

import numpy as np
from enachi_interfaces.msg import (
    EncodedTask,
    EnergyReport,
    FeaturePacket,
    GroundTruth,
    InferenceResult,
    SchedulerDecision,
    SchedulerDecisionArray,
)
from rclpy.event_handler import SubscriptionEventCallbacks
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from enachi_ros.core.artifact import normalized_entropy
from enachi_ros.core.energy import compute_energy_j, head_time_s
from enachi_ros.core.ledger import Ledger, Task
from enachi_ros.core.outcomes import DROPPED, LOCAL_FALLBACK, SKIPPED
from enachi_ros.core.packets import encode_packets
from enachi_ros.core.quantize import quantize
from enachi_ros.models.runtime import ModelRuntime
from enachi_ros.ros import qos, topics
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.messages import fill_packet_msg, image_to_array, to_seconds, to_time
from enachi_ros.ros.params import ARTIFACT_DIR, MODEL, ROBOT_ID, Param
from enachi_ros.ros.physical import DEVICE_PARAMS, device_from
from enachi_ros.ros.spin import spin_node

PARAMS = (
    ROBOT_ID,
    MODEL,
    ARTIFACT_DIR,
    Param(
        "local_policy",
        "device_only",
        "what to do without a valid decision",
        choices=("device_only", "drop"),
    ),
    Param("decision_timeout_s", 1.0, "a decision older than this is stale (s)", low=0.0, high=60.0),
    Param("deadline_s", 0.1, "task deadline used for local decisions (s)", low=0.001, high=60.0),
    Param("edge_liveliness_s", 1.0, "lease of the edge heartbeat (s)", low=0.05, high=60.0),
    Param(
        "max_missed_results",
        3,
        "tasks in a row without an edge result before the robot treats the edge as unreachable",
        low=1,
        high=1000,
    ),
    Param(
        "grace_s",
        0.25,
        "wait after a deadline for a late result or energy report (s)",
        low=0.0,
        high=10.0,
    ),
    Param("threads", 1, "torch CPU threads", low=1, high=64),
    *DEVICE_PARAMS,
)


class HeadNode(ManagedNode):
    """Managed node: configure loads the model, opens the task ledger and creates the topics;
    activate starts the ledger clock."""

    PARAMS = PARAMS

    def __init__(self, **kwargs) -> None:
        super().__init__("head", **kwargs)

    def configure_node(self) -> None:
        self.robot_id: str = self.p["robot_id"]
        self.device = device_from(self.p)
        self.runtime = ModelRuntime(self.p["model"], self.p["threads"], self.p["artifact_dir"])
        self.ledger = Ledger(grace_s=self.p["grace_s"])
        self.decision: SchedulerDecision | None = None
        self.decision_at = -1e9
        self.labels: dict[tuple[int, int], int] = {}
        self.next_task = 0
        self.edge_alive = False
        self.missed_in_row = 0
        self.rejected_images = 0
        self.awaiting_image: dict[tuple[int, int], float] = {}  # capture records without image
        self.images_seen: dict[tuple[int, int], None] = {}  # recent image stamps (ordered set)
        self.pub_task = self.create_publisher(
            EncodedTask, topics.ENCODED, qos.local_reliable_qos(20)
        )
        self.pub_outcome = self.create_publisher(InferenceResult, topics.OUTCOME, qos.outcome_qos())
        self.pub_energy = self.create_publisher(EnergyReport, topics.ENERGY, qos.report_qos())
        self.create_subscription(Image, topics.IMAGE, self._on_image, qos.camera_qos())
        self.create_subscription(
            GroundTruth, topics.GROUND_TRUTH, self._on_label, qos.capture_record_qos()
        )
        self.create_subscription(
            SchedulerDecisionArray, topics.DECISIONS, self._on_decisions, qos.decision_qos()
        )
        self.create_subscription(InferenceResult, topics.RESULT, self._on_result, qos.result_qos())
        self.create_subscription(EnergyReport, topics.ENERGY, self._on_energy, qos.report_qos())
        self.create_subscription(
            Header,
            topics.EDGE_ALIVE,
            self._on_heartbeat,
            qos.heartbeat_qos(self.p["edge_liveliness_s"]),
            event_callbacks=SubscriptionEventCallbacks(liveliness=self._on_liveliness),
        )

    def activate_node(self) -> None:
        self.create_timer(0.02, self._close_due)

    # --- inputs -------------------------------------------------------------------------
    def _on_label(self, msg: GroundTruth) -> None:
        """The camera's reliable capture record (one per frame, label -1 if unknown): a frame
        whose best-effort image never reaches the head still gets its outcome (a drop)."""
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        self.labels[key] = int(msg.label)
        if key not in self.images_seen:
            self.awaiting_image[key] = time.time()
        if len(self.labels) > 1000:
            self.labels.pop(next(iter(self.labels)))

    def _on_decisions(self, msg: SchedulerDecisionArray) -> None:
        for d in msg.decisions:
            if d.robot_id == self.robot_id:
                self.decision, self.decision_at = d, time.monotonic()

    def _on_heartbeat(self, _msg: Header) -> None:
        if not self.edge_alive:
            self.get_logger().info("edge reachable")
        self.edge_alive = True
        self.missed_in_row = 0

    def _on_liveliness(self, event) -> None:
        if event.alive_count == 0 and self.edge_alive:
            self.get_logger().warn("edge liveliness lost: falling back to device-only")
            self.edge_alive = False

    def _on_result(self, msg: InferenceResult) -> None:
        if msg.robot_id != self.robot_id:
            return
        self.missed_in_row = 0
        result = {
            "outcome": int(msg.outcome),
            "reason": msg.reason,
            "class_id": int(msg.class_id),
            "confidence": float(msg.confidence),
            "entropy": float(msg.entropy),
            "packets_received": int(msg.packets_received),
            "bytes_received": int(msg.bytes_received),
            "latency_tail_s": float(msg.latency_tail_s),
        }
        self.ledger.on_result(int(msg.task_id), result, time.time())

    def _on_energy(self, msg: EnergyReport) -> None:
        self.ledger.on_energy(
            int(msg.task_id),
            {
                "total_energy_j": float(msg.total_energy_j),
                "bytes_sent": int(msg.bytes_sent),
                "packets_sent": int(msg.packets_sent),
                "air_s": float(msg.slots_used) * (self.decision.slot_s if self.decision else 1e-3),
            },
        )

    def _on_image(self, msg: Image) -> None:
        now = time.time()
        capture = to_seconds(msg.header.stamp)
        task = Task(self.next_task, capture, 0.0, received_s=now)
        task.stamp_key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        self.next_task += 1
        self.awaiting_image.pop(task.stamp_key, None)
        self.images_seen[task.stamp_key] = None
        if len(self.images_seen) > 1000:
            self.images_seen.pop(next(iter(self.images_seen)))
        try:
            image = image_to_array(msg)
            if image.shape != self.runtime.input_shape:
                c, h, w = self.runtime.input_shape
                raise ValueError(f"image: expected {w}x{h} with {c} channel(s) (the model's "
                                 f"input), got {msg.width}x{msg.height} {msg.encoding!r}")
        except ValueError as exc:
            self.rejected_images += 1
            self.get_logger().warn(f"image rejected ({self.rejected_images} so far): {exc}",
                                   throttle_duration_sec=2.0)
            task.deadline_s = capture + self.p["deadline_s"]
            self.ledger.capture(task)
            self._record(self.ledger.close(task.task_id), DROPPED, f"malformed image: {exc}", now)
            return
        decision, why = self._usable_decision()
        task.deadline_s = capture + (decision.deadline_s if decision else self.p["deadline_s"])
        self.ledger.capture(task)
        if decision is not None and decision.skip:
            self._skip(task, decision, now)
            return
        if decision is None or self.runtime.kind(decision.split_index) == "device_only":
            if decision is None and self.p["local_policy"] == "drop":
                self._record(self.ledger.close(task.task_id), DROPPED, why, now)
                return
            self._run_local(
                task, image, why if decision is None else "device-only decision", decision
            )
            return
        self._run_head(task, image, decision, msg.header)

    # --- decisions and fallbacks ----------------------------------------------------------
    def _usable_decision(self) -> tuple[SchedulerDecision | None, str]:
        if not self.edge_alive:
            return None, "edge unreachable (no heartbeat / liveliness lost)"
        if self.missed_in_row >= self.p["max_missed_results"]:
            return None, f"edge unreachable ({self.missed_in_row} tasks without a result)"
        if self.decision is None:
            return None, "no scheduler decision received yet"
        age = time.monotonic() - self.decision_at
        if age > self.p["decision_timeout_s"]:
            return None, f"stale decision ({age:.2f} s old)"
        return self.decision, ""

    def _skip(self, task: Task, d: SchedulerDecision, now: float) -> None:
        """The scheduler skipped this frame: no inference; report zero energy so the virtual
        queue drains by the budget, and record the frame as skipped (unanswered)."""
        task.policy, task.frame_index = d.policy, d.frame_index
        task.split_index = d.split_index
        energy = EnergyReport(
            robot_id=self.robot_id, task_id=task.task_id, frame_index=d.frame_index
        )
        energy.header.stamp = self.get_clock().now().to_msg()
        self.pub_energy.publish(energy)
        task.energy = {"total_energy_j": 0.0, "bytes_sent": 0, "packets_sent": 0, "air_s": 0.0}
        reason = (f"skipped by the scheduler (frame {d.frame_index}): energy budget or nothing "
                  "deliverable by the deadline")
        self._record(self.ledger.close(task.task_id), SKIPPED, reason, now)

    def _run_local(
        self, task: Task, image: np.ndarray, reason: str, decision: SchedulerDecision | None
    ) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        probs = self.runtime.full(image)
        latency, cpu = time.perf_counter() - t0, time.thread_time() - c0
        task.head_latency_s = latency
        task.compute_energy_j = float(compute_energy_j(cpu, self.device))
        task.split_index = self.runtime.n_splits - 1
        task.policy = decision.policy if decision else "local"
        task.frame_index = decision.frame_index if decision else 0
        energy = EnergyReport(
            robot_id=self.robot_id, task_id=task.task_id, frame_index=task.frame_index
        )
        energy.header.stamp = self.get_clock().now().to_msg()
        energy.compute_energy_j = energy.total_energy_j = task.compute_energy_j
        self.pub_energy.publish(energy)
        task.energy = {
            "total_energy_j": task.compute_energy_j,
            "bytes_sent": 0,
            "packets_sent": 0,
            "air_s": 0.0,
        }
        cls = int(np.argmax(probs))
        task.result = {
            "outcome": LOCAL_FALLBACK,
            "reason": reason,
            "class_id": cls,
            "confidence": float(probs[cls]),
            "entropy": float(normalized_entropy(probs[None])[0]),
            "packets_received": 0,
            "bytes_received": 0,
            "latency_tail_s": 0.0,
        }
        self._record(
            self.ledger.close(task.task_id),
            LOCAL_FALLBACK,
            reason,
            time.time(),
            modeled_head_s=float(head_time_s(cpu, self.device)),
        )

    def _run_head(self, task: Task, image: np.ndarray, d: SchedulerDecision, header) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        feature = self.runtime.head(image, d.split_index)
        cpu = time.thread_time() - c0  # the emulated robot CPU is not shared: CPU time, not wall
        qt = quantize(feature, d.bits)
        payloads = encode_packets(qt, self.runtime.layouts(d.split_index, d.bits))
        task.head_latency_s = time.perf_counter() - t0
        task.compute_energy_j = float(compute_energy_j(cpu, self.device))
        task.split_index, task.policy, task.frame_index = d.split_index, d.policy, d.frame_index
        task.packets_total = len(payloads)
        out = EncodedTask(robot_id=self.robot_id, task_id=task.task_id, frame_index=d.frame_index)
        out.header = header
        out.deadline = to_time(task.deadline_s)
        out.head_cpu_s = cpu  # the transmitter opens the window after the modeled head time
        out.compute_energy_j = task.compute_energy_j
        out.decision = d
        for p in payloads:
            m = FeaturePacket(
                robot_id=self.robot_id,
                task_id=task.task_id,
                frame_index=d.frame_index,
                model_name=d.model_name,
                split_index=d.split_index,
                packet_count=len(payloads),
            )
            m.header = header
            m.deadline = out.deadline
            fill_packet_msg(m, p)
            out.packets.append(m)
        self.pub_task.publish(out)

    # --- outcomes -------------------------------------------------------------------------
    def _close_due(self) -> None:
        now = time.time()
        wait = self.p["deadline_s"] + self.p["grace_s"]
        for key, seen_at in list(self.awaiting_image.items()):
            if now - seen_at > wait:  # captured, but its image was lost on the way to the head
                del self.awaiting_image[key]
                capture = key[0] + key[1] * 1e-9
                task = Task(self.next_task, capture, capture + self.p["deadline_s"], received_s=now)
                task.stamp_key = key
                self.next_task += 1
                self.ledger.capture(task)
                reason = "image lost between camera and head (capture record only)"
                self._record(self.ledger.close(task.task_id), DROPPED, reason, now)
        for task, kind, reason in self.ledger.due(now):
            if kind == DROPPED and task.result is None:
                self.missed_in_row += 1
            self._record(task, kind, reason, now)

    def _record(
        self, task: Task, kind: int, reason: str, now: float, modeled_head_s: float | None = None
    ) -> None:
        r = task.result or {}
        e = task.energy or {}
        if task.ground_truth < 0:  # the label may arrive after the image (separate topics)
            task.ground_truth = self.labels.pop(task.stamp_key, -1)
        msg = InferenceResult(
            robot_id=self.robot_id,
            task_id=task.task_id,
            frame_index=task.frame_index,
            outcome=kind,
            reason=reason,
        )
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.capture_stamp.sec, msg.capture_stamp.nanosec = task.stamp_key  # exact: joins the frame
        msg.class_id = int(r.get("class_id", -1)) if kind not in (DROPPED, SKIPPED) else -1
        msg.label = self.runtime.class_names[msg.class_id] if msg.class_id >= 0 else ""
        msg.confidence = float(r.get("confidence", 0.0))
        msg.entropy = float(r.get("entropy", 1.0))
        msg.ground_truth = task.ground_truth
        msg.policy = task.policy
        msg.split_index = task.split_index
        msg.packets_received = int(r.get("packets_received", 0))
        msg.packets_total = task.packets_total
        msg.bytes_sent = int(e.get("bytes_sent", 0))
        msg.bytes_received = int(r.get("bytes_received", 0))
        msg.latency_head_s = task.head_latency_s
        msg.latency_air_s = float(e.get("air_s", 0.0))
        msg.latency_tail_s = float(r.get("latency_tail_s", 0.0))
        done_at = task.result_at_s if kind in (0, 1) and task.result_at_s else now
        msg.latency_total_s = max(0.0, done_at - task.capture_s)
        msg.latency_capture_s = max(0.0, task.received_s - task.capture_s)
        msg.energy_j = float(e.get("total_energy_j", task.compute_energy_j))
        if kind == LOCAL_FALLBACK and modeled_head_s is not None:
            msg.deadline_met = modeled_head_s <= task.deadline_s - task.capture_s
        else:
            msg.deadline_met = kind not in (DROPPED, SKIPPED) and done_at <= task.deadline_s
        self.pub_outcome.publish(msg)


def main(args: list[str] | None = None) -> None:
    spin_node(HeadNode, args)


NODE_CLASS = HeadNode

if __name__ == "__main__":
    main()
