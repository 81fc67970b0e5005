"""Outer loop: the per-frame drift-plus-penalty problem (P1.1), vectorized over robots x splits.

    maximize  V * mean_n A_hat_n(s_n, beta_n) - sum_n Q_n E_n   s.t.  sum_n w_n <= W,
              0 <= p_ref_n <= p_max,  s_n feasible for the deadline.

Method [ours]. Dualize the bandwidth constraint with a price lambda. For each robot, split s and
a grid of received SNRs gamma (so ``p_ref = gamma N0 w / h``), the deliverable fraction is linear
in the share, ``beta = k w`` with ``k = T_tr log2(1 + gamma) / bits(s)``, and the transmit energy
is ``p_ref T_tr phi = c w`` with ``c = gamma N0 T_tr phi / h`` (``phi`` = planned fraction of the
window actually used: 1 for the plain plan, the calibrated expected stop point for the stop-aware
plan). The per-option problem ``V/N A_hat(k w) - Q c w - lambda w`` is concave in w with the
closed-form KKT point ``w* = (a1 + sqrt(V/N a0 k / (lambda + Q c))) / (a0 k)``, clipped to
``[0, min(1/k, p_max h / (gamma N0))]`` (beyond ``1/k`` all bits are delivered). Each robot keeps
its best (s, gamma) (or device-only), and lambda is found by bisection in log space until the
shares fill W. Bandwidth left over at the final price is handed out in proportion to the shares
at fixed p_ref, except to a robot whose lower SNR would then lose more slots to outage and
deliver fewer whole packets (with the decoding threshold, more bandwidth at fixed power can
lower the delivered bits).
Fading-aware planning [ours]: the frame-level estimate h is the mean gain, and inside the window
the gain fades (Rayleigh) with slots below the decoding threshold lost, so ``k`` uses the
ergodic spectral efficiency with outage ``E[log2(1 + gamma X) 1{gamma X >= thr}]``, X ~ Exp(1),
instead of ``log2(1 + gamma)``; the SNR grid starts at the threshold. The closed form is
unchanged (beta is still linear in w).

Nothing from nothing [ours, ENACHI.md section 7]: a task whose edge receives no packet is
unanswered and scores 0 (no credit for the all-mean-fill guess), and its head compute would be
wasted. So planning zero deliverable packets is not an option of a split: it is *skipping* the
task (no compute, no transmission, accuracy 0, energy 0), which every robot may always choose.
A split that cannot deliver a whole packet in its window is therefore never planned with head
compute. Ties between plans of equal utility go to the cheaper one through an energy price
floor that is meaningful on the configuration's energy scale: ``TIE_BREAK_ACCURACY`` of one
robot's accuracy weight ``V / N`` per ``energy_scale_j`` (the budget E_bar), so at an empty
queue a plan must gain at least 0.1 accuracy points per E_bar it spends.

Packet granularity [ours]: the edge can only use whole packets, and with nested-dropout
training the first packet already carries most of the accuracy, so a continuous surrogate
credits fractions of a packet that are worth nothing. Accuracy is therefore counted on whole
packets, ``A_hat(j / K)`` with ``j = floor(K beta / M)`` packets deliverable with the margin
``M = DELIVERY_MARGIN`` against fading that is correlated over ~10 slots (a window sees few
independent fades: planning with M = 1 gets only ~55% of one-packet tasks through, M = 2 ~90%).
This staircase is maximized exactly by the two packet boundaries around the continuous KKT
point of its concave envelope (``k`` replaced by ``k / M``), plus skipping. Transmit energy of a
candidate is ``Q c min(w, 1/k)``: once every bit is through the radio is off.
Resource units [ours]: with a radio that shares the channel in whole units (``granularity_hz``:
802.11ax resource units, NR PRBs) a share is a whole number u of units, and a share rounded to
units after solving would leave a robot planned below one unit with nothing (a skipped task that
the plan counted as answered). So with units each option's candidates are unit counts around the
KKT point (u - 1, u, u + 1 for u = floor(w* / g), at least 1) and the fewest units carrying the
two packet counts around it, each credited with the whole packets its ``u g`` delivers and
capped at the units on which p_max still reaches the SNR; the price fills the whole units of W,
and leftover units go to the robots that can use them.
Loss-aware planning [ours]: packets lost on top of the fading outages (residual loss) are
re-sent while the window lasts, so what the window delivers is the goodput ``d x rate`` with
``d`` the robot's measured delivery rate (``core.delivery``, from the robots' reports): ``k``
is scaled by ``d`` (fewer whole packets deliverable with the margin, and the radio stays on
longer before every bit is through), the energy per Hz ``c`` is not (lost packets cost their
airtime). The closed form is unchanged. For a one-packet task the margin then means about
``M / d`` attempts' worth of airtime, enough for ``1 - (1 - d)^(M / d)`` of them to arrive
(0.94 at d = 0.5) where planning on the SNR alone leaves ``1 - (1 - d)^M`` (0.75).
Cost: O(iterations x N x S x G) vectorized numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enachi_ros.core.channel import (
    ergodic_spectral_efficiency,
    quantize_shares,
    snr,
    snr_for_spectral_efficiency,
)
from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import RadioParams
from enachi_ros.core.split_table import SplitTable
from enachi_ros.core.surrogate import surrogate_accuracy

SNR_GRID_SPAN_DB = (0.0, 30.0)  # above the decoding threshold
SNR_GRID_POINTS = 10
DELIVERY_MARGIN = 2.0
TIE_BREAK_ACCURACY = 1e-3  # accuracy (x V/N) an energy of ``energy_scale_j`` must buy at Q = 0


def snr_grid(radio: RadioParams, points: int = SNR_GRID_POINTS) -> np.ndarray:
    """Planned mean SNRs (linear): from the decoding threshold up ``SNR_GRID_SPAN_DB``."""
    db = radio.decode_snr_db + np.linspace(*SNR_GRID_SPAN_DB, points)
    return 10.0 ** (db / 10.0)


def energy_price_floor(v: float, n_robots: int, energy_scale_j: float) -> float:
    """Price of energy (per J, in units of the objective) at an empty queue: ties between plans
    of equal accuracy go to the cheaper one, at ``TIE_BREAK_ACCURACY`` of a robot's accuracy
    weight per ``energy_scale_j``."""
    if not (np.isfinite(energy_scale_j) and energy_scale_j > 0):
        raise ValueError(f"energy_scale_j: expected a finite value > 0, got {energy_scale_j}")
    return TIE_BREAK_ACCURACY * v / max(n_robots, 1) / energy_scale_j


@dataclass(frozen=True)
class OuterSolution:
    """Per-robot plan; ``run`` False = the task is skipped (no compute, no transmission);
    ``objective`` is the P1.1 value at the returned plan."""

    run: np.ndarray
    split: np.ndarray
    bandwidth_hz: np.ndarray
    p_ref: np.ndarray
    window_s: np.ndarray
    beta: np.ndarray
    accuracy: np.ndarray
    energy_j: np.ndarray
    price: float
    objective: float


def plan_outcome(
    split: np.ndarray,
    bandwidth_hz: np.ndarray,
    p_ref: np.ndarray,
    gains: np.ndarray,
    window_s: np.ndarray,
    *,
    splits: SplitTable,
    radio: RadioParams,
    phi: np.ndarray | None = None,
    partial_ok: np.ndarray | bool = True,
    margin: float = DELIVERY_MARGIN,
    delivery: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surrogate accuracy, planned energy and beta of a plan, in physical terms (per robot).

    Accuracy is counted on whole packets deliverable with the ``margin`` (ENACHI's planner: x2
    against correlated fading; 1 = at the expected rate), and is 0 when no packet
    is (an unanswered task scores 0) or, for a full transmission (``partial_ok`` False), when
    not all of them are. Bits get through at the goodput: the rate times the ``delivery`` rate
    (per robot, ``core.delivery``; None = 1). Transmit time = the window, or less when all bits
    get through earlier, times the planned stop fraction ``phi`` (1 = plain plan):
    ``E = E_cmp + p_ref T min(1, 1 / beta_raw) phi``.
    """
    split = np.asarray(split, int)
    phi_s = np.ones(splits.n_splits) if phi is None else np.asarray(phi, float)
    bits = splits.payload_bits[split]
    tx = splits.transmits[split]
    se = ergodic_spectral_efficiency(snr(bandwidth_hz, p_ref, gains, radio.noise_psd_w_per_hz),
                                     radio.decode_snr)
    d = 1.0 if delivery is None else np.asarray(delivery, float)
    delivered = np.asarray(bandwidth_hz) * se * window_s * d
    with np.errstate(divide="ignore", invalid="ignore"):
        beta_raw = np.where(bits > 0, delivered / np.where(bits > 0, bits, 1.0), 0.0)
        time_frac = phi_s[split] * np.where(beta_raw > 1.0, 1.0 / beta_raw, 1.0)
    k = splits.num_packets[split]
    whole = np.minimum(np.floor(beta_raw * k / margin + 1e-9), k)
    beta = whole / np.maximum(k, 1)  # whole packets deliverable with the margin
    partial = surrogate_accuracy(beta, splits.a0[split], splits.a1[split], splits.a2[split])
    full = np.where(whole >= k, splits.accuracy_full[split], 0.0)
    acc_tx = np.where(whole >= 1, np.where(partial_ok, partial, full), 0.0)
    acc = np.where(tx, acc_tx, splits.accuracy_full[split])
    energy = splits.compute_j[split] + np.where(tx, p_ref * window_s * time_frac, 0.0)
    return acc, energy, np.where(tx, beta, 1.0)


def objective(acc: np.ndarray, energy: np.ndarray, queues: np.ndarray, v: float) -> float:
    """P1.1 value: V * mean accuracy - sum Q E."""
    return float(v * np.mean(acc) - np.sum(np.asarray(queues) * energy))


DEVICE, SKIP = -1, -2  # option codes besides the flattened (split, SNR) transmit options


class _Options:
    """Per-frame precomputation of every (robot, split, gamma) option, flattened to [N, O]."""

    def __init__(self, gains, queues, v, splits, *, radio, deadline_s, phi, allowed, gamma,
                 bandwidth_hz, delivery):
        n = gains.size
        deadline = np.broadcast_to(deadline_s, (n,))
        slots = window_slots(deadline, splits, radio.slot_s, radio.feedback_s)
        ok = feasible(deadline, splits, radio.slot_s, radio.feedback_s)
        if allowed is not None:
            ok = ok & np.asarray(allowed, bool)
        self.window_s = slots * radio.slot_s  # [N, S]
        tx = splits.transmits
        s_tx = np.flatnonzero(tx)
        self.s_tx, self.gamma = s_tx, gamma
        t = self.window_s[:, s_tx, None]  # [N, S', 1]
        bits = splits.payload_bits[s_tx][None, :, None]
        se = _cached_se(gamma, radio.decode_snr)
        k = t * se[None, None, :] * delivery[:, None, None] / bits  # beta per Hz (goodput)
        n0 = radio.noise_psd_w_per_hz
        h = gains[:, None, None]
        c = gamma[None, None, :] * n0 * t * phi[s_tx][None, :, None] / h  # J per Hz
        w_pmax = np.minimum(  # the share on which p_max still reaches the SNR; at most W
            radio.p_max_w * h / (gamma[None, None, :] * n0), bandwidth_hz)
        with np.errstate(divide="ignore"):
            w_ub = np.minimum(  # enough for every packet with the margin, and p <= p_max
                np.where(k > 0, DELIVERY_MARGIN / np.where(k > 0, k, 1.0), 0.0), w_pmax)
        w_pmax = np.broadcast_to(w_pmax, k.shape)
        shape = (n, -1)
        a0 = splits.a0[s_tx][None, :, None]
        a1 = splits.a1[s_tx][None, :, None]
        a2 = splits.a2[s_tx][None, :, None]
        vn = v / n
        q = queues[:, None, None]
        kq = k / DELIVERY_MARGIN  # packets-with-margin fraction per Hz
        packets = splits.num_packets[s_tx][None, :, None].astype(float)
        self.packets = np.broadcast_to(packets, k.shape).reshape(shape)
        self.a0kq = (a0 * kq).reshape(shape)
        self.a0 = np.broadcast_to(a0, k.shape).reshape(shape)
        self.a1 = np.broadcast_to(a1, k.shape).reshape(shape)
        self.a2 = np.broadcast_to(a2, k.shape).reshape(shape)
        self.vk = (vn * a0 * kq).reshape(shape)
        self.qc = (q * c).reshape(shape)
        self.w_ub = w_ub.reshape(shape)
        self.unit = float(radio.granularity_hz)
        if self.unit > 0:  # the most units an option can use: p_max, W, and all its packets
            all_packets = DELIVERY_MARGIN * np.where(k > 0, 1.0 / np.where(k > 0, k, 1.0), 0.0)
            self.u_max = np.minimum(np.floor(w_pmax / self.unit + 1e-9),
                                    np.ceil(all_packets / self.unit - 1e-9)).reshape(shape)
        with np.errstate(divide="ignore"):
            self.inv_k = np.where(k > 0, 1.0 / np.where(k > 0, k, 1.0), 0.0).reshape(shape)
            self.w_packet = np.where(kq > 0, 1.0 / np.where(kq > 0, kq * packets, 1.0),
                                     1.0).reshape(shape)  # share per packet with the margin
        base = vn * a2 - q * splits.compute_j[s_tx][None, :, None]
        base = np.broadcast_to(base, k.shape).copy()
        base[~np.broadcast_to(ok[:, s_tx, None], k.shape) | (k <= 0)] = -np.inf
        self.base = base.reshape(shape)
        dead = ~np.isfinite(self.base)  # keep the arithmetic finite on options that never win
        for name in ("a0kq", "vk", "qc", "w_ub", "w_packet", "inv_k", "u_max"):
            if not hasattr(self, name):
                continue
            arr = np.array(getattr(self, name), dtype=float)
            arr[dead] = 0.0 if name in ("w_ub", "vk", "inv_k", "u_max") else 1.0
            setattr(self, name, arr)
        self.a0_packet = self.a0 / np.maximum(self.packets, 1.0)  # a0 * beta per packet
        self.vn = vn
        dev = splits.device_index
        self.device_u = np.where(
            ok[:, dev], vn * splits.accuracy_full[dev] - queues * splits.compute_j[dev], -np.inf
        )
        self.n = n

    def best(self, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per robot: the best option (index into the flattened options, ``DEVICE`` or
        ``SKIP``), its share, and the share sum."""
        mu = self.qc + lam  # > 0: the queues carry the energy price floor
        w_star = (self.a1 + np.sqrt(self.vk / mu)) / self.a0kq  # KKT of the envelope
        u, w, planned = (self._best_units if self.unit > 0 else self._best_packets)(w_star, lam)
        j = np.argmax(u, axis=1)
        rows = np.arange(self.n)
        u_best = np.where(planned[rows, j] >= 1, u[rows, j], -np.inf)  # 0 packets = skip
        tol = np.where(np.isfinite(u_best), 1e-12 * np.abs(u_best), 0.0)
        use_dev = self.device_u > u_best + tol  # ties go to the transmitting plan
        skip = np.maximum(u_best, self.device_u) <= 1e-15  # nothing beats doing nothing
        choice = np.where(skip, SKIP, np.where(use_dev, DEVICE, j))
        w_best = np.where(choice >= 0, w[rows, j], 0.0)
        return choice, w_best, w_best.sum()

    def _best_packets(self, w_star: np.ndarray, lam: float):
        """Continuous shares: the two packet boundaries around the KKT point -> utility, share
        and planned packets per option."""
        lo = np.floor(np.clip(w_star, 0.0, self.w_ub) / self.w_packet + 1e-9)
        lo = np.minimum(lo, self.packets)
        hi = np.minimum(lo + 1.0, self.packets)
        u_lo, w_lo = self._utility(lo, lo * self.w_packet, lam)
        u_hi, w_hi = self._utility(hi, hi * self.w_packet, lam)
        u_hi = np.where(w_hi <= self.w_ub * (1 + 1e-9), u_hi, -np.inf)
        take_hi = u_hi > u_lo
        return (np.where(take_hi, u_hi, u_lo), np.where(take_hi, w_hi, w_lo),
                np.where(take_hi, hi, lo))

    def _best_units(self, w_star: np.ndarray, lam: float):
        """Shares in whole units: the unit counts around the KKT point and those of the packet
        boundaries around it, each with the whole packets it delivers -> utility, share and
        planned packets per option (an option whose SNR p_max cannot reach on one unit plans
        nothing)."""
        base = np.maximum(np.floor(np.clip(w_star, 0.0, None) / self.unit + 1e-9), 1.0)
        # and the fewest units that carry the packet counts around the KKT point (a unit can be
        # narrower than one packet's share: then the counts around w* may carry no packet)
        lo = np.minimum(np.floor(np.clip(w_star, 0.0, self.w_ub) / self.w_packet + 1e-9),
                        self.packets)
        candidates = [base - 1.0, base, base + 1.0]
        for j in (np.maximum(lo, 1.0), np.minimum(lo + 1.0, self.packets)):
            candidates.append(np.ceil(j * self.w_packet / self.unit - 1e-9))
        best_u = np.full(base.shape, -np.inf)
        best_w, best_j = np.zeros(base.shape), np.zeros(base.shape)
        for candidate in candidates:
            units = np.minimum(np.maximum(candidate, 1.0), self.u_max)
            w = units * self.unit
            packets = np.minimum(np.floor(w / self.w_packet + 1e-9), self.packets)
            packets = np.where(units >= 1, packets, 0.0)
            util, _ = self._utility(packets, w, lam)
            util = np.where(packets >= 1, util, -np.inf)
            better = util > best_u
            best_u = np.where(better, util, best_u)
            best_w, best_j = np.where(better, w, best_w), np.where(better, packets, best_j)
        return np.where(np.isfinite(best_u), best_u, 0.0), best_w, best_j

    def _utility(self, packets: np.ndarray, w: np.ndarray, lam: float):
        """Utility of planning ``packets`` whole packets on share ``w`` (0 packets: the task is
        skipped, utility 0), and the share."""
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (self.base - self.vn / (packets * self.a0_packet - self.a1)
                 - self.qc * np.minimum(w, self.inv_k) - lam * w)
        return np.where(packets >= 1, u, 0.0), w

    def max_price(self) -> float:
        """A price at which no robot wants any bandwidth: with j >= 1 packets the utility is at
        most ``V/N a2 - lambda j w_packet``, which is <= 0 once lambda >= V/N a2 / w_packet."""
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(np.isfinite(self.base),
                             self.vn * np.maximum(self.a2, 0.0) / np.maximum(self.w_packet, 1e-30),
                             0.0)
        return float(max(np.max(bound), 1e-30)) * 2.0


def _least_power(split, w, p_ref, gains, window, *, splits: SplitTable, radio: RadioParams,
                 delivery: np.ndarray):
    """Lower each p_ref to the least power that still delivers the planned whole packets
    (with the margin) on the final share: same surrogate accuracy, less energy. Undoes the SNR
    grid's coarseness and uses the leftover bandwidth for energy rather than nothing."""
    k = splits.num_packets[split]
    bits = splits.payload_bits[split]
    se_now = ergodic_spectral_efficiency(snr(w, p_ref, gains, radio.noise_psd_w_per_hz),
                                         radio.decode_snr)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta_raw = np.where(bits > 0, w * se_now * window * delivery
                            / np.where(bits > 0, bits, 1.0), 0.0)
        whole = np.minimum(np.floor(beta_raw * k / DELIVERY_MARGIN + 1e-9), k)
        need = DELIVERY_MARGIN * whole / np.maximum(k, 1) * bits / (w * window * delivery)
    gamma = snr_for_spectral_efficiency(np.nan_to_num(need, nan=0.0, posinf=0.0),
                                        radio.decode_snr)
    least = gamma * radio.noise_psd_w_per_hz * w / gains * (1.0 + 1e-6)
    ok = (whole > 0) & (w > 0) & np.isfinite(least)
    return np.where(ok, np.minimum(p_ref, least), p_ref)


_GRID_CACHE: dict[tuple[float, int], np.ndarray] = {}


def _cached_grid(radio: RadioParams, points: int) -> np.ndarray:
    key = (radio.decode_snr_db, points)
    if key not in _GRID_CACHE:
        _GRID_CACHE[key] = snr_grid(radio, points)
    return _GRID_CACHE[key]


def _cached_se(gamma: np.ndarray, threshold: float) -> np.ndarray:
    key = (float(threshold), gamma.size, float(gamma[0]))
    if key not in _SE_GRID_CACHE:
        _SE_GRID_CACHE[key] = ergodic_spectral_efficiency(gamma, threshold)
    return _SE_GRID_CACHE[key]


_SE_GRID_CACHE: dict[tuple[float, int, float], np.ndarray] = {}


def solve_outer(
    gains: np.ndarray,
    queues: np.ndarray,
    v: float,
    bandwidth_hz: float,
    splits: SplitTable,
    *,
    radio: RadioParams,
    deadline_s,
    phi: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    energy_scale_j: float | None = None,
    snr_points: int = SNR_GRID_POINTS,
    iterations: int = 14,
    price_hint: float | None = None,
    delivery: np.ndarray | None = None,
) -> OuterSolution:
    """Solve P1.1 for one frame. ``phi`` [S]: planned fraction of the window used (default 1);
    ``allowed`` [S] or [N, S]: splits a policy may choose; ``energy_scale_j``: the energy scale
    of the tie-break price (the budget E_bar; default: the whole model's compute energy);
    ``price_hint``: last frame's price (warm start: the bisection starts from a bracket around
    it when that bracket holds); ``delivery`` [N]: measured delivery rates in (0, 1]
    (``core.delivery``; default 1: no loss beyond the fading outages)."""
    gains = np.asarray(gains, float)
    queues = np.asarray(queues, float)
    if gains.ndim != 1 or np.any(~np.isfinite(gains)) or np.any(gains <= 0):
        raise ValueError(f"gains: expected a 1-D array of finite values > 0, got {gains}")
    if queues.shape != gains.shape or np.any(~np.isfinite(queues)) or np.any(queues < 0):
        raise ValueError(f"queues: expected {gains.shape} finite values >= 0, got {queues}")
    if not v > 0:
        raise ValueError(f"v: expected > 0, got {v}")
    if not bandwidth_hz > 0:
        raise ValueError(f"bandwidth_hz: expected > 0, got {bandwidth_hz}")
    delivery = np.ones(gains.size) if delivery is None else np.asarray(delivery, float)
    if delivery.shape != gains.shape or np.any(~(delivery > 0) | (delivery > 1)):
        raise ValueError(f"delivery: expected {gains.shape} values in (0, 1], got {delivery}")
    n = gains.size
    phi = np.ones(splits.n_splits) if phi is None else np.asarray(phi, float)
    scale = float(np.max(splits.compute_j)) if energy_scale_j is None else float(energy_scale_j)
    floor = energy_price_floor(v, n, scale)
    gamma = _cached_grid(radio, snr_points)
    opts = _Options(gains, queues + floor, v, splits, radio=radio, deadline_s=deadline_s,
                    phi=phi, allowed=allowed, gamma=gamma, bandwidth_hz=bandwidth_hz,
                    delivery=delivery)
    unit = radio.granularity_hz
    usable = np.floor(bandwidth_hz / unit + 1e-9) * unit if unit > 0 else bandwidth_hz
    lam = 0.0
    choice, w, total = opts.best(0.0)
    if total > usable * (1 + 1e-12):
        hi = opts.max_price()
        lo = hi * 1e-10
        steps = iterations
        if (
            price_hint
            and lo < price_hint < hi
            and opts.best(price_hint * 4.0)[2] <= usable < opts.best(price_hint / 4.0)[2]
        ):
            lo, hi, steps = price_hint / 4.0, price_hint * 4.0, max(iterations // 2, 6)
        choice, w, total = opts.best(hi)
        for _ in range(steps):
            mid = np.sqrt(lo * hi)
            c_mid, w_mid, t_mid = opts.best(mid)
            if t_mid > usable * (1 + 1e-12):
                lo = mid
            else:
                hi, choice, w, total = mid, c_mid, w_mid, t_mid
        lam = hi
    n_g = opts.gamma.size
    tx = choice >= 0
    run = choice != SKIP
    split = np.where(tx, opts.s_tx[np.maximum(choice, 0) // n_g], splits.device_index)
    gamma = opts.gamma[np.maximum(choice, 0) % n_g]
    p_ref = np.where(tx, gamma * radio.noise_psd_w_per_hz * w / gains, 0.0)
    p_ref = np.minimum(p_ref, radio.p_max_w)
    window = np.where(run, opts.window_s[np.arange(n), split], 0.0)
    if 0 < total < bandwidth_hz:
        # hand out the leftover at fixed p_ref, except where the lower SNR would push more of
        # the window below the decoding threshold and deliver fewer whole packets
        more = w * (bandwidth_hz / total)
        if unit > 0:  # whole units, none below the plan (it is a multiple of the unit)
            more = np.maximum(quantize_shares(more, unit, bandwidth_hz), w)
        before = plan_outcome(split, w, p_ref, gains, window, splits=splits, radio=radio,
                              delivery=delivery)[2]
        after = plan_outcome(split, more, p_ref, gains, window, splits=splits, radio=radio,
                             delivery=delivery)[2]
        w = np.where(after >= before, more, w)
    p_ref = _least_power(split, w, p_ref, gains, window, splits=splits, radio=radio,
                         delivery=delivery)
    acc, energy, beta = plan_outcome(split, w, p_ref, gains, window, splits=splits, radio=radio,
                                     phi=phi, delivery=delivery)
    acc, energy = np.where(run, acc, 0.0), np.where(run, energy, 0.0)
    return OuterSolution(
        run=run,
        split=split,
        bandwidth_hz=w,
        p_ref=p_ref,
        window_s=window,
        beta=np.where(run, beta, 0.0),
        accuracy=acc,
        energy_j=energy,
        price=float(lam),
        objective=objective(acc, energy, queues, v),
    )
