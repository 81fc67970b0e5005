"""The practitioners' baselines (device-only, raw offloading, JPEG and WebP offloading at a
tuned quality, Neurosurgeon, the fixed-split progressive sender) and ``Budgeted``, the
drift-plus-penalty gate that holds each to the same long-term energy budget as ENACHI
(ENACHI.md section 6)."""

from __future__ import annotations

import numpy as np

from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.policies.interface import (
    EXPECTED_RATE,
    Decisions,
    FrameState,
    Policy,
    make_decisions,
)
from enachi_ros.core.rates import expected_rate_bps, snr
from enachi_ros.core.solver import energy_price_floor, plan_outcome
from enachi_ros.core.units import quantize_shares


class DeviceOnly(Policy):
    """Run the whole model on the robot: no radio, full compute energy."""

    name = "device_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        split = np.full(n, state.splits.device_index)
        zeros = np.zeros(n)
        return make_decisions(self.name, state, split, zeros, zeros, power_law="constant",
                          progressive=False, partial_ok=False, margin=EXPECTED_RATE)


class EdgeOnly(Policy):
    """Send the quantized input at p_max on an equal share; the edge needs all of it."""

    name = "edge_only"
    kind = "edge_only"

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        split = np.full(n, state.splits.index_of_kind(self.kind))
        return make_decisions(self.name, state, split, np.full(n, state.bandwidth_hz / n),
                          np.full(n, state.radio.p_max_w), power_law="constant",
                          progressive=False, partial_ok=False, margin=EXPECTED_RATE)


class EdgeCodec(Policy):
    """What practitioners do (image_transport's compressed transport), tuned: send the frame
    encoded by an image codec at p_max on an equal share; the edge decodes it only once every
    packet arrived. The quality is picked per robot and frame by a rule fixed on calibration
    data that uses only what the robot knows (its channel estimate, measured delivery rate,
    budget and deadline), never the frame's outcome: among the options of ``formats`` whose
    planned size (the calibration frames' 95th percentile) gets through in the window at the
    expected rate, the most accurate on the calibration frames whose predicted energy is
    within the robot's budget E_bar (ties: the cheaper); if none is within the budget, the
    cheapest that gets through; if none gets through, the smallest (predicted to fail: the
    budget gate skips it). Needs an artifact with codec options (``enachi calibrate`` of
    camera models)."""

    def __init__(self, formats: tuple[str, ...], name: str) -> None:
        self.formats, self.name = tuple(formats), name

    def choose(self, state: FrameState) -> np.ndarray:
        """The codec option of each robot (index into the split table)."""
        st, radio, n = state.splits, state.radio, state.n_robots
        options = st.codec_options(self.formats)
        if options.size == 0:
            raise ValueError(f"policy {self.name}: the artifact has no {'/'.join(self.formats)} "
                             "codec options (run enachi calibrate on a camera model)")
        share = quantize_shares(np.full(n, state.bandwidth_hz / n), radio, state.bandwidth_hz)
        w = np.broadcast_to(share[:, None], (n, options.size))
        slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
        split = np.broadcast_to(options[None, :], w.shape)
        acc, energy, _ = plan_outcome(
            split, w, np.full(w.shape, radio.p_max_w), state.gains[:, None],
            slots[:, options] * radio.slot_s, splits=st, radio=radio, margin=EXPECTED_RATE,
            delivery=state.delivery_rate[:, None])
        fits = acc > 0
        within = fits & (energy <= np.asarray(state.budgets_j)[:, None])
        calib_acc = np.broadcast_to(st.accuracy_full[options][None, :], w.shape)
        best_within = np.lexsort((-energy, np.where(within, calib_acc, -np.inf)), axis=1)[:, -1]
        cheapest_fit = np.argmin(np.where(fits, energy, np.inf), axis=1)
        smallest = np.argmin(st.payload_bits[options])
        pick = np.where(within.any(axis=1), best_within,
                        np.where(fits.any(axis=1), cheapest_fit, smallest))
        return options[pick]

    def decide(self, state: FrameState) -> Decisions:
        n = state.n_robots
        return make_decisions(self.name, state, self.choose(state),
                              np.full(n, state.bandwidth_hz / n),
                              np.full(n, state.radio.p_max_w), power_law="constant",
                              progressive=False, partial_ok=False, margin=EXPECTED_RATE)


def full_transmission_latency(state: FrameState, bandwidth_hz: float, power_w: float
                              ) -> np.ndarray:
    """End-to-end latency ``[N, S]`` of each split with full transmission at the expected rate
    (ergodic spectral efficiency with outage times the measured delivery rate, the same channel
    knowledge ENACHI plans with): head + air + tail + feedback; device_only is the whole model
    on the robot."""
    st, radio = state.splits, state.radio
    mean_snr = snr(bandwidth_hz, power_w, state.gains, radio.noise_psd_w_per_hz)
    rate = (expected_rate_bps(bandwidth_hz, mean_snr, radio) * state.delivery_rate)[:, None]
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
        return make_decisions(self.name, state, split, np.full(n, w), np.full(n, radio.p_max_w),
                          power_law="constant", progressive=False, partial_ok=False,
                          run=ok.any(axis=1), margin=EXPECTED_RATE)


class ProgressiveFixed(Policy):
    """ProgressFTX-style: one fixed split, p_max, equal share, importance order and entropy
    stop. The split (unless given) is chosen once, on the first frame, from calibration data:
    among the deadline-feasible splits, the one with the best calibrated accuracy on the whole
    packets deliverable at the fleet's median channel estimate and delivery rate (a split that
    cannot deliver a packet in its window scores 0; if none can, the one that delivers the
    largest fraction)."""

    name = "progressive_fixed"

    def __init__(self, split: str | int | None = None, theta: float | None = None) -> None:
        self.split, self.theta, self._fixed = split, theta, None

    def _choose(self, state: FrameState, w: float) -> int:
        st, radio = state.splits, state.radio
        cand = np.arange(st.n_splits)
        h = np.full(st.n_splits, np.median(state.gains))
        d = float(np.median(state.delivery_rate))
        slots = window_slots(state.deadline_s, st, radio.slot_s, radio.feedback_s)
        acc, _, _ = plan_outcome(cand, np.full(st.n_splits, w),
                                 np.full(st.n_splits, radio.p_max_w), h, slots * radio.slot_s,
                                 splits=st, radio=radio, margin=EXPECTED_RATE, delivery=d)
        rate = expected_rate_bps(w, snr(w, radio.p_max_w, h, radio.noise_psd_w_per_hz), radio)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = rate * d * slots * radio.slot_s / np.where(st.payload_bits > 0,
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
        return make_decisions(self.name, state, np.full(n, self._fixed), np.full(n, w),
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
