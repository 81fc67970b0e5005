"""Outer loop: the per-frame drift-plus-penalty problem (P1.1), exact over whole resource units.

    maximize  V * mean_n A_hat_n(s_n, beta_n) - sum_n Q_n E_n   s.t.  sum_n u_n <= U,
              0 <= p_ref_n <= p_max,  s_n feasible for the deadline,

where robot n holds u_n whole units of the uplink (a resource unit size it may hold, 0 = no
uplink: it runs the model itself or skips its task).

Method [ours]: a multiple-choice knapsack over units, solved exactly by dynamic programming.
For each robot and each unit count it may hold, the best plan over its feasible splits (the cuts
of the network, and the codec options where a policy offers them) and a grid of planned mean
SNRs is found by enumeration, each plan valued by the planner's own model (``plan_outcome``);
with no unit a robot runs the model itself or skips. The knapsack then picks one unit count per
robot maximizing the sum of utilities within U units: O(N x U x sizes) after O(N x S x G x
sizes) plan evaluations. The unit counts a robot may hold are ``core.units.allowed_units``: the
802.11ax RU sizes, or every count up to 16 and a ladder of ~25% steps above (NR PRBs,
continuous shares planned in 48 units), so the knapsack is exact over those counts.

Why not the Lagrangian of ENACHI.md section 3 (a bandwidth price bisected until the shares fill
W, with a closed-form share per robot): that closed form holds for radiated power and a
continuous Shannon rate, and breaks on both counts of the physics we now model. With circuit
power a transmission's energy is no longer linear in its share (a wider share finishes sooner
and the radio's fixed draw stops earlier); with an MCS staircase and whole packets the utility
is a step function of the share. And a price has no primal recovery: when every robot's least
useful share costs about the same (each needs 2-3 units for the raw frame), all of them drop out
at the same price, so with more robots than units the bisection handed out nothing (20 robots on
9 units, 5 robots on 4 units: no robot got a unit, ENACHI scored 0 where JPEG offloading scored
0.73). The knapsack is exact for the discretized problem, brute-force checked
(``tests/test_core_solver.py``) up to 6 robots on 2-12 units.

Why whole units per frame and not units shared in time within the window (802.11ax trigger-based
access can give a unit to different stations in successive slots): the robots' transmitters and
the edge plan one share per task and frame (``SchedulerDecision.bandwidth_hz``); a per-slot
resource schedule would need a message the data plane does not have. With more robots than
units the knapsack gives the units to the robots whose plans are worth most; the others run the
model on board or skip, each by its own utility.

Planning model (``plan_outcome``), shared with every policy's prediction:
- fading-aware rates: a plan at mean SNR gamma expects the MCS table's rate averaged over
  Rayleigh fading, slots in outage delivering nothing (``core.rates.expected_rate_bps``), times
  the robot's measured delivery rate (``core.delivery``: lost packets are re-sent within the
  window, so they cost airtime);
- packet granularity: the edge uses whole packets, and accuracy is counted on the whole packets
  deliverable with the margin ``DELIVERY_MARGIN`` against fading correlated over ~10 slots;
  a codec frame (all or nothing) counts only when every packet is; zero deliverable packets is
  not a plan but skipping (an unanswered task scores 0 whatever it would have guessed);
- energy: the head (or encoder) compute, then what the radio draws above its doze floor while
  its transmission lasts (the window, or less once every bit is through, times the planned stop
  fraction phi): the radiated power over the amplifier's efficiency, the transmit circuit in the
  slots above outage and listening in the others, and the wait for the result
  (``core.radio_power``);
- ties between plans of equal utility go to the cheaper one through an energy price floor on the
  configuration's energy scale: ``TIE_BREAK_ACCURACY`` of one robot's accuracy weight ``V / N``
  per ``energy_scale_j`` (the budget E_bar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import RadioParams
from enachi_ros.core.progressive import feedback_delay_slots
from enachi_ros.core.rates import (
    expected_rate_bps,
    outage_snr,
    snr,
    table_of,
    transmit_probability,
)
from enachi_ros.core.split_table import SplitTable
from enachi_ros.core.surrogate import surrogate_accuracy
from enachi_ros.core.units import allowed_units, total_units, unit_hz

SNR_GRID_POINTS = 16
SHANNON_SPAN_DB = 30.0  # the Shannon model's grid: the decoding threshold and 30 dB above
TABLE_HEADROOM_DB = 10.0  # an MCS table's grid: its lowest to 10 dB above its highest threshold
DELIVERY_MARGIN = 2.0
TIE_BREAK_ACCURACY = 1e-3  # accuracy (x V/N) an energy of ``energy_scale_j`` must buy at Q = 0


def snr_grid(radio: RadioParams, points: int = SNR_GRID_POINTS) -> np.ndarray:
    """Planned mean SNRs (linear): from the outage SNR up to past the table's top MCS (fades
    around the mean reach every MCS) or 30 dB above the Shannon model's threshold."""
    low = 10.0 * np.log10(outage_snr(radio))
    table = table_of(radio)
    high = (table.threshold_db[-1] + TABLE_HEADROOM_DB) if table else low + SHANNON_SPAN_DB
    return 10.0 ** (np.linspace(low, high, points) / 10.0)


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
    ``objective`` is the P1.1 value at the returned plan; ``price`` the value of the last unit
    (what one more unit of the channel would have added to the objective)."""

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


def result_wait_s(tail_s, radio: RadioParams) -> np.ndarray:
    """How long after its last transmission a task's result reaches the robot: the tail, then
    the downlink, in whole slots (``core.progressive.feedback_delay_slots``)."""
    return feedback_delay_slots(tail_s, radio.feedback_s, radio.slot_s) * radio.slot_s


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
    """Planned accuracy, energy and beta of plans, in physical terms (arrays broadcast).

    Accuracy is counted on whole packets deliverable with the ``margin`` (ENACHI's planner: x2
    against correlated fading; 1 = at the expected rate), and is 0 when no packet is (an
    unanswered task scores 0) or, for a full transmission (``partial_ok`` False, or a codec
    option), when not all of them are. Bits get through at the goodput: the expected
    link-adapted rate over Rayleigh fading at the plan's mean SNR times the ``delivery`` rate
    (``core.delivery``; None = 1). Energy above the doze floor: compute, then while the
    transmission lasts (``T min(1, 1 / beta_raw) phi``, ``phi`` the planned stop fraction, 1 for
    the plain plan) the radiated power over the amplifier's efficiency, the transmit circuit in
    the slots above outage and listening in the others; then the wait for the result.
    """
    split = np.asarray(split, int)
    phi_s = np.ones(splits.n_splits) if phi is None else np.asarray(phi, float)
    bits = splits.payload_bits[split]
    tx = splits.transmits[split]
    w = np.asarray(bandwidth_hz, float)
    p = np.asarray(p_ref, float)
    mean_snr = snr(w, p, gains, radio.noise_psd_w_per_hz)
    d = 1.0 if delivery is None else np.asarray(delivery, float)
    delivered = expected_rate_bps(w, mean_snr, radio) * np.asarray(window_s, float) * d
    with np.errstate(divide="ignore", invalid="ignore"):
        beta_raw = np.where(bits > 0, delivered / np.where(bits > 0, bits, 1.0), 0.0)
        time_frac = phi_s[split] * np.where(beta_raw > 1.0, 1.0 / beta_raw, 1.0)
    k = splits.num_packets[split]
    whole = np.minimum(np.floor(beta_raw * k / margin + 1e-9), k)
    beta = whole / np.maximum(k, 1)  # whole packets deliverable with the margin
    partial = surrogate_accuracy(beta, splits.a0[split], splits.a1[split], splits.a2[split])
    full = np.where(whole >= k, splits.accuracy_full[split], 0.0)
    use_partial = np.asarray(partial_ok, bool) & ~splits.all_or_nothing[split]
    acc_tx = np.where(whole >= 1, np.where(use_partial, partial, full), 0.0)
    acc = np.where(tx, acc_tx, splits.accuracy_full[split])
    pw = radio.power
    on = transmit_probability(mean_snr, radio)
    active_s = np.asarray(window_s, float) * time_frac
    radio_j = active_s * (p / pw.pa_efficiency + on * (pw.tx_circuit_w - pw.sleep_w)
                          + (1.0 - on) * pw.idle_slot_w(radio.slot_s))
    wait_j = pw.result_wait_s(result_wait_s(splits.tail_s[split], radio)) \
        * pw.listen_above_sleep_w
    sends = tx & (w > 0) & (p > 0)
    energy = splits.compute_j[split] + np.where(sends, radio_j + wait_j, 0.0)
    return acc, energy, np.where(tx, beta, 1.0)


def objective(acc: np.ndarray, energy: np.ndarray, queues: np.ndarray, v: float) -> float:
    """P1.1 value: V * mean accuracy - sum Q E."""
    return float(v * np.mean(acc) - np.sum(np.asarray(queues) * energy))


@dataclass(frozen=True)
class UnitOptions:
    """Per robot, the best plan for each unit count it may hold (``utility [N, A]``, -inf where
    none plans a packet; ``split``, ``gamma`` the plan's), and its best plan without uplink
    (``zero_utility [N]``: running the model itself, ``zero_device`` True, or skipping)."""

    sizes: np.ndarray
    unit_hz: float
    utility: np.ndarray
    split: np.ndarray
    gamma: np.ndarray
    zero_utility: np.ndarray
    zero_device: np.ndarray
    window_s: np.ndarray  # [N, S]


def unit_options(gains, queues, v, splits: SplitTable, *, radio: RadioParams, deadline_s,
                 bandwidth_hz: float, phi=None, allowed=None, delivery=None,
                 snr_points: int = SNR_GRID_POINTS) -> UnitOptions:
    """Enumerate every (robot, split, planned SNR, unit count) plan and keep, per robot and unit
    count, the most useful (``V / N A - Q E``; ``queues`` carry the price floor)."""
    n = gains.size
    deadline = np.broadcast_to(np.asarray(deadline_s, float), (n,))
    slots = window_slots(deadline, splits, radio.slot_s, radio.feedback_s)
    ok = feasible(deadline, splits, radio.slot_s, radio.feedback_s)
    if allowed is not None:
        ok = ok & np.broadcast_to(np.asarray(allowed, bool), ok.shape)
    window = slots * radio.slot_s
    sizes = allowed_units(radio, bandwidth_hz)
    g = unit_hz(radio, bandwidth_hz)
    s_tx = np.flatnonzero(splits.transmits)
    gamma = snr_grid(radio, snr_points)
    w = (sizes * g)[None, None, None, :]  # [1, 1, 1, A]
    h = gains[:, None, None, None]
    p = gamma[None, None, :, None] * radio.noise_psd_w_per_hz * w / h  # [N, 1, G, A]
    acc, energy, beta = plan_outcome(
        s_tx[None, :, None, None], w, p, h, window[:, s_tx][:, :, None, None], splits=splits,
        radio=radio, phi=phi, delivery=np.asarray(delivery, float)[:, None, None, None])
    util = v / n * acc - queues[:, None, None, None] * energy  # [N, S', G, A]
    valid = (ok[:, s_tx][:, :, None, None] & (beta > 0) & (p <= radio.p_max_w * (1 + 1e-12))
             & (window[:, s_tx][:, :, None, None] > 0))
    util = np.where(valid, util, -np.inf)
    flat = util.transpose(0, 3, 1, 2).reshape(n, sizes.size, s_tx.size * gamma.size)
    if flat.shape[1] and flat.shape[2]:
        best = np.argmax(flat, axis=2)
        best_u = np.take_along_axis(flat, best[..., None], axis=2)[..., 0]
    else:  # no unit fits the channel, or no split transmits
        best, best_u = np.zeros((n, sizes.size), int), np.full((n, sizes.size), -np.inf)
    dev = splits.device_index
    dev_u = np.where(ok[:, dev], v / n * splits.accuracy_full[dev]
                     - queues * splits.compute_j[dev], -np.inf)
    return UnitOptions(sizes, g, best_u, s_tx[best // gamma.size], gamma[best % gamma.size],
                       np.maximum(dev_u, 0.0), dev_u > 0.0, window)


def knapsack(utility: np.ndarray, zero: np.ndarray, sizes: np.ndarray,
             capacity: int) -> tuple[np.ndarray, float, float]:
    """Exact multiple-choice knapsack: per robot one of ``sizes`` (utility ``[N, A]``, -inf =
    not possible) or no unit (``zero [N]``), at most ``capacity`` units in all. Returns the
    index into ``sizes`` per robot (-1 = no unit), the best total and the value of the last
    unit (best total minus the best with one unit less)."""
    n = utility.shape[0]
    sizes = np.asarray(sizes, int)
    c = np.arange(capacity + 1)
    src = c[None, :] - sizes[:, None]  # [A, C]: the capacity left before taking size a
    fits = src >= 0
    src = np.maximum(src, 0)
    f = np.zeros(capacity + 1)  # best total of the robots so far within c units
    pick = np.full((n, capacity + 1), -1, dtype=int)
    for i in range(n):
        cand = np.where(fits, f[src] + utility[i][:, None], -np.inf)  # [A, C]
        best = np.argmax(cand, axis=0) if sizes.size else np.zeros(capacity + 1, int)
        top = cand[best, c] if sizes.size else np.full(capacity + 1, -np.inf)
        stay = f + zero[i]
        better = top > stay + 1e-12 * np.maximum(np.abs(stay), 1e-300)
        pick[i] = np.where(better, best, -1)
        f = np.where(better, top, stay)
    choice = np.full(n, -1, dtype=int)
    left = capacity
    for i in range(n - 1, -1, -1):
        choice[i] = pick[i, left]
        if choice[i] >= 0:
            left -= int(sizes[choice[i]])
    last = float(f[capacity] - f[capacity - 1]) if capacity >= 1 else 0.0
    return choice, float(f[capacity]), last


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
    delivery: np.ndarray | None = None,
) -> OuterSolution:
    """Solve P1.1 for one frame. ``phi`` [S]: planned fraction of the window used (default 1);
    ``allowed`` [S] or [N, S]: splits a policy may choose; ``energy_scale_j``: the energy scale
    of the tie-break price (the budget E_bar; default: the whole model's compute energy);
    ``delivery`` [N]: measured delivery rates in (0, 1] (``core.delivery``; default 1: no loss
    beyond the fading outages)."""
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
    scale = float(np.max(splits.compute_j)) if energy_scale_j is None else float(energy_scale_j)
    priced = queues + energy_price_floor(v, n, scale)
    opts = unit_options(gains, priced, v, splits, radio=radio, deadline_s=deadline_s,
                        bandwidth_hz=bandwidth_hz, phi=phi, allowed=allowed, delivery=delivery,
                        snr_points=snr_points)
    choice, _, last = knapsack(opts.utility, opts.zero_utility, opts.sizes,
                               total_units(radio, bandwidth_hz))
    rows = np.arange(n)
    tx = choice >= 0
    a = np.maximum(choice, 0)
    run = tx | opts.zero_device
    if opts.sizes.size:
        split = np.where(tx, opts.split[rows, a], splits.device_index)
        w = np.where(tx, opts.sizes[a] * opts.unit_hz, 0.0)
        gamma = np.where(tx, opts.gamma[rows, a], 0.0)
    else:  # the channel is narrower than one unit
        split, w, gamma = np.full(n, splits.device_index), np.zeros(n), np.zeros(n)
    p_ref = gamma * radio.noise_psd_w_per_hz * w / gains
    p_ref = np.minimum(p_ref, radio.p_max_w)
    window = np.where(run, opts.window_s[rows, split], 0.0)
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
        price=max(last, 0.0),
        objective=objective(acc, energy, queues, v),
    )
