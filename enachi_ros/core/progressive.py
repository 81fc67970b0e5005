"""Packet level: progressive transmission with an entropy stop, feedback delay and re-sends.

Robot side (``ProgressiveSender``): packets go out in a fixed send order (importance order by
default: packet index = importance rank, as in the profile). Each slot the radio can carry
``rate x tau`` bits; whole packets go out while they fit, the unused remainder is carried to the
next slot (a packet longer than one slot spans several). A packet whose loss becomes known is
sent again before any less important one, while the window lasts. The robot stops at once when
the window closes or when a STOP arrives.

Feedback delay: what the edge learns at the end of slot ``t`` (a STOP, a loss) reaches the robot
``feedback_delay_slots`` slots later; until then the robot keeps transmitting and paying for it.
The simulator uses a delay of >= 1 slot; a ROS transmitter whose feedback arrives over the real
network uses 0 and calls ``stop``/``outcome`` when the message arrives.

Edge side (``EdgeBuffer``): which packets arrived; the tail's input is the received packets with
mean fill elsewhere. The calibration traces hold outcomes for importance-order prefixes, so the
simulator reads the outcome at the longest received prefix (a lower bound when a later packet
arrived before an earlier lost one).

Everything is vectorized over a batch of B tasks (``[B, K]`` arrays); a node uses B = 1.
"""

from __future__ import annotations

import math

import numpy as np

PENDING, IN_FLIGHT, LOST, DELIVERED, ABSENT = 0, 1, 2, 3, 4
_EPS_BITS = 1e-6


def feedback_delay_slots(tail_s: np.ndarray, feedback_s: float, slot_s: float) -> np.ndarray:
    """Slots between the end of the slot that completed a prefix and the robot hearing about it:
    the edge runs the tail on it (``tail_s``) then sends the feedback (``feedback_s``)."""
    return np.ceil((np.asarray(tail_s, float) + feedback_s) / slot_s - 1e-9).astype(int)


def stop_rule(entropy, theta, enabled) -> np.ndarray:
    """STOP when the normalized entropy is at most theta (theta <= 0 disables the stop)."""
    theta = np.asarray(theta, float)
    return np.asarray(enabled, bool) & (theta > 0) & (np.asarray(entropy, float) <= theta)


class ProgressiveSender:
    """Slot-level sending state machine for a batch of tasks.

    Parameters: ``packet_bits [B, K]`` (packet index order, 0 = no such packet),
    ``window_slots [B]``, ``feedback_delay`` (int or ``[B]``), ``send_order [B, K]`` (position ->
    packet index; default identity = importance order), ``retransmit``.
    Per slot: ``send(slot, capacity_bits) -> (sent [B, K] in packet index space, used_fraction)``
    then ``outcome(slot, sent, lost, slot_lost)``; ``stop(slot, mask)`` on a STOP.
    """

    def __init__(
        self,
        packet_bits: np.ndarray,
        window_slots,
        feedback_delay=1,
        send_order: np.ndarray | None = None,
        retransmit: bool = True,
    ) -> None:
        bits = np.atleast_2d(np.asarray(packet_bits, dtype=float))
        if np.any(bits < 0) or not np.all(np.isfinite(bits)):
            raise ValueError("packet_bits: expected finite values >= 0")
        b, k = bits.shape
        self.window = np.broadcast_to(np.asarray(window_slots, int), (b,)).copy()
        self.delay = np.broadcast_to(np.asarray(feedback_delay, int), (b,)).copy()
        if np.any(self.delay < 0):
            raise ValueError(f"feedback_delay: expected >= 0, got {feedback_delay}")
        self._identity = send_order is None
        if send_order is None:
            self.order = np.broadcast_to(np.arange(k), (b, k))
        else:
            self.order = np.asarray(send_order, int)
            if self.order.shape != (b, k):
                raise ValueError(f"send_order: expected shape {(b, k)}, got {self.order.shape}")
        self.bits = bits if self._identity else np.take_along_axis(bits, self.order, axis=1)
        self.state = np.where(self.bits > 0, PENDING, ABSENT).astype(np.int8)
        self.loss_known_at = np.full((b, k), np.iinfo(np.int64).max, dtype=np.int64)
        self.stop_at = np.full(b, np.iinfo(np.int64).max, dtype=np.int64)
        self.retransmit = retransmit
        self.carry = np.zeros(b)
        self.packets_sent = np.zeros(b, dtype=int)
        self.bits_sent = np.zeros(b)
        self.slots_used = np.zeros(b, dtype=int)

    def _to_packets(self, pos_mask: np.ndarray) -> np.ndarray:
        if self._identity:
            return pos_mask
        out = np.zeros_like(pos_mask)
        np.put_along_axis(out, self.order, pos_mask, axis=1)
        return out

    def _to_positions(self, pkt_mask: np.ndarray) -> np.ndarray:
        return pkt_mask if self._identity else np.take_along_axis(pkt_mask, self.order, axis=1)

    def _refresh(self, slot: int) -> None:
        if self.retransmit:
            known = (self.state == LOST) & (self.loss_known_at <= slot)
            if known.any():
                self.state[known] = PENDING

    def active(self, slot: int) -> np.ndarray:
        """Tasks that transmit in ``slot``: inside the window, not stopped, something to send."""
        self._refresh(slot)
        return (slot < self.window) & (slot < self.stop_at) & (self.state == PENDING).any(axis=1)

    def send(self, slot: int, capacity_bits) -> tuple[np.ndarray, np.ndarray]:
        """Packets that go out in ``slot`` given its capacity (rate x tau) per task, and the
        fraction of the slot the radio is on (energy is charged for that fraction)."""
        act = self.active(slot)
        cap = np.maximum(np.asarray(capacity_bits, float), 0.0) * act
        pending = self.state == PENDING
        cum = np.cumsum(np.where(pending, self.bits, 0.0), axis=1)
        budget = self.carry + cap
        sent = pending & (cum <= budget[:, None] + _EPS_BITS) & act[:, None]
        sent_bits = (self.bits * sent).sum(axis=1)
        finished = sent_bits >= cum[:, -1] - _EPS_BITS  # every pending packet went out
        with np.errstate(divide="ignore", invalid="ignore"):
            partial = np.clip((sent_bits - self.carry) / np.where(cap > 0, cap, 1.0), 0.0, 1.0)
        used = np.where(act, np.where(finished, partial, 1.0), 0.0)
        self.carry = np.where(act & ~finished, budget - sent_bits, 0.0)
        self.state[sent] = IN_FLIGHT
        self.packets_sent += sent.sum(axis=1)
        self.bits_sent += sent_bits
        self.slots_used += act
        return self._to_packets(sent), used

    def outcome(self, slot: int, sent: np.ndarray, lost: np.ndarray, slot_lost=None) -> None:
        """What happened to the packets sent in ``slot`` (packet index space). Lost packets are
        re-queued once the loss is known (``slot + 1 + delay``); a lost slot also drops the
        partially sent packet carried over."""
        sent_p = self._to_positions(np.asarray(sent, bool))
        lost_p = self._to_positions(np.asarray(lost, bool)) & sent_p
        self.state[sent_p & ~lost_p] = DELIVERED
        self.state[lost_p] = LOST
        self.loss_known_at = np.where(lost_p, slot + 1 + self.delay[:, None], self.loss_known_at)
        if slot_lost is not None:
            self.carry = np.where(np.asarray(slot_lost, bool), 0.0, self.carry)

    def stop(self, slot: int, mask) -> None:
        """A STOP decided before ``slot`` reaches the robot ``delay`` slots later."""
        mask = np.broadcast_to(np.asarray(mask, bool), self.stop_at.shape)
        self.stop_at = np.where(mask, np.minimum(self.stop_at, slot + self.delay), self.stop_at)

    def done(self, slot: int) -> np.ndarray:
        """Nothing more will ever be sent (window over, stopped, or all delivered)."""
        waiting = (self.state < DELIVERED).any(axis=1)  # pending, in flight or lost
        return (slot >= self.window) | (slot >= self.stop_at) | ~waiting


class EdgeBuffer:
    """Edge-side record of which packets arrived per task (``[B, K]``, packet index space)."""

    def __init__(self, n_tasks: int, max_packets: int) -> None:
        self.received = np.zeros((n_tasks, max(1, max_packets)), dtype=bool)

    def receive(self, delivered: np.ndarray) -> None:
        self.received |= np.asarray(delivered, bool)

    def prefix(self) -> np.ndarray:
        """Length of the received importance-order prefix per task."""
        return np.cumprod(self.received, axis=1).sum(axis=1)

    def count(self) -> np.ndarray:
        return self.received.sum(axis=1)


def random_send_order(keys: np.ndarray, num_packets: np.ndarray) -> np.ndarray:
    """Per task a random permutation of its ``K`` packets (padding stays at the end), from
    uniform ``keys [B, Kmax]``: the no-importance-order ablation. Keys are an input so the
    simulator can share them across policies (common random numbers)."""
    keys = np.array(keys, dtype=float)
    keys[np.arange(keys.shape[1])[None, :] >= np.asarray(num_packets)[:, None]] = math.inf
    return np.argsort(keys, axis=1, kind="stable")
