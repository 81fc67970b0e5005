"""Inner loop: per-slot transmit power that tracks the outer loop's reference power p_ref.

The outer loop plans with a frame-level channel estimate; inside the frame the channel fades
slot by slot. ENACHI.md section 5 gives the law for radiated power and the Shannon rate:

    Z_{t+1} = max(0, Z_t + (p_t - p_ref) tau)
    p_t = clip(V2 w / ((Z_t + zeta) ln 2) - N0 w / h_t, 0, p_max)

which is the per-slot drift-plus-penalty choice ``max_p V2 r(p) - (Z_t + zeta) p``. On a real
radio two things change it [ours, ENACHI.md section 7b]:
- the rate is the link-adapted MCS's (``core.rates``), a staircase in the SNR: power between two
  thresholds buys nothing, so the only powers worth radiating are those that just reach an MCS,
  ``p_m = t_m N0 w / h_t``;
- transmitting draws ``tx_circuit_w + p / pa_efficiency`` where a silent slot of the window only
  listens (``core.radio_power``): a slot is worth transmitting in only if its bits pay for that
  extra draw ``Delta``.
So the law is the same per-slot choice over the reachable MCS powers and silence,

    p_t = argmax over p in {0} and {p_m <= p_max} of
          V2 se(p h_t / (N0 w)) - (Z_t + zeta) (p + eta Delta 1{p > 0})

(the cost in radiated-power units: draw x efficiency). For the Shannon model the maximizer is
the water-filling power of ENACHI.md with the same on/off test. Over-spending raises Z and lowers
later powers; good slots get the higher MCS.

We pick the energy scale ``zeta = zeta_slots * p_ref * tau`` (over-spending by ``zeta_slots``
slots' worth of the reference energy halves the weight of rate) and derive V2 so that at Z = 0
the *expected* radiated power over Rayleigh fading around the nominal channel equals p_ref (the
planner's reference: its energy plan is p_ref over the window), by bisection over a quadrature of
the fading distribution, once per task. (ENACHI.md's "the law returns exactly p_ref at the
nominal channel" has no counterpart on a staircase, and spent far less than planned at low SNR.)

Outage skipping is a switch of its own (``decode_skip``, default on) that every law honours: a
slot in which no MCS is reachable gets no power, since everything sent in it would be lost.
Without it (the ``enachi_no_skip`` ablation) the tracking law is ENACHI.md's as written: the
water-filling power for the Shannon rate and radiated power only, blind to the table, the
outage and the circuit, so it radiates into undecodable slots.

Two-sided tracking [ours, default ``credit=3``]: ENACHI.md's queue is one-sided (max(0, .)), so
energy left unspent in deep fades is never given back; with fading correlated over ~10 slots a
window sees few independent fades, and a task that waited out a fade then under-delivers. We let
Z go down to ``-(1 - 1/(1 + credit)) zeta`` so the law catches up in later good slots and tracks
the reference energy from both sides; ``credit=0`` is the one-sided law of ENACHI.md.

Every controller is vectorized over a batch of tasks (the simulator) and works unchanged for a
batch of one (a robot's transmitter node): ``power(h_t) -> p_t`` then ``update(p_t, used)``.
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.params import RadioParams
from enachi_ros.core.rates import outage_snr, table_of

LAWS = ("tracking", "pacing", "constant")
_QUADRATURE = -np.log((np.arange(32) + 0.5) / 32.0)  # Exp(1) quantile midpoints


def zeta_of(p_ref, zeta_slots: float, slot_s: float) -> np.ndarray:
    """The tracking queue's energy scale: ``zeta_slots`` slots of the reference energy."""
    return zeta_slots * np.asarray(p_ref, float) * slot_s


def _as_batch(x, n: int | None = None) -> np.ndarray:
    a = np.atleast_1d(np.asarray(x, dtype=float)).copy()
    return np.broadcast_to(a, (n,)).copy() if n is not None and a.size == 1 else a


class _Base:
    def __init__(self, p_ref, bandwidth_hz, radio: RadioParams, decode_skip: bool) -> None:
        self.p_ref = _as_batch(p_ref)
        n = self.p_ref.size
        self.w = _as_batch(bandwidth_hz, n)
        if self.w.shape != self.p_ref.shape:
            raise ValueError(f"bandwidth_hz: expected {n} values, got {self.w.size}")
        if np.any(self.p_ref < 0) or np.any(self.w < 0):
            raise ValueError("p_ref, bandwidth_hz: expected values >= 0")
        self.radio = radio
        self.decode_skip = decode_skip
        self.noise_w = radio.noise_psd_w_per_hz * np.maximum(self.w, 1e-30)  # N0 w
        self.spent_j = np.zeros(n)

    def _mcs_floor(self, p: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The least power that reaches the MCS ``p`` reaches (power between two thresholds
        buys nothing); unchanged for the Shannon model."""
        table = table_of(self.radio)
        if table is None:
            return p
        snr = p * h / self.noise_w
        idx = np.searchsorted(table.thresholds, snr, side="right") - 1
        floor = table.thresholds[np.maximum(idx, 0)] * self.noise_w / h * (1.0 + 1e-9)
        return np.where(idx >= 0, np.minimum(p, floor), p)

    def _finish(self, p: np.ndarray, h: np.ndarray) -> np.ndarray:
        p = np.clip(np.where((self.w > 0) & (self.p_ref > 0), p, 0.0), 0.0, self.radio.p_max_w)
        if self.decode_skip:
            p = np.where(p * h / self.noise_w >= outage_snr(self.radio), p, 0.0)
        return p

    def update(self, p_t, used_fraction=1.0) -> None:
        """Account the slot: energy actually radiated is p_t x tau x used fraction."""
        radiated = np.asarray(p_t, float) * np.asarray(used_fraction, float)
        self.spent_j += radiated * self.radio.slot_s


class PowerController(_Base):
    """The reference-tracking law (ENACHI's inner loop), MCS- and circuit-aware."""

    def __init__(
        self,
        p_ref,
        h_nominal,
        bandwidth_hz,
        radio: RadioParams,
        *,
        zeta_slots: float = 4.0,
        decode_skip: bool = True,
        credit: float = 3.0,
        iterations: int = 28,
    ) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip)
        if zeta_slots <= 0:
            raise ValueError(f"zeta_slots: expected > 0, got {zeta_slots}")
        if credit < 0:
            raise ValueError(f"credit: expected >= 0, got {credit}")
        h_nom = _as_batch(h_nominal, self.p_ref.size)
        if np.any(h_nom <= 0):
            raise ValueError(f"h_nominal: expected > 0, got {h_nom}")
        pw = radio.power
        # extra draw of a transmitting slot over a listening one, in radiated-power units
        self.on_cost = pw.pa_efficiency * max(
            pw.tx_circuit_w - pw.sleep_w - pw.idle_slot_w(radio.slot_s), 0.0) \
            if decode_skip else 0.0
        self.table = table_of(radio) if decode_skip else None
        self.zeta_slots = zeta_slots
        self.zeta = zeta_of(self.p_ref, zeta_slots, radio.slot_s)
        self.z_floor = -(1.0 - 1.0 / (1.0 + credit)) * self.zeta
        self.z = np.zeros_like(self.p_ref)
        self.v2 = self._calibrate(h_nom, iterations)

    def _choose(self, v2: np.ndarray, weight: np.ndarray, h: np.ndarray,
                noise_w: np.ndarray) -> np.ndarray:
        """The per-slot choice for arrays broadcast together: ``v2``, ``weight`` = Z + zeta,
        channel ``h`` and noise ``N0 w``; returns the radiated power (0 = silent)."""
        p_max = self.radio.p_max_w
        if self.table is None:  # Shannon (or blind to the table): water-filling, then on/off
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.clip(v2 / (weight * np.log(2.0)) - noise_w / h, 0.0, p_max)
                value = v2 * np.log2(1.0 + p * h / noise_w) - weight * (p + self.on_cost)
            return np.where((p > 0) & (value > 0), p, 0.0)
        t = self.table.thresholds
        se = self.table.efficiencies
        unit = noise_w / h  # the power that gives SNR 1
        p_m = t * unit[..., None]  # [..., M] least power of each MCS
        with np.errstate(invalid="ignore"):
            value = v2[..., None] * se - weight[..., None] * (p_m + self.on_cost)
        value[p_m > p_max * (1 + 1e-12)] = -np.inf
        best = np.argmax(value, axis=-1)
        worth = value.max(axis=-1) > 0
        p = t[best] * unit * (1.0 + 1e-9)
        return np.where(worth, np.minimum(p, p_max), 0.0)

    def _calibrate(self, h_nom: np.ndarray, iterations: int) -> np.ndarray:
        """V2 per task such that at Z = 0 the mean radiated power over Rayleigh fading around
        ``h_nom`` is p_ref (bisection in log space, once per distinct task; 0 for tasks that
        send nothing)."""
        live = (self.p_ref > 0) & (self.w > 0)
        keys, inverse = np.unique(np.stack([self.p_ref, h_nom, self.noise_w]), axis=1,
                                  return_inverse=True)
        p_ref, h0, noise0 = keys
        h = h0[:, None] * _QUADRATURE[None, :]
        noise = noise0[:, None]
        weight = np.broadcast_to(np.maximum(zeta_of(p_ref, self.zeta_slots, self.radio.slot_s),
                                            1e-300)[:, None], h.shape)
        lo = np.full(p_ref.size, -80.0)
        hi = np.full(p_ref.size, 80.0)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            v2 = np.broadcast_to(np.exp(mid)[:, None], h.shape)
            mean_p = self._choose(v2, weight, h, noise).mean(axis=1)
            below = mean_p < p_ref
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return np.where(live, np.exp(hi)[np.ravel(inverse)], 0.0)

    def power(self, h_t) -> np.ndarray:
        h = np.maximum(_as_batch(h_t, self.p_ref.size), 1e-300)
        weight = np.maximum(self.z + self.zeta, 1e-300)
        p = self._choose(self.v2, weight, h, self.noise_w)
        return self._finish(np.where(self.zeta > 0, p, 0.0), h)

    def update(self, p_t, used_fraction=1.0) -> None:
        super().update(p_t, used_fraction)
        radiated = np.asarray(p_t, float) * np.asarray(used_fraction, float)
        self.z = np.maximum(self.z_floor, self.z + (radiated - self.p_ref) * self.radio.slot_s)


class BudgetPacingController(_Base):
    """Ablation: spread the remaining reference energy over the remaining slots, weighted by
    how good this slot is relative to the running mean gain (down to the MCS it reaches)."""

    def __init__(
        self,
        p_ref,
        h_nominal,
        bandwidth_hz,
        window_slots,
        radio: RadioParams,
        *,
        decode_skip: bool = True,
    ) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip)
        n = self.p_ref.size
        self.slots = _as_batch(window_slots, n)
        self.budget_j = self.p_ref * self.slots * radio.slot_s
        self.h_mean = _as_batch(h_nominal, n)
        self.t = 0

    def power(self, h_t) -> np.ndarray:
        h = np.maximum(_as_batch(h_t, self.p_ref.size), 1e-300)
        self.h_mean = self.h_mean + (h - self.h_mean) / (self.t + 2.0)
        remaining_slots = np.maximum(self.slots - self.t, 1.0)
        base = np.maximum(self.budget_j - self.spent_j, 0.0) / (remaining_slots * self.radio.slot_s)
        p = np.minimum(base * h / self.h_mean, self.radio.p_max_w)
        return self._finish(self._mcs_floor(p, h) if self.decode_skip else p, h)

    def update(self, p_t, used_fraction=1.0) -> None:
        super().update(p_t, used_fraction)
        self.t += 1


class ConstantPowerController(_Base):
    """Baselines and the no-tracking ablation: p_t = p_ref in every slot (a radio at fixed
    power whose MCS follows the channel), blind to the channel except that with
    ``decode_skip`` undecodable slots are left silent."""

    def __init__(self, p_ref, bandwidth_hz, radio: RadioParams, decode_skip: bool = True) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip=decode_skip)

    def power(self, h_t) -> np.ndarray:
        h = np.maximum(_as_batch(h_t, self.p_ref.size), 1e-300)
        return self._finish(self.p_ref.copy(), h)


def make_power_controller(
    law: str,
    p_ref,
    h_nominal,
    bandwidth_hz,
    window_slots,
    radio: RadioParams,
    *,
    decode_skip: bool = True,
    zeta_slots: float = 4.0,
):
    """The controller for a decision's ``power_law`` (one of ``LAWS``) and outage-skip switch."""
    if law == "tracking":
        return PowerController(p_ref, h_nominal, bandwidth_hz, radio, zeta_slots=zeta_slots,
                               decode_skip=decode_skip)
    if law == "pacing":
        return BudgetPacingController(p_ref, h_nominal, bandwidth_hz, window_slots, radio,
                                      decode_skip=decode_skip)
    if law == "constant":
        return ConstantPowerController(p_ref, bandwidth_hz, radio, decode_skip)
    raise ValueError(f"power_law: expected one of {LAWS}, got {law!r}")
