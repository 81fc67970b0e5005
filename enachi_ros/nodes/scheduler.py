"""Edge scheduler node: the frame clock and one ENACHI (or baseline) decision per robot per frame.

Each frame it builds the core's ``FrameState`` from the latest channel reports and the virtual
energy queues, calls ``policy.decide`` (the very object the simulator calls) and publishes a
``SchedulerDecisionArray`` (TRANSIENT_LOCAL: a robot that (re)joins gets the current one).
Energy reports from the robots update the virtual queues ``Q_n``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from enachi_interfaces.msg import (
    ChannelReport,
    EnergyReport,
    SchedulerDecision,
    SchedulerDecisionArray,
)
from std_msgs.msg import Header

from enachi_ros.core.artifact import default_artifact_dir, load_artifact
from enachi_ros.core.channel import ChannelEstimator, path_gain
from enachi_ros.core.delivery import DeliveryEstimator, report_bits_sent
from enachi_ros.core.policies import POLICY_NAMES, FrameState, make_policy
from enachi_ros.core.queues import VirtualQueues
from enachi_ros.core.split_table import SplitTable
from enachi_ros.ros import qos, topics
from enachi_ros.ros.diagnostics import OK, Health
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.params import ARTIFACT_DIR, MAX_DEADLINE_S, ROBOT_IDS, Param
from enachi_ros.ros.physical import (
    CHANNEL_PARAMS,
    DEVICE_PARAMS,
    RADIO_PARAMS,
    channel_from,
    device_from,
    radio_from,
)
from enachi_ros.ros.rejects import InputError, one_of
from enachi_ros.ros.spin import spin_node
from enachi_ros.ros.validation import check_channel_report, check_energy_report

PARAMS = (
    ROBOT_IDS,
    Param("model", "fmnist_resnet", "registered split model (its calibration artifact is used)"),
    ARTIFACT_DIR,
    Param(
        "policy",
        "enachi",
        "scheduling policy of the core (not the oracle: it needs hindsight only the simulator "
        "has)",
        choices=tuple(n for n in POLICY_NAMES if n != "oracle"),
    ),
    Param(
        "fixed_split",
        "",
        "split of the progressive_fixed baseline (empty: best at the median channel)",
    ),
    Param(
        "frame_period_s",
        0.2,
        "frame length: one task per robot per frame (s)",
        low=0.005,
        high=60.0,
    ),
    Param("deadline_s", 0.1, "hard task deadline from capture (s)", low=0.001,
          high=MAX_DEADLINE_S),
    Param(
        "total_bandwidth_hz",
        600e3,
        "uplink bandwidth W shared by the robots (Hz)",
        low=1.0,
        high=1e10,
    ),
    Param(
        "energy_budget_j",
        0.01,
        "long-term average device energy per task E_bar (J)",
        low=0.0,
        high=1e3,
    ),
    Param("v", 1.0, "Lyapunov trade-off V (accuracy vs energy)", low=0.0, high=1e9),
    Param("bits", 8, "feature quantization bit width", choices=(8, 4, 2)),
    Param(
        "default_distance_m",
        60.0,
        "distance assumed before a robot's first channel report",
        low=0.1,
        high=1e5,
    ),
    Param("compute_energy_margin", 3.0, "an energy report may claim up to this times the "
          "profiled compute energy of the whole model (plus p_max over the deadline)",
          low=1.0, high=100.0),
    Param("max_tasks_per_frame", 8, "energy reports accepted per robot and frame (a camera "
          "faster than the frame clock runs several tasks per frame)", low=1, high=1000),
    *RADIO_PARAMS,
    *DEVICE_PARAMS,
    *CHANNEL_PARAMS,
)

# bit/s/Hz: Shannon at ~190 dB SNR, beyond any radio; bounds a channel report's claimed rate
MAX_SPECTRAL_EFFICIENCY = 64.0
FRAMES_REMEMBERED = 200  # frames whose planned windows and reports the scheduler keeps

# Decisions is the core's type; these are its per-robot arrays copied into the message.
_FLOAT_FIELDS = {
    "bandwidth_hz": "bandwidth_hz",
    "reference_power_w": "p_ref",
    "window_s": "window_s",
    "entropy_threshold": "entropy_threshold",
    "predicted_accuracy": "predicted_accuracy",
    "predicted_energy_j": "predicted_energy_j",
}


class SchedulerNode(ManagedNode):
    """Managed node: configure loads the artifact, builds the policy and the queues and creates
    the topics; activate starts the frame clock."""

    PARAMS = PARAMS

    def __init__(self, **kwargs) -> None:
        super().__init__("scheduler", **kwargs)

    def configure_node(self) -> None:
        self.robot_ids: list[str] = list(self.p["robot_ids"])
        n = len(self.robot_ids)
        self.radio = radio_from(self.p, self.p["total_bandwidth_hz"])
        self.device = device_from(self.p)
        self.artifact = load_artifact(
            self.p["artifact_dir"] or default_artifact_dir(self.p["model"])
        )
        self.splits = SplitTable.from_profile(self.artifact.profile, self.device, self.p["bits"])
        self.policy = make_policy(
            self.p["policy"], v=self.p["v"], fixed_split=self.p["fixed_split"] or None
        )
        self.queues = VirtualQueues(np.full(n, self.p["energy_budget_j"]))
        default_gain = float(path_gain(self.p["default_distance_m"], channel_from(self.p)))
        # the simulator's estimator: log-domain EMA of the reported mean gains, so the outer loop
        # plans on the local mean channel, not on the fade the last task happened to see
        self.channel = ChannelEstimator(np.full(n, default_gain), smoothing=0.2)
        # the simulator's estimator of the delivery rate (packets that arrive / sent) from the
        # reports' loss rates (core.delivery): the plans' goodput is delivery x rate
        self.delivery = DeliveryEstimator(n)
        self.distances = np.full(n, self.p["default_distance_m"])
        self.frame_index = 0
        self.reports_received = 0
        # What one task can physically spend: the costliest compute (the whole model: a robot
        # may fall back to it under any decision), with a margin for a robot slower than
        # profiled, plus the radio transmitting at p_max over the window its frame's decision
        # planned (over the deadline for a frame this scheduler no longer remembers, or a
        # robot's local task) and listening over the deadline.
        most_compute = float(np.max(self.splits.compute_j))
        self.compute_bound_j = self.p["compute_energy_margin"] * most_compute
        self.windows: list[dict[int, float]] = [{} for _ in self.robot_ids]  # frame -> window
        self.reported: list[dict[tuple[int, int], None]] = [{} for _ in self.robot_ids]
        self.per_frame: list[dict[int, int]] = [{} for _ in self.robot_ids]  # accepted reports
        self.pub = self.create_publisher(
            SchedulerDecisionArray, topics.DECISIONS, qos.decision_qos()
        )
        self.last_array: SchedulerDecisionArray | None = None
        self.republished_at = -1e9
        self.requests = 0
        self.create_subscription(Header, topics.DECISION_REQUEST, self._on_request,
                                 qos.local_reliable_qos(5))
        for i, rid in enumerate(self.robot_ids):
            self.create_subscription(
                EnergyReport,
                topics.robot_topic(rid, topics.ENERGY),
                lambda m, i=i: self._on_energy(i, m),
                qos.report_qos(),
            )
            self.create_subscription(
                ChannelReport,
                topics.robot_topic(rid, topics.CHANNEL),
                lambda m, i=i: self._on_channel(i, m),
                qos.report_qos(),
            )

    def activate_node(self) -> None:
        self.timer = self.create_timer(self.p["frame_period_s"], self._on_frame)
        # the first decision right after activation, not a frame period later: robots whose
        # cameras start with the fleet would run their first frames without one
        self.first = self.create_timer(0.001, self._first_frame)
        self.get_logger().info(
            f"scheduler: policy={self.policy.name} robots={self.robot_ids} "
            f"W={self.radio.bandwidth_hz:.0f} Hz T_d={self.p['deadline_s']} s"
        )

    def _first_frame(self) -> None:
        self.first.cancel()
        self._on_frame()

    def _on_energy(self, i: int, msg: EnergyReport) -> None:
        """A robot's energy report updates its virtual queue, once per task and only within
        what a task can physically spend: a single forged 3e38 J report would otherwise send
        the queue to infinity and skip every later frame of the robot."""
        rid = self.robot_ids[i]
        topic = topics.robot_topic(rid, topics.ENERGY)
        frame, task_id = int(msg.frame_index), int(msg.task_id)
        try:
            oldest = self.frame_index - FRAMES_REMEMBERED
            if not max(oldest, 0) <= frame <= max(self.frame_index - 1, 0):
                raise InputError("frame_index", frame, f"a frame this scheduler published, in "
                                 f"[{max(oldest, 0)}, {max(self.frame_index - 1, 0)}]")
            if (frame, task_id) in self.reported[i]:
                raise InputError("task_id", task_id, f"a task not reported before in frame "
                                 f"{frame}")
            if self.per_frame[i].get(frame, 0) >= self.p["max_tasks_per_frame"]:
                raise InputError("frame_index", frame, f"at most {self.p['max_tasks_per_frame']} "
                                 "reports per frame")
            window = self.windows[i].get(frame, self.p["deadline_s"])
            e = check_energy_report(msg, rid, self.compute_bound_j, *self.radio.power.bounds_j(
                self.radio.p_max_w, window, self.p["deadline_s"]))
        except InputError as exc:
            self.rejects.reject(topic, exc, "energy report")
            return
        # replays of a report, and floods of in-bound ones, cannot move the queue further
        self.reported[i][(frame, task_id)] = None
        self.per_frame[i][frame] = self.per_frame[i].get(frame, 0) + 1
        for seen in (self.reported[i], self.per_frame[i]):
            if len(seen) > 4 * FRAMES_REMEMBERED:
                seen.pop(next(iter(seen)))
        # Only robot i reports: the others get E = E_bar, which leaves their Q unchanged.
        energies = self.queues.budgets.copy()
        energies[i] = e
        self.queues.update(energies)
        self.reports_received += 1

    def _on_channel(self, i: int, msg: ChannelReport) -> None:
        rid = self.robot_ids[i]
        try:
            g, distance, _loss = check_channel_report(
                msg, rid, math.ceil(self.p["deadline_s"] / self.radio.slot_s) + 1,
                MAX_SPECTRAL_EFFICIENCY * self.radio.bandwidth_hz)
        except InputError as exc:
            self.rejects.reject(topics.robot_topic(rid, topics.CHANNEL), exc, "channel report")
            return
        reported = np.full(len(self.robot_ids), np.nan)  # NaN: no report, estimate kept
        reported[i] = g
        self.channel.update(reported)
        if distance > 0:
            self.distances[i] = distance
        self._note_delivery(i, msg)

    def _note_delivery(self, i: int, msg: ChannelReport) -> None:
        """A validated report's loss rate, weighted by the bits the task sent, updates the
        delivery rate the next decisions plan with."""
        bits = report_bits_sent(msg.rate_bps, len(msg.slot_gain), self.radio.slot_s)
        self.delivery.note(i, float(msg.packet_loss_rate), bits)

    def _on_request(self, msg: Header) -> None:
        """A robot that hears the edge but holds no valid decision asks for the current one:
        publish the last array again (at most every 0.1 s; the robots ask every 0.25 s)."""
        try:
            one_of("frame_id", msg.frame_id, self.robot_ids)  # the asking robot
        except InputError as exc:
            self.rejects.reject(topics.DECISION_REQUEST, exc, "decision request")
            return
        self.requests += 1
        if self.requests == 1 or self.requests % 50 == 0:
            self.get_logger().warn(f"{msg.frame_id} holds no valid decision and asked for the "
                                   f"current one ({self.requests} requests so far)")
        now = time.monotonic()
        if self.last_array is not None and now - self.republished_at >= 0.1:
            self.republished_at = now
            self.pub.publish(self.last_array)

    def health(self) -> Health:
        return OK, "", {"frame_index": self.frame_index, "decision_requests": self.requests,
                        "energy_reports": self.reports_received}

    def decide(self):
        """One frame's decisions from the current state (also used by tests and benches)."""
        state = FrameState(
            gains=self.channel.estimate.copy(),
            queues=self.queues.q.copy(),
            budgets_j=self.queues.budgets,
            deadline_s=self.p["deadline_s"],
            bandwidth_hz=self.radio.bandwidth_hz,
            splits=self.splits,
            radio=self.radio,
            distances_m=self.distances.copy(),
            frame_index=self.frame_index,
            delivery=self.delivery.delivery,
        )
        t0 = time.perf_counter()
        decisions = self.policy.decide(state)
        self.delivery.step()  # one frame older: reports to come count more
        return state, decisions, time.perf_counter() - t0

    def _on_frame(self) -> None:
        state, d, solve_s = self.decide()
        out = SchedulerDecisionArray()
        out.header.stamp = self.get_clock().now().to_msg()
        out.frame_index = self.frame_index
        out.policy = d.policy
        out.frame_period_s = self.p["frame_period_s"]
        out.total_bandwidth_hz = self.radio.bandwidth_hz
        out.solve_time_s = solve_s
        out.bandwidth_price = float(d.bandwidth_price)
        for i, rid in enumerate(self.robot_ids):
            m = SchedulerDecision()
            m.header = out.header
            m.robot_id = rid
            m.frame_index = self.frame_index
            m.policy = d.policy
            m.model_name = self.p["model"]
            s = int(d.split[i])
            m.skip = not bool(d.run[i])
            m.split_index = s
            m.split_name = self.splits.names[s]
            m.bits = self.p["bits"]
            for field, attr in _FLOAT_FIELDS.items():
                setattr(m, field, float(np.asarray(getattr(d, attr))[i]))
            m.deadline_s = self.p["deadline_s"]
            m.slot_s = self.radio.slot_s
            m.progressive = bool(d.progressive[i])
            m.energy_queue_j = float(state.queues[i])
            m.energy_budget_j = float(state.budgets_j[i])
            m.channel_gain = float(state.gains[i])
            m.power_law = d.power_law
            m.decode_skip = bool(d.decode_skip)
            m.importance_order = bool(d.importance_order[i])
            m.partial_ok = bool(d.partial_ok[i])
            m.window_slots = int(d.window_slots[i])
            self.windows[i][self.frame_index] = max(m.window_s, m.window_slots * m.slot_s)
            if len(self.windows[i]) > FRAMES_REMEMBERED:
                self.windows[i].pop(next(iter(self.windows[i])))
            out.decisions.append(m)
        self.pub.publish(out)
        self.last_array = out
        self.frame_index += 1


def main(args: list[str] | None = None) -> None:
    spin_node(SchedulerNode, args)


NODE_CLASS = SchedulerNode

if __name__ == "__main__":
    main()
