"""Scheduling policies behind one interface: ``policy.decide(FrameState) -> Decisions``.

The scheduler node calls ``decide`` once per frame with what it knows (channel estimates,
virtual queues, budgets, deadline, bandwidth, the split table); the simulator calls the very
same objects. Each ``Decisions`` also says how the robots run the packet level (power law,
progressive stop, importance order, whether the tail accepts partial features), so the robot's
transmitter needs nothing but its row of the decision.

Policies (ENACHI.md section 6): ``enachi`` and its ablations (``enachi_no_inner``,
``enachi_no_stop``, ``enachi_no_importance``, ``enachi_pacing``, and the stop-aware energy plan
``enachi_stop_aware``), ``device_only``, ``edge_only``, ``neurosurgeon``, ``task_dpp``,
``progressive_fixed`` and the hindsight ``oracle``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace

import numpy as np

from enachi_ros.core.channel import rate_bps
from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import RadioParams
from enachi_ros.core.progressive import feedback_delay_slots
from enachi_ros.core.solver import plan_outcome, solve_outer
from enachi_ros.core.split_table import SplitTable


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

    def __post_init__(self) -> None:
        n = np.asarray(self.gains).shape
        if len(n) != 1 or n[0] < 1:
            raise ValueError(f"gains: expected a 1-D array over robots, got shape {n}")
        for name in ("queues", "budgets_j"):
            if np.asarray(getattr(self, name)).shape != n:
                raise ValueError(f"{name}: expected shape {n}, got {np.shape(getattr(self, name))}")
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s: expected > 0, got {self.deadline_s}")
        if not self.bandwidth_hz > 0:
            raise ValueError(f"bandwidth_hz: expected > 0, got {self.bandwidth_hz}")

    @property
    def n_robots(self) -> int:
        return int(np.asarray(self.gains).size)


@dataclass(frozen=True)
class Decisions:
    """One frame's decisions, arrays over robots. ``power_law`` is one of core.power.LAWS."""

    policy: str
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
    bandwidth_price: float = 0.0
    stop_at_packets: np.ndarray | None = None  # oracle: stop once this prefix arrived


def _decisions(
    name: str,
    state: FrameState,
    split: np.ndarray,
    bandwidth: np.ndarray,
    p_ref: np.ndarray,
    *,
    power_law: str,
    progressive: bool,
    partial_ok: bool,
    importance: bool = True,
    theta: float | None = None,
    phi: np.ndarray | None = None,
    price: float = 0.0,
) -> Decisions:
    """Fill the per-robot arrays common to every policy from (split, share, power)."""
    st, radio = state.splits, state.radio
    n = state.n_robots
    split = np.asarray(split, int)
    slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
    slots = slots[np.arange(n), split]
    tx = st.transmits[split]
    bandwidth = np.where(tx, bandwidth, 0.0)
    p_ref = np.where(tx, np.minimum(p_ref, radio.p_max_w), 0.0)
    acc, energy, _ = plan_outcome(
        split, bandwidth, p_ref, state.gains, slots * radio.slot_s, splits=st, radio=radio, phi=phi
    )
    th = st.theta[split] if theta is None else np.full(n, float(theta))
    return Decisions(
        policy=name,
        split=split,
        bandwidth_hz=bandwidth,
        p_ref=p_ref,
        window_s=slots * radio.slot_s,
        window_slots=slots,
        payload_bits=st.payload_bits[split],
        entropy_threshold=np.where(progressive & tx, th, 0.0),
        progressive=np.full(n, progressive) & tx,
        importance_order=np.full(n, importance),
        partial_ok=np.full(n, partial_ok),
        feedback_delay_slots=feedback_delay_slots(st.tail_s[split], radio.feedback_s, radio.slot_s),
        predicted_accuracy=acc,
        predicted_energy_j=energy,
        power_law=power_law,
        bandwidth_price=price,
    )


class Policy(ABC):
    """A scheduling policy. ``uses_queues``: whether it reads the virtual queues."""

    name: str = "policy"
    uses_queues: bool = False

    @abstractmethod
    def decide(self, state: FrameState) -> Decisions: ...


class DeviceOnly(Policy):
    """Run the whole model on the robot: no radio, full compute energy."""

    name = "device_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        split = np.full(n, state.splits.device_index)
        zeros = np.zeros(n)
        return _decisions(self.name, state, split, zeros, zeros, power_law="constant",
                          progressive=False, partial_ok=False)


class EdgeOnly(Policy):
    """Send the quantized input at p_max on an equal share; the edge needs all of it."""

    name = "edge_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        return _decisions(self.name, state, np.zeros(n, int), np.full(n, state.bandwidth_hz / n),
                          np.full(n, state.radio.p_max_w), power_law="constant",
                          progressive=False, partial_ok=False)


class Neurosurgeon(Policy):
    """Split minimizing end-to-end latency for the current channel estimate, at p_max on an
    equal share, full transmission (Kang et al. 2017, adapted to a shared uplink)."""

    name = "neurosurgeon"

    def decide(self, state: FrameState) -> Decisions:
        st, radio, n = state.splits, state.radio, state.n_robots
        w = state.bandwidth_hz / n
        rate = rate_bps(w, radio.p_max_w, state.gains, radio.noise_psd_w_per_hz)[:, None]
        with np.errstate(divide="ignore"):
            air = np.where(st.payload_bits > 0, st.payload_bits / rate, 0.0)
        latency = st.head_s + air + st.tail_s
        split = np.argmin(latency, axis=1)
        return _decisions(self.name, state, split, np.full(n, w), np.full(n, radio.p_max_w),
                          power_law="constant", progressive=False, partial_ok=False)


class ProgressiveFixed(Policy):
    """ProgressFTX-style: one fixed split, p_max, equal share, importance order and entropy
    stop, no energy queue. The split (unless given) is the one with the best surrogate accuracy
    at the median channel on the first frame, then kept."""

    name = "progressive_fixed"

    def __init__(self, split: str | int | None = None, theta: float | None = None) -> None:
        self.split, self.theta, self._fixed = split, theta, None

    def decide(self, state: FrameState) -> Decisions:
        st, radio, n = state.splits, state.radio, state.n_robots
        w = state.bandwidth_hz / n
        if self._fixed is None:
            if self.split is not None:
                self._fixed = st.index(self.split)
            else:
                h = np.full(st.n_splits, np.median(state.gains))
                cand = np.arange(st.n_splits)
                slots = window_slots(state.deadline_s, st, radio.slot_s, radio.feedback_s)
                acc, _, _ = plan_outcome(cand, np.full(st.n_splits, w),
                                         np.full(st.n_splits, radio.p_max_w), h,
                                         slots * radio.slot_s, splits=st, radio=radio)
                ok = feasible(state.deadline_s, st, radio.slot_s, radio.feedback_s) & st.transmits
                self._fixed = int(np.argmax(np.where(ok, acc, -np.inf)))
        return _decisions(self.name, state, np.full(n, self._fixed), np.full(n, w),
                          np.full(n, radio.p_max_w), power_law="constant", progressive=True,
                          partial_ok=True, theta=self.theta)


class Enachi(Policy):
    """ENACHI: the outer DPP solver each frame, the inner tracking power law each slot,
    importance-ordered progressive transmission with the entropy stop.

    Ablation switches: ``inner`` ('tracking' | 'pacing' | 'constant'), ``early_stop``,
    ``importance``, ``energy_plan`` ('plain' | 'stop_aware'), ``theta`` (None = calibrated).
    """

    uses_queues = True

    def __init__(
        self,
        v: float = 1.0,
        *,
        inner: str = "tracking",
        early_stop: bool = True,
        importance: bool = True,
        energy_plan: str = "plain",
        theta: float | None = None,
        name: str = "enachi",
    ) -> None:
        if not v > 0:
            raise ValueError(f"v: expected > 0, got {v}")
        if inner not in ("tracking", "pacing", "constant"):
            raise ValueError(f"inner: expected 'tracking', 'pacing' or 'constant', got {inner!r}")
        if energy_plan not in ("plain", "stop_aware"):
            raise ValueError(f"energy_plan: expected 'plain' or 'stop_aware', got {energy_plan!r}")
        self.v, self.inner, self.early_stop = v, inner, early_stop
        self.importance, self.energy_plan, self.theta, self.name = (
            importance, energy_plan, theta, name)
        self._price: float | None = None  # warm start of the bandwidth price

    def _phi(self, st: SplitTable) -> np.ndarray | None:
        if self.energy_plan == "stop_aware" and self.early_stop:
            return st.stop_fraction(self.theta)
        return None

    def decide(self, state: FrameState) -> Decisions:
        phi = self._phi(state.splits)
        sol = solve_outer(state.gains, state.queues, self.v, state.bandwidth_hz, state.splits,
                          radio=state.radio, deadline_s=state.deadline_s, phi=phi,
                          price_hint=self._price)
        self._price = sol.price or None
        return _decisions(self.name, state, sol.split, sol.bandwidth_hz, sol.p_ref,
                          power_law=self.inner, progressive=self.early_stop, partial_ok=True,
                          importance=self.importance, theta=self.theta, phi=phi,
                          price=sol.price)


class TaskDpp(Enachi):
    """Task-level DPP: ENACHI's outer loop, constant power p_ref for the whole window, no
    early stop (the granularity-mismatch baseline). The tail still answers at the window end."""

    def __init__(self, v: float = 1.0) -> None:
        super().__init__(v=v, inner="constant", early_stop=False, name="task_dpp")


class Oracle(Policy):
    """Hindsight upper bound: per robot and frame it knows the slot gains and whether the drawn
    sample is classified correctly after each prefix. Bandwidth comes from the outer solver (with
    its own queues); per robot it then picks the split and a constant power (from a grid, skipping
    undecodable slots) maximizing ``V/N * correct - Q * E`` and stops exactly at the first prefix
    that is correct."""

    name = "oracle"
    uses_queues = True

    def __init__(self, v: float = 1.0, power_levels: int = 8) -> None:
        self.v, self.levels = v, power_levels

    def decide(self, state: FrameState) -> Decisions:
        if state.hindsight is None:
            raise ValueError("hindsight: the oracle needs FrameState.hindsight")
        st, radio, n = state.splits, state.radio, state.n_robots
        w = solve_outer(state.gains, state.queues, self.v, state.bandwidth_hz, st,
                        radio=radio, deadline_s=state.deadline_s).bandwidth_hz
        if not np.any(w > 0):  # everyone went device-only: give the oracle equal shares
            w = np.full(n, state.bandwidth_hz / n)
        slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
        powers = np.concatenate([[0.0], radio.p_max_w * np.logspace(-2, 0, self.levels)])
        split, p, k_stop = _oracle_choice(state, w, slots, powers, self.v)
        dec = _decisions(self.name, state, split, w, p, power_law="constant_skip",
                         progressive=False, partial_ok=True)
        return replace(dec, stop_at_packets=k_stop, feedback_delay_slots=np.zeros(n, int))


def _oracle_choice(state: FrameState, w, slots, powers, v):
    """Vectorized hindsight search over (robot, split, power): returns split, power, stop k."""
    st, radio, n = state.splits, state.radio, state.n_robots
    hs = state.hindsight
    t_max = hs.slot_gains.shape[1]
    h = hs.slot_gains[:, None, None, :]  # [N, 1, 1, T]
    ww = w[:, None, None, None]
    p = powers[None, None, :, None]
    snr = p * h / (radio.noise_psd_w_per_hz * np.maximum(ww, 1e-30))
    good = (snr >= radio.decode_snr) & (ww > 0) & (p > 0)
    cap = np.where(good, ww * np.log2(1.0 + snr) * radio.slot_s, 0.0)
    on_window = np.arange(t_max)[None, None, None, :] < slots[:, :, None, None]
    cum = np.cumsum(cap * on_window, axis=-1)  # [N, S, P, T]
    pk_cum = np.cumsum(st.packet_bits, axis=1)  # [S, K]
    k_max = st.packet_bits.shape[1]
    # packets fully delivered by the end of each slot
    k_t = (cum[..., None] >= pk_cum[None, :, None, None, :] - 1e-6).sum(-1)
    k_t = np.minimum(k_t, st.num_packets[None, :, None, None])
    correct = hs.correct[:, :, : k_max + 1]  # [N, S, K+1]
    k_idx = np.arange(k_max + 1)
    first_ok = np.where(correct & (k_idx[None, None, :] <= st.num_packets[None, :, None]),
                        k_idx[None, None, :], k_max + 1).min(-1)  # [N, S]
    reach = k_t >= first_ok[:, :, None, None]  # [N, S, P, T]
    reached = reach.any(-1)
    t_stop = np.where(reached, reach.argmax(-1), np.maximum(slots[:, :, None] - 1, 0))
    used = np.cumsum(good * on_window, axis=-1)
    used_slots = np.take_along_axis(used, t_stop[..., None], axis=-1)[..., 0]
    ok_split = feasible(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
    tx = st.transmits[None, :, None]
    win = np.where(tx, reached, correct[:, :, 0][:, :, None]) & ok_split[:, :, None]
    energy = st.compute_j[None, :, None] + np.where(
        tx & reached, powers[None, None, :] * used_slots * radio.slot_s,
        np.where(tx, powers[None, None, :] * used[..., -1] * radio.slot_s, 0.0))
    score = v / n * win - state.queues[:, None, None] * energy
    score = np.where(ok_split[:, :, None], score, -np.inf)
    score[:, ~st.transmits, 1:] = -np.inf  # device-only: one option (power irrelevant)
    best = score.reshape(n, -1).argmax(axis=1)
    split, pi = np.divmod(best, powers.size)
    k_stop = np.where(st.transmits[split], first_ok[np.arange(n), split], 0)
    return split, powers[pi], k_stop


POLICY_NAMES = (
    "enachi", "enachi_no_inner", "enachi_no_stop", "enachi_no_importance", "enachi_pacing",
    "enachi_stop_aware", "task_dpp", "progressive_fixed", "neurosurgeon", "edge_only",
    "device_only", "oracle",
)


def make_policy(name: str, v: float = 1.0, theta: float | None = None,
                fixed_split: str | int | None = None) -> Policy:
    """Build a policy by name (``POLICY_NAMES``) with the shared knobs."""
    table = {
        "enachi": lambda: Enachi(v, theta=theta),
        "enachi_no_inner": lambda: Enachi(v, inner="constant", theta=theta, name=name),
        "enachi_no_stop": lambda: Enachi(v, early_stop=False, name=name),
        "enachi_no_importance": lambda: Enachi(v, importance=False, theta=theta, name=name),
        "enachi_pacing": lambda: Enachi(v, inner="pacing", theta=theta, name=name),
        "enachi_stop_aware": lambda: Enachi(v, energy_plan="stop_aware", theta=theta, name=name),
        "task_dpp": lambda: TaskDpp(v),
        "progressive_fixed": lambda: ProgressiveFixed(fixed_split, theta),
        "neurosurgeon": Neurosurgeon,
        "edge_only": EdgeOnly,
        "device_only": DeviceOnly,
        "oracle": lambda: Oracle(v),
    }
    if name not in table:
        raise ValueError(f"policy: expected one of {list(table)}, got {name!r}")
    return table[name]()
