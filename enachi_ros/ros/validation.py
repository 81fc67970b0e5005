"""Validation of every received fleet message, field by field, before a node acts on it.

Why: anyone on the DDS domain can publish anything (issue 11 found single messages that killed
the edge with a 104 GiB allocation, a robot with an IndexError, and a 3e38 J energy report that
sent a robot's virtual queue to infinity). Each check raises :class:`InputError` naming the
field, the value and what was expected; the node counts it (``ManagedNode.rejects``) and keeps
running. Limits come from what the receiver knows: the model's split profile (shapes, packet
counts), the physics (``p_max`` over a window), the node's clock and the robot's own task counter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from enachi_ros.core.outcomes import DROPPED, EDGE_DEADLINE, EDGE_EARLY_STOP
from enachi_ros.core.packets import PacketPayload
from enachi_ros.ros.messages import payload_from_msg, to_seconds
from enachi_ros.ros.rejects import InputError, below, finite, one_of

POWER_LAWS = ("tracking", "pacing", "constant")
BITS = (8, 4, 2)
MAX_DEADLINE_S = 60.0  # the deadline parameters' upper limit (ros.params)
MAX_BANDWIDTH_HZ = 1e10
FLOAT32_SLACK = 1e-4  # relative: a bound met in float64 may be exceeded by float32 rounding


def check_robot(field: str, value: str, expected: str) -> None:
    if value != expected:
        raise InputError(field, value, f"{expected!r} (the robot of this topic)")


def check_stamp(field: str, stamp: Any, now_s: float, max_skew_s: float) -> float:
    """A builtin_interfaces/Time within ``max_skew_s`` of the node's clock, in seconds."""
    t = to_seconds(stamp)
    if abs(t - now_s) > max_skew_s:
        raise InputError(field, round(t, 3), f"within {max_skew_s:g} s of this node's clock "
                         f"({now_s:.3f} s; is use_sim_time the same on every node?)")
    return t


# ----------------------------------------------------------------------------- scheduler side
def check_energy_report(msg: Any, robot_id: str, compute_bound_j: float,
                        transmit_bound_j: float) -> float:
    """The total energy of one task, each part bounded by what a task can physically spend:
    its compute, and the radio at p_max over its window."""
    check_robot("robot_id", msg.robot_id, robot_id)
    transmit_bound_j *= 1 + FLOAT32_SLACK  # the report's fields are float32
    compute = finite("compute_energy_j", msg.compute_energy_j, 0.0, compute_bound_j)
    transmit = finite("transmit_energy_j", msg.transmit_energy_j, 0.0, transmit_bound_j)
    total = finite("total_energy_j", msg.total_energy_j, 0.0, compute_bound_j + transmit_bound_j)
    if not math.isclose(total, compute + transmit, rel_tol=1e-4, abs_tol=1e-9):
        raise InputError("total_energy_j", total, f"compute + transmit = {compute + transmit:g}")
    return total


def check_channel_report(msg: Any, robot_id: str) -> tuple[float, float, float]:
    """(gain, distance_m, packet_loss_rate) of a channel report. A gain above 1 would mean the
    receiver gets more power than was sent."""
    check_robot("robot_id", msg.robot_id, robot_id)
    gain = finite("gain", msg.gain, 0.0, 1.0)
    if gain <= 0.0:
        raise InputError("gain", gain, "> 0")
    distance = finite("distance_m", msg.distance_m, 0.0, 1e5)
    loss = finite("packet_loss_rate", msg.packet_loss_rate, 0.0, 1.0)
    finite("snr_db", msg.snr_db, -400.0, 400.0)
    finite("rate_bps", msg.rate_bps, 0.0, 1e12)
    return gain, distance, loss


# ----------------------------------------------------------------------------- robot side
def check_decision(d: Any, model_name: str, n_splits: int, p_max_w: float,
                   max_deadline_s: float = MAX_DEADLINE_S) -> None:
    """Every field of a SchedulerDecision the robot acts on."""
    if d.model_name != model_name:
        raise InputError("model_name", d.model_name, f"{model_name!r} (this robot's model)")
    below("split_index", d.split_index, n_splits)
    one_of("bits", int(d.bits), BITS)
    deadline = finite("deadline_s", d.deadline_s, 1e-3, max_deadline_s)
    if d.skip:
        return
    one_of("power_law", d.power_law, POWER_LAWS)
    finite("bandwidth_hz", d.bandwidth_hz, 0.0, MAX_BANDWIDTH_HZ)
    finite("reference_power_w", d.reference_power_w, 0.0, p_max_w)
    finite("window_s", d.window_s, 0.0, deadline)
    slot = finite("slot_s", d.slot_s, 1e-6, deadline)
    finite("entropy_threshold", d.entropy_threshold, -1.0, 1.0)
    finite("channel_gain", d.channel_gain, 0.0, 1.0)
    if int(d.window_slots) > math.ceil(deadline / slot) + 1:
        raise InputError("window_slots", int(d.window_slots),
                         f"<= {math.ceil(deadline / slot) + 1} (deadline_s / slot_s)")


def check_edge_result(msg: Any, robot_id: str, n_classes: int, packets_total: int,
                      split_index: int, capture_key: tuple[int, int]) -> None:
    """An edge result for one of this robot's open tasks, against what the robot sent."""
    check_robot("robot_id", msg.robot_id, robot_id)
    outcome = one_of("outcome", int(msg.outcome), (EDGE_EARLY_STOP, EDGE_DEADLINE, DROPPED))
    key = (int(msg.capture_stamp.sec), int(msg.capture_stamp.nanosec))
    if key != tuple(capture_key):
        raise InputError("capture_stamp", key, f"{tuple(capture_key)} (the task's capture)")
    if int(msg.split_index) != split_index:
        raise InputError("split_index", int(msg.split_index), f"{split_index} (the task's)")
    if outcome == DROPPED:
        if int(msg.class_id) != -1:
            raise InputError("class_id", int(msg.class_id), "-1 for a dropped outcome")
    else:
        below("class_id", msg.class_id, n_classes)
    if int(msg.packets_received) > packets_total:
        raise InputError("packets_received", int(msg.packets_received),
                         f"<= {packets_total} (packets the robot made)")
    finite("confidence", msg.confidence, 0.0, 1.0)
    finite("entropy", msg.entropy, 0.0, 1.0)
    finite("latency_tail_s", msg.latency_tail_s, 0.0, MAX_DEADLINE_S)


def check_encoded_task(msg: Any, robot_id: str, p_max_w: float, now_s: float,
                       max_skew_s: float) -> None:
    """An EncodedTask (head -> transmitter): what the transmitter uses of it."""
    check_robot("robot_id", msg.robot_id, robot_id)
    capture = check_stamp("header.stamp", msg.header.stamp, now_s, max_skew_s)
    deadline = to_seconds(msg.deadline)
    if not 0.0 < deadline - capture <= MAX_DEADLINE_S:
        raise InputError("deadline", round(deadline, 3),
                         f"in (capture, capture + {MAX_DEADLINE_S:g} s]")
    finite("head_cpu_s", msg.head_cpu_s, 0.0, MAX_DEADLINE_S)
    finite("compute_energy_j", msg.compute_energy_j, 0.0, 1e3)
    d = msg.decision
    check_robot("decision.robot_id", d.robot_id, robot_id)
    one_of("decision.power_law", d.power_law, POWER_LAWS)
    finite("decision.bandwidth_hz", d.bandwidth_hz, 1e-3, MAX_BANDWIDTH_HZ)
    finite("decision.reference_power_w", d.reference_power_w, 0.0, p_max_w)
    finite("decision.channel_gain", d.channel_gain, 0.0, 1.0)
    slot = finite("decision.slot_s", d.slot_s, 1e-6, MAX_DEADLINE_S)
    if not 1 <= int(d.window_slots) <= math.ceil(MAX_DEADLINE_S / slot):
        raise InputError("decision.window_slots", int(d.window_slots),
                         f"in [1, {math.ceil(MAX_DEADLINE_S / slot)}]")
    if not 1 <= len(msg.packets) <= 65535:
        raise InputError("packets", len(msg.packets), "1 to 65535 packets")
    indices = set()
    for p in msg.packets:
        if p.robot_id != robot_id or int(p.task_id) != int(msg.task_id):
            raise InputError("packets.task_id", int(p.task_id), f"{int(msg.task_id)} of "
                             f"{robot_id!r} (the task's)")
        if int(p.packet_count) != len(msg.packets) or int(p.packet_index) >= len(msg.packets):
            raise InputError("packets.packet_index", int(p.packet_index),
                             f"< packet_count = {len(msg.packets)} packets")
        indices.add(int(p.packet_index))
    if len(indices) != len(msg.packets):
        raise InputError("packets.packet_index", sorted(indices)[:5], "distinct indices")


# ----------------------------------------------------------------------------- edge side
def check_packet(msg: Any, robot_id: str, model_name: str, kind_of: Any,
                 feature_shape: Any, n_packets: Any, n_splits: int) -> PacketPayload:
    """A FeaturePacket against this edge's model: the split's feature shape and packet count
    (so no allocation is sized by the sender), then every payload field (``PacketPayload``)."""
    check_robot("robot_id", msg.robot_id, robot_id)
    if msg.model_name != model_name:
        raise InputError("model_name", msg.model_name, f"{model_name!r} (this edge's model)")
    split = below("split_index", msg.split_index, n_splits)
    if kind_of(split) == "device_only":
        raise InputError("split_index", split, "a split with a tail (not device-only)")
    bits = one_of("bits", int(msg.bits), BITS)
    shape: Sequence[int] = tuple(int(v) for v in feature_shape(split))
    if tuple(int(v) for v in msg.shape) != shape:
        raise InputError("shape", list(msg.shape), f"{list(shape)} (split {split}'s feature)")
    count = n_packets(split, bits)
    if int(msg.packet_count) != count:
        raise InputError("packet_count", int(msg.packet_count),
                         f"{count} (split {split} at {bits} bits)")
    return payload_from_msg(msg)  # ValueError "<field> must ...": counted under that field
