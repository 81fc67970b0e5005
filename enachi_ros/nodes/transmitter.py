"""Robot progressive-transmitter node: the emulated radio and the inner power loop.

For each encoded task it runs the core's packet level (:class:`~enachi_ros.core.link.Uplink`, the
composition the simulator runs, here for a batch of one task) slot by slot in real time: per slot
the channel gain (emulated Rayleigh fading over path loss, explicit and seeded), the power from the
inner reference-tracking law, the rate, which packets go out and which the emulated link loses.
Delivered packets are published on ``enachi/features`` at the end of their slot; a STOP from the
edge ends the task at once; at the window end the task ends anyway. Then it reports the energy
(compute, then what the radio drew above its doze floor: transmitting, and listening in the
window and for the result, ``core.radio_power``) and the channel it saw.

Replace the emulation by a real link with ``radio_emulation:=false``: packets are published as
the rate allows and the network loses what it loses.

Every encoded task and every feedback message is validated first (``check_encoded_task``: the
robot, the decision's radio fields, the packets' ids and count, the stamps against the node's
clock); a rejected one is counted per field and ignored. Slots run on the node's ROS clock
(simulated time under use_sim_time).
"""

from __future__ import annotations

import collections

import numpy as np
from enachi_interfaces.msg import (
    ChannelReport,
    EncodedTask,
    EnergyReport,
    FeaturePacket,
    TaskFeedback,
)

from enachi_ros.core.channel import RayleighChannel
from enachi_ros.core.link import EmulatedLink, RealLink, Uplink
from enachi_ros.core.rates import snr
from enachi_ros.ros import qos, topics
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.messages import to_seconds
from enachi_ros.ros.params import FEATURE_QUEUE, MAX_STAMP_SKEW, MODEL, ROBOT_ID, Param
from enachi_ros.ros.physical import (
    CHANNEL_PARAMS,
    RADIO_PARAMS,
    channel_from,
    radio_from,
)
from enachi_ros.ros.rejects import InputError, one_of
from enachi_ros.ros.spin import spin_node
from enachi_ros.ros.validation import check_encoded_task, check_robot

PARAMS = (
    ROBOT_ID,
    MODEL,
    Param("distance_m", 60.0, "distance to the access point (m)", low=0.1, high=1e5),
    Param("channel_seed", 1, "seed of this robot's emulated channel and losses", low=0),
    Param("radio_emulation", True, "emulate the radio (false: a real link carries the packets)"),
    Param(
        "loss_feedback_slots",
        1,
        "slots until a lost packet is known and can be re-sent",
        low=0,
        high=1000,
    ),
    Param("tick_s", 0.002, "how often emulated slots are advanced (s)", low=0.0005, high=0.1),
    Param("max_queued_tasks", 8, "tasks waiting for the radio; further ones are rejected",
          low=1, high=1000),
    MAX_STAMP_SKEW,
    *FEATURE_QUEUE,
    *RADIO_PARAMS,
    *CHANNEL_PARAMS,
)


class _Active:
    """One task being transmitted."""

    def __init__(self, task: EncodedTask, link: Uplink, start_s: float) -> None:
        self.task, self.link, self.start_s = task, link, start_s
        self.packets = {int(p.packet_index): p for p in task.packets}
        self.stopped = False
        self.gains: list[float] = []  # the channel of every slot stepped (the channel report)

    @property
    def bytes_sent(self) -> int:
        return round(float(self.link.bits_sent[0]) / 8)


class TransmitterNode(ManagedNode):
    """Managed node: configure builds the emulated channel and creates the topics; activate
    starts the slot clock; deactivate drops the task in flight and the queue."""

    PARAMS = PARAMS

    def __init__(self, **kwargs) -> None:
        super().__init__("transmitter", **kwargs)

    def configure_node(self) -> None:
        self.robot_id: str = self.p["robot_id"]
        self.channel_params = channel_from(self.p)
        self.rng = np.random.default_rng(self.p["channel_seed"])
        self.channel = RayleighChannel(
            np.array([self.p["distance_m"]]), self.channel_params, self.p["slot_s"], self.rng
        )
        self.queue: collections.deque[EncodedTask] = collections.deque()
        self.active: _Active | None = None
        self.pub_features = self.create_publisher(
            FeaturePacket,
            topics.FEATURES,
            qos.feature_qos(self.p["feature_queue_depth"], self.p["feature_lifespan_s"]),
        )
        self.pub_energy = self.create_publisher(EnergyReport, topics.ENERGY, qos.report_qos())
        self.pub_channel = self.create_publisher(ChannelReport, topics.CHANNEL, qos.report_qos())
        self.create_subscription(
            EncodedTask, topics.ENCODED, self._on_task, qos.local_reliable_qos(20)
        )
        self.create_subscription(
            TaskFeedback, topics.FEEDBACK, self._on_feedback, qos.feedback_qos()
        )

    def activate_node(self) -> None:
        # The slot clock only runs while there is something to send (CPU: a fleet shares a host).
        self.ticker = self.create_timer(self.p["tick_s"], self._tick)
        self.ticker.cancel()

    def deactivate_node(self) -> None:
        self.queue.clear()
        self.active = None

    def _on_task(self, msg: EncodedTask) -> None:
        try:
            check_encoded_task(msg, self.robot_id, self.p["p_max_w"], self.p["slot_s"],
                               self.now(), self.p["max_stamp_skew_s"])
            if len(self.queue) >= self.p["max_queued_tasks"]:
                raise InputError("task_id", int(msg.task_id), f"room in the queue of "
                                 f"{self.p['max_queued_tasks']} tasks (full)")
        except InputError as exc:
            self.rejects.reject(topics.ENCODED, exc, "encoded task")
            return
        self.queue.append(msg)
        if self.ticker.is_canceled():
            self.ticker.reset()

    def _on_feedback(self, msg: TaskFeedback) -> None:
        try:
            check_robot("robot_id", msg.robot_id, self.robot_id)
            one_of("command", int(msg.command),
                   (TaskFeedback.COMMAND_CONTINUE, TaskFeedback.COMMAND_STOP))
        except InputError as exc:
            self.rejects.reject(topics.FEEDBACK, exc, "feedback")
            return
        a = self.active
        if (
            a is not None
            and msg.task_id == a.task.task_id
            and msg.command == TaskFeedback.COMMAND_STOP
        ):
            a.link.stop(delayed=False)  # it came over the network: no modeled delay
            a.stopped = True

    def _start(self, msg: EncodedTask) -> _Active:
        d = msg.decision
        radio = radio_from(self.p, float(d.bandwidth_hz))
        window = int(d.window_slots)
        gains = self.channel.slots(window)[0]
        bits = [8 * payload_bytes_of(p) for p in msg.packets]
        order = None
        if not d.importance_order:
            order = self.rng.permutation(len(bits))
        emulated = self.p["radio_emulation"]
        link = Uplink(
            np.array([bits], float),
            gains[None, :],
            window,
            float(d.bandwidth_hz),
            float(d.reference_power_w),
            float(d.channel_gain) or float(gains.mean()),
            d.power_law or "tracking",
            radio,
            EmulatedLink(radio, rng=self.rng) if emulated else RealLink(radio),
            feedback_delay=self.p["loss_feedback_slots"],
            send_order=None if order is None else order[None, :],
            decode_skip=bool(d.decode_skip),
            result_wait_s=radio.feedback_s,  # T_fb: the edge's answer path
        )
        # The robot's processor is slower than this machine: the window opens after the modeled
        # compute time (the head's here is usually shorter).
        capture = to_seconds(msg.header.stamp)
        start = max(self.now(), capture + float(msg.robot_compute_s))
        return _Active(msg, link, start)

    def _tick(self) -> None:
        now = self.now()
        if self.active is None and self.queue:
            self.active = self._start(self.queue.popleft())
        a = self.active
        if a is None:
            self.ticker.cancel()  # idle until the next task
            return
        if now < a.start_s:
            return
        slot_s = a.link.radio.slot_s
        due = min(int(a.link.window[0]), int((now - a.start_s) / slot_s))
        while a.link.slot < due and not a.link.done[0]:
            step = a.link.step()
            a.gains.append(float(step.gain[0]))
            for idx in np.flatnonzero(step.delivered[0]):
                self.pub_features.publish(a.packets[int(idx)])
        # The edge answers at deadline - T_fb: anything later is useless (the window may have
        # opened late when the head ran slower than planned).
        if not a.link.done[0] and now >= to_seconds(a.task.deadline) - a.link.radio.feedback_s:
            a.link.stop(delayed=False)
        if a.link.done[0]:
            a.link.finish(a.stopped)  # the wait for the result (none after a STOP)
            self._report(a.task, a)
            self.active = None

    def _report(self, msg: EncodedTask, a: _Active | None) -> None:
        stamp = self.get_clock().now().to_msg()
        e = EnergyReport(robot_id=self.robot_id, task_id=msg.task_id, frame_index=msg.frame_index)
        e.header.stamp = stamp
        e.compute_energy_j = float(msg.compute_energy_j)
        e.reference_power_w = float(msg.decision.reference_power_w)
        if a is not None:
            link = a.link
            e.transmit_energy_j = float(link.transmit_j[0])
            e.listen_energy_j = float(link.listen_j[0])
            e.slots_used = int(link.slots_used[0])
            e.packets_sent = int(link.packets_sent[0])
            e.packets_lost = int(link.packets_lost[0])
            e.bytes_sent = a.bytes_sent
            spent = link.controllers[0][1].spent_j  # radiated, what the power law tracks
            e.mean_power_w = float(spent[0] / max(e.slots_used, 1) / link.radio.slot_s)
            z = getattr(link.controllers[0][1], "z", None)
            e.tracking_queue = float(z[0]) if z is not None else 0.0
        e.total_energy_j = e.compute_energy_j + e.transmit_energy_j + e.listen_energy_j
        self.pub_energy.publish(e)
        if a is None or not a.gains:
            return
        gains = np.array(a.gains)
        c = ChannelReport(
            robot_id=self.robot_id,
            frame_index=msg.frame_index,
            distance_m=float(self.p["distance_m"]),
            gain=float(gains.mean()),
        )
        c.header.stamp = stamp
        ref_p = max(float(msg.decision.reference_power_w), 1e-9)
        c.snr_db = float(
            10
            * np.log10(
                np.mean(snr(a.link.bandwidth[0], ref_p, gains, a.link.radio.noise_psd_w_per_hz))
            )
        )
        c.rate_bps = float(8 * a.bytes_sent / max(len(gains) * a.link.radio.slot_s, 1e-9))
        c.packet_loss_rate = float(a.link.packets_lost[0] / max(a.link.packets_sent[0], 1))
        c.slot_gain = gains.astype(np.float32).tolist()
        self.pub_channel.publish(c)


def payload_bytes_of(msg: FeaturePacket) -> int:
    return len(msg.data)


def main(args: list[str] | None = None) -> None:
    spin_node(TransmitterNode, args)


NODE_CLASS = TransmitterNode

if __name__ == "__main__":
    main()
