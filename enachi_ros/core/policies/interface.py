"""The policy interface: what a policy sees of a frame (``FrameState``, ``Hindsight``) and
what it decides (``Decisions``), and the ``Policy`` base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace

import numpy as np

from enachi_ros.core.deadline import window_slots
from enachi_ros.core.params import RadioParams
from enachi_ros.core.progressive import feedback_delay_slots
from enachi_ros.core.solver import DELIVERY_MARGIN, plan_outcome
from enachi_ros.core.split_table import SplitTable
from enachi_ros.core.units import quantize_shares


@dataclass(frozen=True)
class Hindsight:
    """What only the oracle may see: this frame's per-slot gains ``[N, T]`` and, per robot, the
    drawn sample's outcomes ``correct [N, S, Kmax+1]`` (from the calibration traces)."""

    slot_gains: np.ndarray
    correct: np.ndarray


@dataclass(frozen=True)
class FrameState:
    """Everything a policy may use to decide one frame (arrays over robots N)."""

    gains: np.ndarray  # frame-level channel estimate h_n (linear power gain)
    queues: np.ndarray  # virtual energy queues Q_n (J)
    budgets_j: np.ndarray  # long-term per-frame energy budgets E_bar_n (J)
    deadline_s: float  # task deadline T_d relative to frame start
    bandwidth_hz: float  # total uplink bandwidth W
    splits: SplitTable
    radio: RadioParams
    distances_m: np.ndarray | None = None
    frame_index: int = 0
    hindsight: Hindsight | None = field(default=None, repr=False)
    # measured fraction of sent packets that arrive, per robot (core.delivery); None: 1
    delivery: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = np.asarray(self.gains).shape
        if len(n) != 1 or n[0] < 1:
            raise ValueError(f"gains: expected a 1-D array over robots, got shape {n}")
        for name in ("queues", "budgets_j"):
            if np.asarray(getattr(self, name)).shape != n:
                raise ValueError(f"{name}: expected shape {n}, got {np.shape(getattr(self, name))}")
        if self.delivery is not None:
            d = np.asarray(self.delivery, float)
            if d.shape != n or np.any(~np.isfinite(d)) or np.any((d <= 0) | (d > 1)):
                raise ValueError(f"delivery: expected shape {n} with values in (0, 1], got "
                                 f"{self.delivery}")
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s: expected > 0, got {self.deadline_s}")
        if not self.bandwidth_hz > 0:
            raise ValueError(f"bandwidth_hz: expected > 0, got {self.bandwidth_hz}")

    @property
    def n_robots(self) -> int:
        return int(np.asarray(self.gains).size)

    @property
    def delivery_rate(self) -> np.ndarray:
        """Per robot, the delivery rate the plans assume (1 = no loss beyond fading)."""
        if self.delivery is None:
            return np.ones(self.n_robots)
        return np.asarray(self.delivery, float)

    @property
    def energy_scale_j(self) -> float:
        """The configuration's energy scale (mean budget): prices the tie-break on energy."""
        return float(np.mean(self.budgets_j))


@dataclass(frozen=True)
class Decisions:
    """One frame's decisions, arrays over robots. ``power_law`` is one of core.power.LAWS.

    ``run`` False: the task is skipped (no compute, no transmission; unanswered, reason
    'skipped'); its other entries are zero. ``decode_skip``: no power in undecodable slots."""

    policy: str
    run: np.ndarray
    split: np.ndarray
    bandwidth_hz: np.ndarray
    p_ref: np.ndarray
    window_s: np.ndarray
    window_slots: np.ndarray
    payload_bits: np.ndarray
    entropy_threshold: np.ndarray  # <= 0: no early stop
    progressive: np.ndarray  # early stop on entropy enabled
    importance_order: np.ndarray  # packets in importance order (else a random order)
    partial_ok: np.ndarray  # the tail answers from partial features at the window end
    feedback_delay_slots: np.ndarray
    predicted_accuracy: np.ndarray
    predicted_energy_j: np.ndarray
    power_law: str = "constant"
    decode_skip: bool = True
    bandwidth_price: float = 0.0
    stop_at_packets: np.ndarray | None = None  # oracle: stop once this prefix arrived

    def skipping(self, skip: np.ndarray, name: str | None = None) -> Decisions:
        """These decisions with the tasks where ``skip`` is True skipped."""
        run = self.run & ~np.asarray(skip, bool)
        zero = lambda a: np.where(run, a, 0)  # noqa: E731
        return replace(
            self, policy=name or self.policy, run=run, bandwidth_hz=zero(self.bandwidth_hz),
            p_ref=zero(self.p_ref), window_s=zero(self.window_s),
            window_slots=zero(self.window_slots), payload_bits=zero(self.payload_bits),
            entropy_threshold=zero(self.entropy_threshold), progressive=self.progressive & run,
            predicted_accuracy=zero(self.predicted_accuracy),
            predicted_energy_j=zero(self.predicted_energy_j))


def make_decisions(
    name: str,
    state: FrameState,
    split: np.ndarray,
    bandwidth: np.ndarray,
    p_ref: np.ndarray,
    *,
    power_law: str,
    progressive: bool | np.ndarray,
    partial_ok: bool | np.ndarray,
    importance: bool = True,
    decode_skip: bool = True,
    theta: float | None = None,
    phi: np.ndarray | None = None,
    price: float = 0.0,
    run: np.ndarray | None = None,
    margin: float = DELIVERY_MARGIN,
) -> Decisions:
    """Fill the per-robot arrays common to every policy from (split, share, power); tasks with
    ``run`` False are skipped. ``margin``: delivery margin of the predicted accuracy (ENACHI's
    planner, or 1 = the expected rate a baseline assumes)."""
    st, radio = state.splits, state.radio
    n = state.n_robots
    split = np.asarray(split, int)
    slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
    slots = slots[np.arange(n), split]
    tx = st.transmits[split]
    live = tx if run is None else tx & np.asarray(run, bool)
    bandwidth = quantize_shares(np.where(live, bandwidth, 0.0), radio, state.bandwidth_hz)
    if radio.granularity_hz > 0:  # a transmitting task rounded down to no unit cannot run
        run = np.ones(n, bool) if run is None else np.asarray(run, bool)
        run = run & ~(tx & (bandwidth <= 0))
    p_ref = np.where(tx, np.minimum(p_ref, radio.p_max_w), 0.0)
    whole = st.all_or_nothing[split]  # a codec frame: no partial answer, no entropy stop
    partial_ok = np.asarray(partial_ok, bool) & ~whole
    progressive = np.asarray(progressive, bool) & ~whole
    acc, energy, _ = plan_outcome(
        split, bandwidth, p_ref, state.gains, slots * radio.slot_s, splits=st, radio=radio,
        phi=phi, partial_ok=partial_ok, margin=margin, delivery=state.delivery_rate,
    )
    th = st.theta[split] if theta is None else np.full(n, float(theta))
    dec = Decisions(
        policy=name,
        run=np.ones(n, bool),
        split=split,
        bandwidth_hz=bandwidth,
        p_ref=p_ref,
        window_s=slots * radio.slot_s,
        window_slots=slots,
        payload_bits=st.payload_bits[split],
        entropy_threshold=np.where(progressive & tx, th, 0.0),
        progressive=np.broadcast_to(progressive, (n,)) & tx,
        importance_order=np.full(n, importance),
        partial_ok=np.broadcast_to(partial_ok, (n,)).copy(),
        feedback_delay_slots=feedback_delay_slots(st.tail_s[split], radio.feedback_s, radio.slot_s),
        predicted_accuracy=acc,
        predicted_energy_j=energy,
        power_law=power_law,
        decode_skip=decode_skip,
        bandwidth_price=price,
    )
    return dec if run is None else dec.skipping(~np.asarray(run, bool))


class Policy(ABC):
    """A scheduling policy. ``uses_queues``: whether it reads the virtual queues."""

    name: str = "policy"
    uses_queues: bool = False

    @abstractmethod
    def decide(self, state: FrameState) -> Decisions: ...


# The baselines predict their outcome at the expected (ergodic) rate, as their own
# latency-estimating designs do; ENACHI's planner keeps its x2 delivery margin.
EXPECTED_RATE = 1.0
