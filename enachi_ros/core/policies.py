"""Scheduling policies behind one interface: ``policy.decide(FrameState) -> Decisions``.

The scheduler node calls ``decide`` once per frame with what it knows (channel estimates,
virtual queues, budgets, deadline, bandwidth, the split table); the simulator calls the very
same objects. Each ``Decisions`` also says how the robots run the packet level (power law,
progressive stop, importance order, whether the tail accepts partial features), so the robot's
transmitter needs nothing but its row of the decision.

Policies (ENACHI.md section 6): ``enachi`` and its ablations, each removing one mechanism
(``enachi_no_tracking``: constant power instead of reference tracking; ``enachi_no_skip``: the
tracking law transmits into undecodable slots; ``enachi_no_stop``; ``enachi_no_importance``;
``enachi_pacing``: budget pacing instead of tracking; ``enachi_stop_aware``: the stop-aware
energy plan), ``task_dpp``, the baselines ``device_only``, ``edge_only``, ``edge_jpeg`` (the
JPEG-compressed frame), ``neurosurgeon`` and ``progressive_fixed``, and the hindsight
``oracle``. ENACHI, its ablations, task_dpp, the oracle, Neurosurgeon and the fixed split
choose among the cuts of the network; only ``edge_jpeg`` sends the JPEG option.

Equal energy [ENACHI.md section 6]: every policy runs under the same long-term budget E_bar.
ENACHI, its ablations, task_dpp and the oracle plan against virtual queues of their own; each
baseline is wrapped in :class:`Budgeted`, a drift-plus-penalty gate over its own decision space
{run its plan, skip the task} with a queue of its own (a skipped task is unanswered). The raw,
unbudgeted baselines (``<name>_unbudgeted``) exist only as points on the accuracy-energy plane.
Outage skipping (no power in slots below the decoding SNR) is a switch of its own
(``Decisions.decode_skip``) that every power law honours; every policy uses it except the
``enachi_no_skip`` ablation, so no comparison is confounded by it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace

import numpy as np

from enachi_ros.core.channel import ergodic_spectral_efficiency, quantize_shares, snr
from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import RadioParams
from enachi_ros.core.progressive import feedback_delay_slots
from enachi_ros.core.solver import DELIVERY_MARGIN, energy_price_floor, plan_outcome, solve_outer
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
    bandwidth = quantize_shares(np.where(live, bandwidth, 0.0), radio.granularity_hz,
                                state.bandwidth_hz)
    if radio.granularity_hz > 0:  # a transmitting task rounded down to no unit cannot run
        run = np.ones(n, bool) if run is None else np.asarray(run, bool)
        run = run & ~(tx & (bandwidth <= 0))
    p_ref = np.where(tx, np.minimum(p_ref, radio.p_max_w), 0.0)
    acc, energy, _ = plan_outcome(
        split, bandwidth, p_ref, state.gains, slots * radio.slot_s, splits=st, radio=radio,
        phi=phi, partial_ok=partial_ok, margin=margin,
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
        progressive=np.full(n, progressive) & tx,
        importance_order=np.full(n, importance),
        partial_ok=np.full(n, partial_ok),
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


class DeviceOnly(Policy):
    """Run the whole model on the robot: no radio, full compute energy."""

    name = "device_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        split = np.full(n, state.splits.device_index)
        zeros = np.zeros(n)
        return _decisions(self.name, state, split, zeros, zeros, power_law="constant",
                          progressive=False, partial_ok=False, margin=EXPECTED_RATE)


class EdgeOnly(Policy):
    """Send the quantized input at p_max on an equal share; the edge needs all of it."""

    name = "edge_only"
    kind = "edge_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        split = np.full(n, state.splits.index_of_kind(self.kind))
        return _decisions(self.name, state, split, np.full(n, state.bandwidth_hz / n),
                          np.full(n, state.radio.p_max_w), power_law="constant",
                          progressive=False, partial_ok=False, margin=EXPECTED_RATE)


class EdgeJpeg(EdgeOnly):
    """What practitioners do (image_transport's compressed transport): send the JPEG-compressed
    frame at p_max on an equal share; the edge decodes it only once every packet arrived.
    Needs an artifact with an ``edge_jpeg`` option (``enachi calibrate`` of camera models)."""

    name = "edge_jpeg"
    kind = "edge_jpeg"


def full_transmission_latency(state: FrameState, bandwidth_hz: float, power_w: float
                              ) -> np.ndarray:
    """End-to-end latency ``[N, S]`` of each split with full transmission at the expected rate
    (ergodic spectral efficiency with outage, the same channel knowledge ENACHI plans with):
    head + air + tail + feedback; device_only is the whole model on the robot."""
    st, radio = state.splits, state.radio
    se = ergodic_spectral_efficiency(
        snr(bandwidth_hz, power_w, state.gains, radio.noise_psd_w_per_hz), radio.decode_snr)
    rate = (bandwidth_hz * se)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        air = np.where(st.payload_bits > 0, st.payload_bits / rate, 0.0)
    return st.head_s + air + np.where(st.transmits, st.tail_s + radio.feedback_s, 0.0)


class Neurosurgeon(Policy):
    """Neurosurgeon / Edgent-style (Kang et al. 2017; Li et al. 2018, adapted to a shared
    uplink): per robot the deadline-feasible split of least end-to-end latency for the current
    channel estimate, at p_max on an equal share, full transmission. A robot with no
    deadline-feasible split skips its task (every full-transmission split has about the same
    accuracy, so least latency is also Edgent's most-accurate-under-the-deadline choice)."""

    name = "neurosurgeon"

    def decide(self, state: FrameState) -> Decisions:
        st, radio, n = state.splits, state.radio, state.n_robots
        w = state.bandwidth_hz / n
        latency = full_transmission_latency(state, w, radio.p_max_w)
        ok = (latency <= state.deadline_s + 1e-12) & st.network & feasible(
            np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
        split = np.argmin(np.where(ok, latency, np.inf), axis=1)
        return _decisions(self.name, state, split, np.full(n, w), np.full(n, radio.p_max_w),
                          power_law="constant", progressive=False, partial_ok=False,
                          run=ok.any(axis=1), margin=EXPECTED_RATE)


class ProgressiveFixed(Policy):
    """ProgressFTX-style: one fixed split, p_max, equal share, importance order and entropy
    stop. The split (unless given) is chosen once, on the first frame, from calibration data:
    among the deadline-feasible splits, the one with the best calibrated accuracy on the whole
    packets deliverable at the fleet's median channel estimate (a split that cannot deliver a
    packet in its window scores 0; if none can, the one that delivers the largest fraction)."""

    name = "progressive_fixed"

    def __init__(self, split: str | int | None = None, theta: float | None = None) -> None:
        self.split, self.theta, self._fixed = split, theta, None

    def _choose(self, state: FrameState, w: float) -> int:
        st, radio = state.splits, state.radio
        cand = np.arange(st.n_splits)
        h = np.full(st.n_splits, np.median(state.gains))
        slots = window_slots(state.deadline_s, st, radio.slot_s, radio.feedback_s)
        acc, _, _ = plan_outcome(cand, np.full(st.n_splits, w),
                                 np.full(st.n_splits, radio.p_max_w), h, slots * radio.slot_s,
                                 splits=st, radio=radio, margin=EXPECTED_RATE)
        se = ergodic_spectral_efficiency(snr(w, radio.p_max_w, h, radio.noise_psd_w_per_hz),
                                         radio.decode_snr)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = w * se * slots * radio.slot_s / np.where(st.payload_bits > 0,
                                                                st.payload_bits, np.inf)
        ok = feasible(state.deadline_s, st, radio.slot_s, radio.feedback_s) & st.transmits \
            & st.network
        if not ok.any():
            ok = st.transmits & st.network
        return int(np.lexsort((np.where(ok, fraction, -np.inf), np.where(ok, acc, -np.inf)))[-1])

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        w = state.bandwidth_hz / n
        if self._fixed is None:
            self._fixed = (state.splits.index(self.split) if self.split is not None
                           else self._choose(state, w))
        return _decisions(self.name, state, np.full(n, self._fixed), np.full(n, w),
                          np.full(n, state.radio.p_max_w), power_law="constant",
                          progressive=True, partial_ok=True, theta=self.theta,
                          margin=EXPECTED_RATE)


class Budgeted(Policy):
    """A baseline under the energy budget: drift-plus-penalty on the baseline's own decision
    space {run its plan, skip the task}, with a virtual queue of its own.

    Per robot: run iff ``V/N A_plan - Q E_plan`` beats skipping (0), with the same energy
    price floor as ENACHI's solver (a plan that predicts no accuracy is not run). ``A_plan`` and
    ``E_plan`` are the plan's predicted accuracy and energy at the expected rate (whole packets
    deliverable; 0 for a full transmission that is not expected to complete in its window). A
    skipped task costs nothing and is unanswered."""

    uses_queues = True

    def __init__(self, inner: Policy, v: float) -> None:
        if not v > 0:
            raise ValueError(f"v: expected > 0, got {v}")
        self.inner, self.v, self.name = inner, v, inner.name

    def decide(self, state: FrameState) -> Decisions:
        d = self.inner.decide(state)
        n = state.n_robots
        price = np.asarray(state.queues) + energy_price_floor(self.v, n, state.energy_scale_j)
        gain = self.v / n * d.predicted_accuracy - price * d.predicted_energy_j
        return d.skipping(~(gain > 0), self.name)


class Enachi(Policy):
    """ENACHI: the outer DPP solver each frame, the inner tracking power law each slot,
    importance-ordered progressive transmission with the entropy stop.

    Ablation switches: ``inner`` ('tracking' | 'pacing' | 'constant'), ``decode_skip``,
    ``early_stop``, ``importance``, ``energy_plan`` ('plain' | 'stop_aware'), ``theta`` (None =
    calibrated).
    """

    uses_queues = True

    def __init__(
        self,
        v: float = 1.0,
        *,
        inner: str = "tracking",
        decode_skip: bool = True,
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
        self.v, self.inner, self.early_stop, self.decode_skip = v, inner, early_stop, decode_skip
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
                          allowed=state.splits.network, energy_scale_j=state.energy_scale_j,
                          price_hint=self._price)
        self._price = sol.price or None
        return _decisions(self.name, state, sol.split, sol.bandwidth_hz, sol.p_ref,
                          power_law=self.inner, progressive=self.early_stop, partial_ok=True,
                          importance=self.importance, decode_skip=self.decode_skip,
                          theta=self.theta, phi=phi, price=sol.price, run=sol.run)


class TaskDpp(Enachi):
    """Task-level DPP: ENACHI's outer loop, constant power p_ref for the whole window (with the
    same outage skipping as ENACHI), no early stop (the granularity-mismatch baseline). The tail
    still answers at the window end."""

    def __init__(self, v: float = 1.0) -> None:
        super().__init__(v=v, inner="constant", early_stop=False, name="task_dpp")


class Oracle(Policy):
    """Hindsight upper bound: per robot and frame it knows the slot gains and whether the drawn
    sample is classified correctly after each prefix of k >= 1 packets (it gets no credit for a
    guess from nothing: the same scoring rule as every policy). Bandwidth comes from the outer
    solver (with its own queues); per robot it then picks the split and a constant power (from
    a grid, skipping undecodable slots) maximizing ``V/N * correct - Q * E``, or skips the task
    when nothing beats doing nothing, and stops exactly at the first prefix that is correct."""

    name = "oracle"
    uses_queues = True

    def __init__(self, v: float = 1.0, power_levels: int = 8) -> None:
        self.v, self.levels = v, power_levels

    def decide(self, state: FrameState) -> Decisions:
        if state.hindsight is None:
            raise ValueError("hindsight: the oracle needs FrameState.hindsight")
        st, radio, n = state.splits, state.radio, state.n_robots
        w = solve_outer(state.gains, state.queues, self.v, state.bandwidth_hz, st,
                        radio=radio, deadline_s=state.deadline_s, allowed=st.network,
                        energy_scale_j=state.energy_scale_j).bandwidth_hz
        if not np.any(w > 0):  # everyone skipped or went device-only: give it equal shares
            w = np.full(n, state.bandwidth_hz / n)
        slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
        powers = radio.p_max_w * np.logspace(-2, 0, self.levels)
        split, p, k_stop, run = _oracle_choice(state, w, slots, powers, self.v)
        dec = _decisions(self.name, state, split, w, p, power_law="constant", decode_skip=True,
                         progressive=False, partial_ok=True, run=run)
        return replace(dec, stop_at_packets=np.where(run, k_stop, 0),
                       feedback_delay_slots=np.zeros(n, int))


def _oracle_choice(state: FrameState, w, slots, powers, v):
    """Vectorized hindsight search over (robot, split, power): returns split, power, stop k
    and whether to run at all."""
    st, radio, n = state.splits, state.radio, state.n_robots
    hs = state.hindsight
    t_max = hs.slot_gains.shape[1]
    h = hs.slot_gains[:, None, None, :]  # [N, 1, 1, T]
    ww = w[:, None, None, None]
    p = powers[None, None, :, None]
    snr_t = p * h / (radio.noise_psd_w_per_hz * np.maximum(ww, 1e-30))
    good = (snr_t >= radio.decode_snr) & (ww > 0) & (p > 0)
    cap = np.where(good, ww * np.log2(1.0 + snr_t) * radio.slot_s, 0.0)
    on_window = np.arange(t_max)[None, None, None, :] < slots[:, :, None, None]
    cum = np.cumsum(cap * on_window, axis=-1)  # [N, S, P, T]
    pk_cum = np.cumsum(st.packet_bits, axis=1)  # [S, K]
    k_max = st.packet_bits.shape[1]
    # packets fully delivered by the end of each slot
    k_t = (cum[..., None] >= pk_cum[None, :, None, None, :] - 1e-6).sum(-1)
    k_t = np.minimum(k_t, st.num_packets[None, :, None, None])
    correct = hs.correct[:, :, : k_max + 1]  # [N, S, K+1]
    k_idx = np.arange(k_max + 1)[None, None, :]
    usable = (k_idx >= 1) & (k_idx <= st.num_packets[None, :, None])  # no credit for k = 0
    first_ok = np.where(correct & usable, k_idx, k_max + 1).min(-1)  # [N, S]
    reach = k_t >= first_ok[:, :, None, None]  # [N, S, P, T]
    reached = reach.any(-1)
    t_stop = np.where(reached, reach.argmax(-1), np.maximum(slots[:, :, None] - 1, 0))
    used = np.cumsum(good * on_window, axis=-1)
    used_slots = np.take_along_axis(used, t_stop[..., None], axis=-1)[..., 0]
    ok_split = feasible(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s) \
        & st.network  # the oracle splits the network, like ENACHI
    tx = st.transmits[None, :, None]
    win = np.where(tx, reached, correct[:, :, 0][:, :, None]) & ok_split[:, :, None]
    energy = st.compute_j[None, :, None] + np.where(
        tx & reached, powers[None, None, :] * used_slots * radio.slot_s,
        np.where(tx, powers[None, None, :] * used[..., -1] * radio.slot_s, 0.0))
    price = state.queues + energy_price_floor(v, n, state.energy_scale_j)
    score = v / n * win - price[:, None, None] * energy
    score = np.where(ok_split[:, :, None], score, -np.inf)
    score[:, ~st.transmits, 1:] = -np.inf  # device-only: one option (power irrelevant)
    flat = score.reshape(n, -1)
    best = flat.argmax(axis=1)
    run = flat[np.arange(n), best] > 0  # skipping scores 0
    split, pi = np.divmod(best, powers.size)
    k_stop = np.where(st.transmits[split], first_ok[np.arange(n), split], 0)
    return split, powers[pi], k_stop, run


BASELINES = ("progressive_fixed", "neurosurgeon", "edge_only", "device_only")
JPEG_BASELINES = ("edge_jpeg",)  # need an artifact with an edge_jpeg option
ABLATIONS = ("enachi_no_tracking", "enachi_no_skip", "enachi_no_stop", "enachi_no_importance",
             "enachi_pacing", "enachi_stop_aware")
UNBUDGETED = tuple(f"{b}_unbudgeted" for b in (*BASELINES, *JPEG_BASELINES))
POLICY_NAMES = ("enachi", *ABLATIONS, "task_dpp", *BASELINES, *JPEG_BASELINES, *UNBUDGETED,
                "oracle")


def make_policy(name: str, v: float = 1.0, theta: float | None = None,
                fixed_split: str | int | None = None) -> Policy:
    """Build a policy by name (``POLICY_NAMES``) with the shared knobs. A baseline's plain name
    is its budgeted form (:class:`Budgeted`); ``<baseline>_unbudgeted`` is the raw baseline."""
    raw = {
        "progressive_fixed": lambda: ProgressiveFixed(fixed_split, theta),
        "neurosurgeon": Neurosurgeon,
        "edge_only": EdgeOnly,
        "edge_jpeg": EdgeJpeg,
        "device_only": DeviceOnly,
    }
    table = {
        "enachi": lambda: Enachi(v, theta=theta),
        "enachi_no_tracking": lambda: Enachi(v, inner="constant", theta=theta, name=name),
        "enachi_no_skip": lambda: Enachi(v, decode_skip=False, theta=theta, name=name),
        "enachi_no_stop": lambda: Enachi(v, early_stop=False, name=name),
        "enachi_no_importance": lambda: Enachi(v, importance=False, theta=theta, name=name),
        "enachi_pacing": lambda: Enachi(v, inner="pacing", theta=theta, name=name),
        "enachi_stop_aware": lambda: Enachi(v, energy_plan="stop_aware", theta=theta, name=name),
        "task_dpp": lambda: TaskDpp(v),
        "oracle": lambda: Oracle(v),
    }
    for base, build in raw.items():
        table[base] = lambda build=build: Budgeted(build(), v)
        table[f"{base}_unbudgeted"] = build
    if name not in table:
        raise ValueError(f"policy: expected one of {list(table)}, got {name!r}")
    policy = table[name]()
    if name.endswith("_unbudgeted"):
        policy.name = name
    return policy
