"""Robot head-inference node: runs the head at the decided split, quantizes, orders, hands off
(or, for a codec option, encodes the frame as JPEG or WebP and cuts the bytes into packets).

It is also the robot's task owner: every captured frame gets a ledger entry and ends in exactly
one ``InferenceResult`` on ``enachi/outcome`` (edge result, local inference, a skip the
scheduler decided, or a drop with its reason). Fallbacks: no valid decision in time -> the
robot's local policy; edge unreachable (its liveliness lost, or several tasks in a row without
an edge result) -> device-only.

Device energy = active power x head CPU time x device slowdown (core.energy; an encoder: one
core's power x its time x the CPU slowdown). CPU time of the inference thread, not wall time:
the emulated robot CPU is dedicated, so a busy host (a whole fleet on one machine) must not
inflate the robot's energy.

Hostile input (anyone on the domain can publish): every received message is validated
(``ros.validation``) and a rejected one is counted per topic and field; an invalid decision is
ignored (the last valid one stays), a result must match a task the robot sent to the edge (its
capture stamp, split and packet count), an energy report must match the task's compute and stay
within p_max over its deadline. A robot that hears the edge but holds no valid decision says so
(log, /diagnostics) and asks the scheduler for the current one (``enachi/decision_request``).
Deadlines, ages and latencies use the node's ROS clock (simulated time under use_sim_time); a
capture stamp far from it is flagged once and its frame dropped with the reason. At deactivation
every open task is closed, so each captured frame still ends in exactly one outcome.
"""

from __future__ import annotations

import math
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
from enachi_ros.core.energy import codec_energy_j, codec_time_s, compute_energy_j, head_time_s
from enachi_ros.core.ledger import Ledger, Task
from enachi_ros.core.outcomes import DROPPED, LOCAL_FALLBACK, SKIPPED
from enachi_ros.core.packets import encode_packets
from enachi_ros.core.quantize import quantize
from enachi_ros.models.runtime import ModelRuntime
from enachi_ros.ros import qos, topics
from enachi_ros.ros.diagnostics import OK, WARN, Health
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.messages import (
    fill_codec_packet_msg,
    fill_packet_msg,
    image_to_array,
    to_seconds,
    to_time,
)
from enachi_ros.ros.params import (
    ARTIFACT_DIR,
    MAX_DEADLINE_S,
    MAX_STAMP_SKEW,
    MODEL,
    ROBOT_ID,
    Param,
)
from enachi_ros.ros.physical import DEVICE_PARAMS, RADIO_PARAMS, device_from, radio_from
from enachi_ros.ros.rejects import InputError, finite
from enachi_ros.ros.spin import spin_node
from enachi_ros.ros.validation import (
    FLOAT32_SLACK,
    check_decision,
    check_edge_result,
    check_robot,
    check_stamp,
)

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
    Param("deadline_s", 0.1, "task deadline used for local decisions (s)", low=0.001,
          high=MAX_DEADLINE_S),
    Param("edge_liveliness_s", 1.0, "lease of the edge heartbeat (s)", low=0.05, high=60.0),
    Param(
        "max_missed_results",
        3,
        "tasks in a row without an edge result before the robot treats the edge as unreachable",
        low=1,
        high=1000,
    ),
    Param("edge_retry_s", 2.0, "while the edge is unreachable for missed results, one task is "
          "sent to it this often to see whether it serves again (s)", low=0.01, high=3600.0),
    Param(
        "grace_s",
        0.25,
        "wait after a deadline for a late result or energy report (s)",
        low=0.0,
        high=10.0,
    ),
    Param("threads", 1, "torch CPU threads", low=1, high=64),
    MAX_STAMP_SKEW,
    *DEVICE_PARAMS,
    *RADIO_PARAMS,
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
        self.power = radio_from(self.p, 1.0).power  # the radio's draw: bounds on its reports
        self.runtime = ModelRuntime(self.p["model"], self.p["threads"], self.p["artifact_dir"])
        # one inference now: the first one's cold start (allocations, kernel selection) took
        # 3x the profiled CPU time and its energy report exceeded what a task may claim
        self.runtime.full(np.zeros(self.runtime.input_shape, np.float32))
        self.ledger = Ledger(grace_s=self.p["grace_s"])
        self.decision: SchedulerDecision | None = None
        self.decision_at = -1e9  # ROS time of the last valid decision
        self.edge_since = 0.0  # ROS time the edge became reachable
        self.no_decision_warned_at = -1e9
        self.decision_requests = 0
        self.stamp_flagged = False
        self.labels: dict[tuple[int, int], int] = {}
        self.next_task = 0
        self.edge_alive = False
        self.missed_in_row = 0
        self.last_probe_s = -1e9
        self.resubscribed_at = -1e9
        self.awaiting_image: dict[tuple[int, int], float] = {}  # capture records without image
        self.images_seen: dict[tuple[int, int], None] = {}  # recent image stamps (ordered set)
        self.recorded: dict[tuple[int, int], None] = {}  # stamps of recent frames with an outcome
        self.pub_task = self.create_publisher(
            EncodedTask, topics.ENCODED, qos.local_reliable_qos(20)
        )
        self.pub_outcome = self.create_publisher(InferenceResult, topics.OUTCOME, qos.outcome_qos())
        self.pub_energy = self.create_publisher(EnergyReport, topics.ENERGY, qos.report_qos())
        self.pub_request = self.create_publisher(Header, topics.DECISION_REQUEST,
                                                 qos.local_reliable_qos(5))
        self.create_subscription(Image, topics.IMAGE, self._on_image, qos.camera_qos())
        self.create_subscription(
            GroundTruth, topics.GROUND_TRUTH, self._on_label, qos.capture_record_qos()
        )
        self.decision_sub = self.create_subscription(
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
        self.create_timer(0.25, self._watch_decisions)

    def deactivate_node(self) -> None:
        """Close every open task (and every capture record still waiting for its image) as
        dropped: each captured frame ends in exactly one outcome, even when the robot stops."""
        now = self.now()
        for key in list(self.awaiting_image):
            self._drop_unseen(key, now, "robot stopped before the frame's image arrived")
        self.awaiting_image.clear()
        for task_id in list(self.ledger.open):
            self._record(self.ledger.close(task_id), DROPPED,
                         "robot stopped before the task's outcome", now)

    # --- inputs -------------------------------------------------------------------------
    def _on_label(self, msg: GroundTruth) -> None:
        """The camera's reliable capture record (one per frame, label -1 if unknown): a frame
        whose best-effort image never reaches the head still gets its outcome (a drop)."""
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        if key in self.labels:
            self.rejects.reject(topics.GROUND_TRUTH, InputError(
                "header.stamp.repeat", key, "one capture record per frame"), "capture record")
            return
        if key in self.recorded:
            return  # its frame has its outcome already (the recorder joins the label itself)
        label = int(msg.label)
        if label != -1 and not 0 <= label < len(self.runtime.class_names):
            # the frame still counts (it was recorded as captured); its label does not
            self.rejects.reject(topics.GROUND_TRUTH, InputError(
                "label", label, f"-1 or a class in [0, {len(self.runtime.class_names)})"),
                "capture record")
            label = -1
        self.labels[key] = label
        if key not in self.images_seen:
            self.awaiting_image[key] = self.now()
        if len(self.labels) > 1000:
            self.labels.pop(next(iter(self.labels)))

    def _on_decisions(self, msg: SchedulerDecisionArray) -> None:
        """This robot's decision, if valid; an invalid one is counted and ignored: the robot
        keeps its last valid decision (or runs locally once that is stale)."""
        for d in msg.decisions:
            if d.robot_id != self.robot_id:
                continue
            try:
                check_decision(d, self.runtime.name, self.runtime.n_splits, self.p["p_max_w"],
                               self.p["slot_s"])
            except InputError as exc:
                self.rejects.reject(topics.DECISIONS, exc, "decision")
                continue
            self.decision, self.decision_at = d, self.now()

    def _on_heartbeat(self, _msg: Header) -> None:
        if not self.edge_alive:  # (again): give the edge path a fresh chance
            self.get_logger().info("edge reachable")
            self.edge_since = self.now()
            self.missed_in_row = 0
        self.edge_alive = True

    def _on_liveliness(self, event) -> None:
        if event.alive_count == 0 and self.edge_alive:
            self.get_logger().warn("edge liveliness lost: falling back to device-only")
            self.edge_alive = False

    def _sent_task(self, task_id: int) -> Task:
        """The open task ``task_id`` that this robot sent to the edge (InputError otherwise)."""
        task = self.ledger.open.get(int(task_id))
        if task is None:
            self.ledger.count_stray_result(int(task_id))
        if task is None or task.packets_total == 0:
            raise InputError("task_id", int(task_id), "an open task sent to the edge")
        return task

    def _on_result(self, msg: InferenceResult) -> None:
        try:
            task = self._sent_task(msg.task_id)
            check_edge_result(msg, self.robot_id, len(self.runtime.class_names),
                              task.packets_total, task.split_index, task.stamp_key)
        except InputError as exc:
            self.rejects.reject(topics.RESULT, exc, "edge result")
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
        self.ledger.on_result(int(msg.task_id), result, self.now())

    def _on_energy(self, msg: EnergyReport) -> None:
        """The transmitter's report of a task this robot sent: its compute part must be the
        head's, its radio parts at most what the radio draws transmitting at p_max and
        listening over the task's deadline."""
        try:
            check_robot("robot_id", msg.robot_id, self.robot_id)
            task = self._open_energy_task(msg.task_id)
            if task is None:
                return  # the head's own report of a local or skipped task (already closed)
            window = task.deadline_s - task.capture_s
            tx_j, listen_j = (b * (1 + FLOAT32_SLACK) for b in self.power.bounds_j(
                self.p["p_max_w"], window, window))
            compute_j = task.compute_energy_j * (1 + FLOAT32_SLACK) + 1e-9
            finite("transmit_energy_j", msg.transmit_energy_j, 0.0, tx_j)
            finite("listen_energy_j", msg.listen_energy_j, 0.0, listen_j)
            finite("compute_energy_j", msg.compute_energy_j, 0.0, compute_j)
            total = finite("total_energy_j", msg.total_energy_j, 0.0,
                           compute_j + tx_j + listen_j)
            most_slots = math.ceil(window / task.slot_s) + 1
            if int(msg.slots_used) > most_slots:
                raise InputError("slots_used", int(msg.slots_used), f"<= {most_slots} (the "
                                 "task's deadline in slots)")
        except InputError as exc:
            self.rejects.reject(topics.ENERGY, exc, "energy report")
            return
        self.ledger.on_energy(
            int(msg.task_id),
            {
                "total_energy_j": total,
                "bytes_sent": int(msg.bytes_sent),
                "packets_sent": int(msg.packets_sent),
                "air_s": float(msg.slots_used) * task.slot_s,
            },
        )

    def _open_energy_task(self, task_id: int) -> Task | None:
        task = self.ledger.open.get(int(task_id))
        if task is None:
            if int(task_id) in self.ledger.closed:
                return None
            raise InputError("task_id", int(task_id), "a task of this robot")
        if task.packets_total == 0:
            raise InputError("task_id", int(task_id), "a task sent to the edge")
        return task

    def _on_image(self, msg: Image) -> None:
        now = self.now()
        capture = to_seconds(msg.header.stamp)
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        if key in self.images_seen or key in self.recorded:  # a frame is its stamp: a second
            self.rejects.reject(topics.IMAGE, InputError(  # image is not a new frame
                "header.stamp.repeat", key, "one image per frame"), "image")
            return
        task = Task(self.next_task, capture, 0.0, received_s=now)
        task.stamp_key = key
        self.next_task += 1
        self.awaiting_image.pop(task.stamp_key, None)
        self.images_seen[task.stamp_key] = None
        if len(self.images_seen) > 1000:
            self.images_seen.pop(next(iter(self.images_seen)))
        try:
            self._check_capture_stamp(msg.header.stamp, now)
            image = image_to_array(msg)
            if image.shape != self.runtime.input_shape:
                c, h, w = self.runtime.input_shape
                raise ValueError(f"image: expected {w}x{h} with {c} channel(s) (the model's "
                                 f"input), got {msg.width}x{msg.height} {msg.encoding!r}")
        except ValueError as exc:
            self.rejects.reject(topics.IMAGE, exc, "image")
            task.deadline_s = capture + self.p["deadline_s"]
            self.ledger.capture(task)
            self._record(self.ledger.close(task.task_id), DROPPED, f"image rejected: {exc}", now)
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

    def _check_capture_stamp(self, stamp, now: float) -> None:
        """A capture stamp far from this node's clock (a camera on simulated time and a robot on
        the system clock, or the reverse) makes every deadline meaningless: the first one is
        flagged with an error that says what to check, each is counted and its frame dropped."""
        try:
            check_stamp("header.stamp", stamp, now, self.p["max_stamp_skew_s"])
        except InputError as exc:
            if not self.stamp_flagged:
                self.stamp_flagged = True
                self.get_logger().error(
                    f"frame stamp {to_seconds(stamp):.3f} s is {to_seconds(stamp) - now:+.3f} s "
                    f"from this node's ROS clock ({now:.3f} s, use_sim_time="
                    f"{self.get_parameter('use_sim_time').value}): set use_sim_time the same on "
                    "the camera (or simulator) and on the fleet; such frames are dropped "
                    "(flagged once, counted on /diagnostics)")
            raise exc

    # --- decisions and fallbacks ----------------------------------------------------------
    def _watch_decisions(self) -> None:
        """A robot that hears the edge but holds no valid decision for ``decision_timeout_s``
        says so (log, /diagnostics) and asks the scheduler to publish the current decisions
        again; if the decision topic has no matched publisher, it re-creates its subscription
        (a lost discovery match is otherwise never repaired)."""
        now = self.now()
        wait = self.p["decision_timeout_s"]
        if not self.edge_alive or now - max(self.decision_at, self.edge_since) <= wait:
            return
        if now - self.no_decision_warned_at >= 5.0:
            self.no_decision_warned_at = now
            self.get_logger().warn(
                f"edge reachable but no valid scheduler decision for "
                f"{now - max(self.decision_at, self.edge_since):.1f} s: frames run locally; "
                f"asking the scheduler again ({self.decision_requests} requests so far)")
        request = Header(frame_id=self.robot_id)
        request.stamp = self.get_clock().now().to_msg()
        self.pub_request.publish(request)
        self.decision_requests += 1
        if self.decision_sub.get_publisher_count() == 0 and now - self.resubscribed_at >= 5.0:
            self.resubscribed_at = now
            self.decision_sub = self.replace_subscription(
                self.decision_sub, SchedulerDecisionArray, topics.DECISIONS,
                self._on_decisions, qos.decision_qos())

    def health(self) -> Health:
        """WARN while the edge is reachable but no valid decision is held."""
        values = {"edge_reachable": self.edge_alive, "decision_requests": self.decision_requests,
                  "open_tasks": len(self.ledger.open)}
        now = self.now()
        age = now - self.decision_at
        values["decision_age_s"] = round(age, 3) if self.decision is not None else "none"
        if self.edge_alive and now - max(self.decision_at, self.edge_since) > \
                self.p["decision_timeout_s"]:
            return WARN, "edge reachable but no valid scheduler decision: running locally", values
        return OK, "", values

    def _usable_decision(self) -> tuple[SchedulerDecision | None, str]:
        if not self.edge_alive:
            return None, "edge unreachable (no heartbeat / liveliness lost)"
        if self.missed_in_row >= self.p["max_missed_results"]:
            # a heartbeat alone does not prove the edge serves (a forged or a half-dead edge):
            # run locally, and send one task every edge_retry_s to find out when it serves again
            now = self.now()
            if now - self.last_probe_s < self.p["edge_retry_s"]:
                return None, f"edge unreachable ({self.missed_in_row} tasks without a result)"
            self.last_probe_s = now
        if self.decision is None:
            return None, "no scheduler decision received yet"
        age = self.now() - self.decision_at
        if age > self.p["decision_timeout_s"]:
            return None, f"stale decision ({age:.2f} s old)"
        d = self.decision
        if not d.skip and self.runtime.kind(d.split_index) != "device_only" and (
                d.bandwidth_hz <= 0 or d.window_slots == 0):
            return None, "decision leaves no uplink (bandwidth or window 0)"
        return d, ""

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
        task.split_index = self.runtime.device_index
        task.policy = decision.policy if decision else "local"
        last = decision or self.decision  # a local task counts in the last decided frame
        task.frame_index = last.frame_index if last else 0
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
            self.now(),
            modeled_head_s=float(head_time_s(cpu, self.device)),
        )

    def _run_head(self, task: Task, image: np.ndarray, d: SchedulerDecision, header) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        codec = self.runtime.codec(d.split_index) is not None
        if codec:  # the frame compressed: one core's encoder, the bytes cut into packets
            data = self.runtime.encode(image, d.split_index)
            cpu = time.thread_time() - c0
            size = self.runtime.max_payload_bytes
            chunks = [data[i:i + size] for i in range(0, len(data), size)]
            energy, robot_s = codec_energy_j(cpu, self.device), codec_time_s(cpu, self.device)
        else:
            feature = self.runtime.head(image, d.split_index)
            cpu = time.thread_time() - c0  # the emulated robot CPU is not shared: CPU time
            qt = quantize(feature, d.bits)
            chunks = encode_packets(qt, self.runtime.layouts(d.split_index, d.bits))
            energy, robot_s = compute_energy_j(cpu, self.device), head_time_s(cpu, self.device)
        task.head_latency_s = time.perf_counter() - t0
        task.compute_energy_j = float(energy)
        task.split_index, task.policy, task.frame_index = d.split_index, d.policy, d.frame_index
        task.packets_total, task.slot_s = len(chunks), float(d.slot_s)
        out = EncodedTask(robot_id=self.robot_id, task_id=task.task_id, frame_index=d.frame_index)
        out.header = header
        out.deadline = to_time(task.deadline_s)
        out.head_cpu_s = cpu
        out.robot_compute_s = float(robot_s)  # the transmitter opens the window after it
        out.compute_energy_j = task.compute_energy_j
        out.decision = d
        for i, p in enumerate(chunks):
            m = FeaturePacket(
                robot_id=self.robot_id,
                task_id=task.task_id,
                frame_index=d.frame_index,
                model_name=d.model_name,
                split_index=d.split_index,
                packet_count=len(chunks),
            )
            m.header = header
            m.deadline = out.deadline
            if codec:
                fill_codec_packet_msg(m, i, p, self.runtime.input_shape)
            else:
                fill_packet_msg(m, p)
            out.packets.append(m)
        self.pub_task.publish(out)

    # --- outcomes -------------------------------------------------------------------------
    def _drop_unseen(self, key: tuple[int, int], now: float, reason: str) -> None:
        """The outcome of a frame known only by its capture record."""
        capture = key[0] + key[1] * 1e-9
        task = Task(self.next_task, capture, capture + self.p["deadline_s"], received_s=now)
        task.stamp_key = key
        self.next_task += 1
        self.ledger.capture(task)
        self._record(self.ledger.close(task.task_id), DROPPED, reason, now)

    def _close_due(self) -> None:
        now = self.now()
        wait = self.p["deadline_s"] + self.p["grace_s"]
        for key, seen_at in list(self.awaiting_image.items()):
            if now - seen_at > wait:  # captured, but its image was lost on the way to the head
                del self.awaiting_image[key]
                self._drop_unseen(key, now,
                                  "image lost between camera and head (capture record only)")
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
        self.recorded[task.stamp_key] = None  # a frame gets one outcome: later copies are refused
        if len(self.recorded) > 2000:
            self.recorded.pop(next(iter(self.recorded)))
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
