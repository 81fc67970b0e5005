"""One robot's task on the uplink, slot by slot: the packet level the transmitter node runs.

It composes the same core pieces the simulator uses (inner power law, progressive sender, rate
and loss per slot) for a batch of one task, so what the simulator measures is what the robot
does. The radio is explicit: ``gains`` are per-slot channel power gains (from the emulated
channel model, a replayed trace, or real channel estimates), and :class:`EmulatedLoss` decides
which packets the emulated link loses. On a real link, use :class:`NoEmulatedLoss` and let the
network lose what it loses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from enachi_ros.core.channel import rate_bps, slot_capacity_bits
from enachi_ros.core.energy import transmit_energy_j
from enachi_ros.core.params import RadioParams
from enachi_ros.core.power import make_power_controller
from enachi_ros.core.progressive import ProgressiveSender


class EmulatedLoss:
    """The simulator's link: a slot below the decoding SNR delivers nothing but costs the whole
    slot (link-layer segmentation keeps earlier progress), plus i.i.d. residual packet loss."""

    def __init__(self, radio: RadioParams, rng: np.random.Generator) -> None:
        self.radio, self.rng = radio, rng

    def capacity(self, w: float, p: float, h: float) -> tuple[float, bool]:
        cap, lost = slot_capacity_bits(w, p, h, self.radio)
        return float(cap), bool(lost)

    def residual(self, sent: np.ndarray) -> np.ndarray:
        return sent & (self.rng.random(sent.shape) < self.radio.residual_loss)


class NoEmulatedLoss:
    """A real link: the rate from the channel estimate, nothing dropped by emulation."""

    def __init__(self, radio: RadioParams) -> None:
        self.radio = radio

    def capacity(self, w: float, p: float, h: float) -> tuple[float, bool]:
        return float(rate_bps(w, p, h, self.radio.noise_psd_w_per_hz)) * self.radio.slot_s, False

    def residual(self, sent: np.ndarray) -> np.ndarray:
        return np.zeros_like(sent)


@dataclass
class SlotStep:
    """What happened in one slot."""

    slot: int
    power_w: float
    gain: float
    delivered: list[int]  # packet indices (importance order) the edge receives
    lost: list[int]
    energy_j: float


@dataclass
class LinkTask:
    """The packet level of one task (batch of one).

    ``packet_bits``: bits per packet in importance order; ``gains``: per-slot channel gains for
    the whole window; ``send_order``: packet index per send position (None = importance order).
    """

    packet_bits: np.ndarray
    gains: np.ndarray
    bandwidth_hz: float
    p_ref: float
    h_nominal: float
    power_law: str
    radio: RadioParams
    loss: EmulatedLoss | NoEmulatedLoss
    loss_feedback_slots: int = 1
    send_order: np.ndarray | None = None
    decode_skip: bool = True
    slot: int = 0
    energy_j: float = 0.0
    packets_lost: int = 0
    steps: list[SlotStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        bits = np.asarray(self.packet_bits, float)[None, :]
        window = int(np.asarray(self.gains).size)
        order = None if self.send_order is None else np.asarray(self.send_order, int)[None, :]
        self.sender = ProgressiveSender(bits, window, self.loss_feedback_slots, order)
        self.power = make_power_controller(
            self.power_law,
            self.p_ref,
            max(self.h_nominal, 1e-300),
            self.bandwidth_hz,
            window,
            self.radio,
            decode_skip=self.decode_skip,
        )
        self.window = window

    def step(self) -> SlotStep:
        """Advance one slot and return what was delivered/lost in it."""
        t = self.slot
        h = float(self.gains[t])
        act = bool(self.sender.active(t)[0])
        p = float(self.power.power(h)[0]) if act else 0.0
        cap, lost_slot = self.loss.capacity(self.bandwidth_hz, p, h)
        sent, used = self.sender.send(t, np.array([cap]))
        if lost_slot and act:
            used = np.ones_like(used)  # the radio was on for the whole (lost) slot
        lost = self.loss.residual(sent)
        self.sender.outcome(t, sent, lost)
        self.power.update(np.array([p]), used)
        e = float(transmit_energy_j(p, used[0], self.radio.slot_s))
        self.energy_j += e
        self.packets_lost += int(lost.sum())
        step = SlotStep(
            t,
            p if used[0] > 0 else 0.0,
            h,
            np.flatnonzero(sent[0] & ~lost[0]).tolist(),
            np.flatnonzero(lost[0]).tolist(),
            e,
        )
        self.steps.append(step)
        self.slot += 1
        return step

    def stop(self) -> None:
        """STOP from the edge (arrives over the network: no extra emulated delay)."""
        self.sender.stop_at[:] = np.minimum(self.sender.stop_at, self.slot)

    @property
    def done(self) -> bool:
        return self.slot >= self.window or bool(self.sender.done(self.slot)[0])

    @property
    def bytes_sent(self) -> int:
        return round(float(self.sender.bits_sent[0]) / 8)

    @property
    def packets_sent(self) -> int:
        return int(self.sender.packets_sent[0])

    @property
    def slots_used(self) -> int:
        return int(self.sender.slots_used[0])
