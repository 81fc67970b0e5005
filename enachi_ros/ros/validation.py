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

import numpy as np

from enachi_ros.core.outcomes import DROPPED, EDGE_DEADLINE, EDGE_EARLY_STOP
from enachi_ros.core.packets import PacketPayload
from enachi_ros.core.power import LAWS
from enachi_ros.core.quantize import SUPPORTED_BITS
from enachi_ros.ros.messages import payload_from_msg, to_seconds
from enachi_ros.ros.params import MAX_DEADLINE_S
from enachi_ros.ros.rejects import InputError, below, finite, one_of

POWER_LAWS = LAWS
BITS = SUPPORTED_BITS
MAX_BANDWIDTH_HZ = 1e10
MAX_DEQUANT = 1e6  # bound on a packet's scale and on its offset |zero_point| x scale
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
                        transmit_bound_j: float, listen_bound_j: float) -> float:
    """The total energy of one task, each part bounded by what a task can physically spend:
    its compute, the radio transmitting at p_max over its window, and listening over its
    deadline (``RadioPower.bounds_j``)."""
    check_robot("robot_id", msg.robot_id, robot_id)
    transmit_bound_j *= 1 + FLOAT32_SLACK  # the report's fields are float32
    listen_bound_j *= 1 + FLOAT32_SLACK
    compute = finite("compute_energy_j", msg.compute_energy_j, 0.0, compute_bound_j)
    transmit = finite("transmit_energy_j", msg.transmit_energy_j, 0.0, transmit_bound_j)
    listen = finite("listen_energy_j", msg.listen_energy_j, 0.0, listen_bound_j)
    total = finite("total_energy_j", msg.total_energy_j, 0.0,
                   compute_bound_j + transmit_bound_j + listen_bound_j)
    parts = compute + transmit + listen
    if not math.isclose(total, parts, rel_tol=1e-4, abs_tol=1e-9):
        raise InputError("total_energy_j", total, f"compute + transmit + listen = {parts:g}")
    return total


def check_channel_report(msg: Any, robot_id: str, max_slots: int, max_rate_bps: float
                         ) -> tuple[float, float, float]:
    """(gain, distance_m, packet_loss_rate) of a channel report. A gain above 1 would mean the
    receiver gets more power than was sent."""
    check_robot("robot_id", msg.robot_id, robot_id)
    gain = finite("gain", msg.gain, 0.0, 1.0)
    if gain <= 0.0:
        raise InputError("gain", gain, "> 0")
    distance = finite("distance_m", msg.distance_m, 0.0, 1e5)
    loss = finite("packet_loss_rate", msg.packet_loss_rate, 0.0, 1.0)
    finite("snr_db", msg.snr_db, -400.0, 400.0)
    # what one task can have used and carried (the loss estimate weighs reports by their bits)
    finite("rate_bps", msg.rate_bps, 0.0, max_rate_bps)
    if len(msg.slot_gain) > max_slots:
        raise InputError("slot_gain", f"{len(msg.slot_gain)} slots", f"<= {max_slots} slots "
                         "(a deadline's worth)")
    return gain, distance, loss


# ----------------------------------------------------------------------------- robot side
def check_decision(d: Any, model_name: str, n_splits: int, p_max_w: float,
                   slot_s: float) -> None:
    """Every field of a SchedulerDecision the robot acts on (``slot_s``: the robot's own radio
    slot, which the decision must use)."""
    if d.model_name != model_name:
        raise InputError("model_name", d.model_name, f"{model_name!r} (this robot's model)")
    below("split_index", d.split_index, n_splits)
    one_of("bits", int(d.bits), BITS)
    finite("deadline_s", d.deadline_s, 1e-3, MAX_DEADLINE_S)
    if not d.skip:
        check_radio_plan(d, p_max_w, slot_s)
        finite("window_s", d.window_s, 0.0, float(d.deadline_s))
        finite("entropy_threshold", d.entropy_threshold, -1.0, 1.0)


def check_radio_plan(d: Any, p_max_w: float, slot_s: float, prefix: str = "") -> None:
    """The fields of a decision the radio runs on: what the head checks before it hands a task
    over and the transmitter checks again on receipt (one rule, so no task passes one and fails
    the other). The window is bounded in the robot's own slots: a forged decision with 1 us
    slots and 6e7 of them would otherwise make the transmitter allocate gigabytes."""
    deadline = finite(prefix + "deadline_s", d.deadline_s, 1e-3, MAX_DEADLINE_S)
    one_of(prefix + "power_law", d.power_law, POWER_LAWS)
    finite(prefix + "bandwidth_hz", d.bandwidth_hz, 0.0, MAX_BANDWIDTH_HZ)
    # the message's float32 of p_max itself may exceed p_max (0.2 W rounds up)
    finite(prefix + "reference_power_w", d.reference_power_w, 0.0, p_max_w * (1 + FLOAT32_SLACK))
    finite(prefix + "channel_gain", d.channel_gain, 0.0, 1.0)
    if not math.isclose(float(d.slot_s), slot_s, rel_tol=1e-5):
        raise InputError(prefix + "slot_s", float(d.slot_s), f"{slot_s:g} (this robot's radio)")
    most = math.ceil(deadline / slot_s) + 1
    if not 0 <= int(d.window_slots) <= most:
        raise InputError(prefix + "window_slots", int(d.window_slots),
                         f"in [0, {most}] (deadline_s / slot_s)")


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


def check_encoded_task(msg: Any, robot_id: str, p_max_w: float, slot_s: float, now_s: float,
                       max_skew_s: float) -> None:
    """An EncodedTask (head -> transmitter): what the transmitter uses of it."""
    check_robot("robot_id", msg.robot_id, robot_id)
    capture = check_stamp("header.stamp", msg.header.stamp, now_s, max_skew_s)
    deadline = to_seconds(msg.deadline)
    if not 0.0 < deadline - capture <= MAX_DEADLINE_S:
        raise InputError("deadline", round(deadline, 3),
                         f"in (capture, capture + {MAX_DEADLINE_S:g} s]")
    finite("head_cpu_s", msg.head_cpu_s, 0.0, MAX_DEADLINE_S)
    finite("robot_compute_s", msg.robot_compute_s, 0.0, MAX_DEADLINE_S)
    finite("compute_energy_j", msg.compute_energy_j, 0.0, 1e3)
    d = msg.decision
    check_robot("decision.robot_id", d.robot_id, robot_id)
    check_radio_plan(d, p_max_w, slot_s, prefix="decision.")
    if d.bandwidth_hz <= 0 or d.window_slots == 0:  # the head runs such frames locally
        raise InputError("decision.window_slots", int(d.window_slots),
                         "an uplink: bandwidth_hz > 0 and window_slots >= 1")
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
def check_codec_packet(msg: Any, split: int, input_shape: Sequence[int], max_payload: int,
                       max_packets: int) -> bytes:
    """A packet of a codec frame: the model's input shape, no tensor fields, at most
    ``max_payload`` bytes, and at most ``max_packets`` packets a frame (a frame larger than the
    raw image is no compressed frame), so nothing the sender claims sizes an allocation."""
    if tuple(int(v) for v in msg.shape) != tuple(input_shape):
        raise InputError("shape", list(msg.shape), f"{list(input_shape)} (the model's input)")
    for field in ("channels", "scale", "zero_point"):
        if len(getattr(msg, field)):
            raise InputError(field, f"{len(getattr(msg, field))} values", "none in a codec "
                             f"packet (split {split})")
    count = int(msg.packet_count)
    if not 1 <= count <= max_packets:
        raise InputError("packet_count", count, f"1 to {max_packets} (split {split}: a codec "
                         "frame no larger than the raw image)")
    if int(msg.packet_index) >= count:
        raise InputError("packet_index", int(msg.packet_index), f"< packet_count = {count}")
    if not 1 <= len(msg.data) <= max_payload:
        raise InputError("data", f"{len(msg.data)} bytes", f"1 to {max_payload} bytes")
    return bytes(msg.data)


def check_packet(msg: Any, robot_id: str, model_name: str, kind_of: Any,
                 feature_shape: Any, n_packets: Any, n_splits: int,
                 codec_limits: tuple[int, int] | None = None) -> PacketPayload | bytes:
    """A FeaturePacket against this edge's model: the split's feature shape and packet count
    (so no allocation is sized by the sender), then every payload field (``PacketPayload``);
    for a codec option (``codec_limits``: largest packet, most packets) its bytes."""
    check_robot("robot_id", msg.robot_id, robot_id)
    if msg.model_name != model_name:
        raise InputError("model_name", msg.model_name, f"{model_name!r} (this edge's model)")
    split = below("split_index", msg.split_index, n_splits)
    if kind_of(split) == "device_only":
        raise InputError("split_index", split, "a split with a tail (not device-only)")
    if kind_of(split) == "edge_codec":
        if codec_limits is None:
            raise InputError("split_index", split, "a cut of the network (no codec path here)")
        return check_codec_packet(msg, split, feature_shape(split), *codec_limits)
    bits = one_of("bits", int(msg.bits), BITS)
    shape: Sequence[int] = tuple(int(v) for v in feature_shape(split))
    if tuple(int(v) for v in msg.shape) != shape:
        raise InputError("shape", list(msg.shape), f"{list(shape)} (split {split}'s feature)")
    count = n_packets(split, bits)
    if int(msg.packet_count) != count:
        raise InputError("packet_count", int(msg.packet_count),
                         f"{count} (split {split} at {bits} bits)")
    payload = payload_from_msg(msg)  # ValueError "<field> must ...": counted under that field
    # the values a packet reconstructs, (q - zero_point) x scale, span [-zero_point x scale,
    # (levels - zero_point) x scale]; features are O(1) to O(100), so a span far beyond would
    # only drive the tail to inf (zero_point alone may be huge: a near-constant channel)
    finite("scale", float(np.max(payload.scale)), 0.0, MAX_DEQUANT)
    offset = np.abs(payload.zero_point.astype(np.float64) * payload.scale)
    finite("zero_point", float(np.max(offset)), 0.0, MAX_DEQUANT)
    return payload
