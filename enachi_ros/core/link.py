"""The packet level of the uplink, slot by slot, for a batch of tasks: the one composition that
both the simulator's slot loop and the robot's transmitter node run.

Per slot: power (the decision's inner power law, given this slot's channel gain) -> capacity
(the link-adapted rate x tau, or nothing in an outage slot) -> which packets go out
(``ProgressiveSender``) -> which of them the link loses -> the sender and the power law learn the
outcome -> energy: what the radio draws above its doze floor (``core.radio_power``), the
transmit draw in the slots it sends in and the listening in the window's other slots, then the
wait for the result once its transmission is over (``finish``).
The simulator runs every policy's tasks of a frame as one batch; a transmitter node runs a
batch of one per task in real time. Because both call :meth:`Uplink.step`, what the simulator
measures is what the robot does (``tests/test_core_link.py`` checks identical outcomes).

The radio is explicit: ``gains`` are per-slot channel power gains (from the emulated channel
model, a replayed trace, or real channel estimates), and the link model decides capacity and
losses: :class:`EmulatedLink` is the simulator's radio (outage below the decoding SNR plus
i.i.d. residual loss, from a seeded generator or from pre-drawn uniforms so that policies share
random numbers); :class:`RealLink` leaves losses to a real network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enachi_ros.core.params import RadioParams
from enachi_ros.core.power import make_power_controller
from enachi_ros.core.progressive import ProgressiveSender
from enachi_ros.core.rates import rate_bps, slot_capacity_bits


class EmulatedLink:
    """The emulated radio: a slot below the decoding SNR delivers nothing but costs the whole
    slot (link-layer segmentation keeps earlier progress), plus i.i.d. residual packet loss.

    Residual losses compare uniforms with ``radio.residual_loss``: drawn per slot from ``rng``
    (a robot), or read from ``draws [B, slots, K]`` (the simulator's common random numbers).
    """

    def __init__(self, radio: RadioParams, rng: np.random.Generator | None = None,
                 draws: np.ndarray | None = None) -> None:
        if (rng is None) == (draws is None):
            raise ValueError("EmulatedLink: expected exactly one of rng and draws")
        self.radio, self.rng, self.draws = radio, rng, draws

    def capacity(self, w: np.ndarray, p: np.ndarray, h: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        return slot_capacity_bits(w, p, h, self.radio)

    def lost(self, slot: int, sent: np.ndarray) -> np.ndarray:
        if self.draws is not None:
            u = self.draws[:, slot, : sent.shape[1]]
        else:
            u = self.rng.random(sent.shape)
        return sent & (u < self.radio.residual_loss)


class RealLink:
    """A real link: the rate from the channel estimate, nothing dropped by emulation."""

    def __init__(self, radio: RadioParams) -> None:
        self.radio = radio

    def capacity(self, w: np.ndarray, p: np.ndarray, h: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        cap = rate_bps(w, p, h, self.radio) * self.radio.slot_s
        return cap, np.zeros(np.shape(cap), bool)

    def lost(self, slot: int, sent: np.ndarray) -> np.ndarray:
        return np.zeros_like(sent)


@dataclass
class SlotStep:
    """What happened in one slot, per task (``[B]`` and ``[B, K]`` in packet index space)."""

    slot: int
    power_w: np.ndarray  # the power the radio was on with (0 when it sent nothing)
    gain: np.ndarray
    delivered: np.ndarray  # packets the edge receives at the end of this slot
    lost: np.ndarray
    energy_j: np.ndarray  # radio energy of the slot above the doze floor (transmit + listen)


class Uplink:
    """The packet level of a batch of B tasks over their windows.

    ``packet_bits [B, K]``: bits per packet in packet index (importance) order, 0 = no such
    packet; ``gains [B, T]``: per-slot channel gains (T >= the longest window);
    ``window_slots [B]``; ``bandwidth_hz``, ``p_ref``, ``h_nominal`` and ``decode_skip`` per task
    (or scalars); ``power_law``: one law or one per task; ``feedback_delay``: slots until a loss
    or a delayed STOP reaches the robot; ``send_order [B, K]``: packet index per send position
    (None = importance order); ``result_wait_s``: how long after its last transmission a task's
    result arrives (the tail and the downlink), which the radio spends waiting for it.
    """

    def __init__(
        self,
        packet_bits: np.ndarray,
        gains: np.ndarray,
        window_slots,
        bandwidth_hz,
        p_ref,
        h_nominal,
        power_law: str | Sequence[str],
        radio: RadioParams,
        link: EmulatedLink | RealLink,
        *,
        feedback_delay=1,
        send_order: np.ndarray | None = None,
        decode_skip=True,
        result_wait_s=0.0,
    ) -> None:
        bits = np.atleast_2d(np.asarray(packet_bits, float))
        b = bits.shape[0]
        self.gains = np.atleast_2d(np.asarray(gains, float))
        self.window = np.broadcast_to(np.asarray(window_slots, int), (b,)).copy()
        if self.gains.shape[0] != b or self.gains.shape[1] < self.window.max(initial=0):
            raise ValueError(f"gains: expected shape ({b}, >= {self.window.max(initial=0)}), "
                             f"got {self.gains.shape}")
        self.bandwidth = np.broadcast_to(np.asarray(bandwidth_hz, float), (b,)).copy()
        self.radio, self.link = radio, link
        self.sender = ProgressiveSender(bits, self.window, feedback_delay, send_order)
        laws = [power_law] * b if isinstance(power_law, str) else list(power_law)
        skips = np.broadcast_to(np.asarray(decode_skip, bool), (b,))
        p_ref = np.broadcast_to(np.asarray(p_ref, float), (b,))
        h_nom = np.maximum(np.broadcast_to(np.asarray(h_nominal, float), (b,)), 1e-300)
        # one batched controller per power law and outage-skip switch (elementwise: the same as
        # one per task, with a fraction of the per-slot calls)
        members: dict[tuple[str, bool], list[int]] = {}
        for i, key in enumerate(zip(laws, skips.tolist(), strict=True)):
            members.setdefault(key, []).append(i)
        self.controllers = []
        for (law, skip), idx in members.items():
            ix = np.asarray(idx)
            ctrl = make_power_controller(law, p_ref[ix], h_nom[ix], self.bandwidth[ix],
                                         self.window[ix], radio, decode_skip=skip)
            self.controllers.append((ix, ctrl))
        self.slot = 0
        self.transmit_j = np.zeros(b)
        self.listen_j = np.zeros(b)
        self.result_wait_s = np.broadcast_to(np.asarray(result_wait_s, float), (b,)).copy()
        self.finished = np.zeros(b, bool)
        self.packets_lost = np.zeros(b, dtype=int)

    def step(self) -> SlotStep:
        """Advance every task by one slot."""
        t = self.slot
        alive = ~self.sender.done(t)  # in its window, not stopped, something undelivered
        act = self.sender.active(t)
        h = self.gains[:, t]
        p = np.zeros(act.size)
        for ix, ctrl in self.controllers:
            p[ix] = ctrl.power(h[ix])
        p = p * act
        capacity, outage = self.link.capacity(self.bandwidth, p, h)
        sent, used = self.sender.send(t, capacity)
        used = np.where(outage & act, 1.0, used)  # a lost slot: the radio was on all along
        transmitting = act & (p > 0) & (used > 0)
        tx_j, listen_j = self.radio.power.slot_energy_j(p, used, transmitting, self.radio.slot_s)
        tx_j, listen_j = np.where(alive, tx_j, 0.0), np.where(alive, listen_j, 0.0)
        for ix, ctrl in self.controllers:
            ctrl.update(p[ix], used[ix])
        lost = self.link.lost(t, sent)
        self.sender.outcome(t, sent, lost)
        self.transmit_j += tx_j
        self.listen_j += listen_j
        self.packets_lost += lost.sum(axis=1)
        self.slot += 1
        return SlotStep(t, np.where(transmitting, p, 0.0), h, sent & ~lost, lost,
                        tx_j + listen_j)

    def finish(self, stopped=False) -> np.ndarray:
        """End the tasks that have not ended yet: each waits ``result_wait_s`` for its result,
        listening as the radio's ``listen_mode`` says, except a task ended by a STOP (its
        result came with it) or one that never transmitted. Returns the energy this adds."""
        stopped = np.broadcast_to(np.asarray(stopped, bool), self.finished.shape)
        waits = ~self.finished & ~stopped & (self.sender.slots_used > 0)
        extra = np.where(waits, self.radio.power.result_wait_s(self.result_wait_s)
                         * self.radio.power.listen_above_sleep_w, 0.0)
        self.listen_j += extra
        self.finished[:] = True
        return extra

    @property
    def energy_j(self) -> np.ndarray:
        """Radio energy so far, above the doze floor: transmit + listen."""
        return self.transmit_j + self.listen_j

    def stop(self, mask=True, delayed: bool = True) -> None:
        """STOP the masked tasks from the next slot on: after the feedback delay when the STOP
        is modeled (the simulator), at once when it arrived over a real network (a robot)."""
        if delayed:
            self.sender.stop(self.slot, mask)
        else:
            mask = np.broadcast_to(np.asarray(mask, bool), self.sender.stop_at.shape)
            self.sender.stop_at = np.where(mask, np.minimum(self.sender.stop_at, self.slot),
                                           self.sender.stop_at)

    @property
    def done(self) -> np.ndarray:
        """Per task: nothing more will be sent (window over, stopped, or all delivered)."""
        return self.sender.done(self.slot)

    @property
    def bits_sent(self) -> np.ndarray:
        return self.sender.bits_sent

    @property
    def packets_sent(self) -> np.ndarray:
        return self.sender.packets_sent

    @property
    def slots_used(self) -> np.ndarray:
        return self.sender.slots_used
