"""Inner loop: per-slot transmit power that tracks the outer loop's reference power p_ref.

The outer loop plans with a frame-level channel estimate; inside the frame the channel fades
slot by slot. The tracking law (ENACHI.md section 5)

    Z_{t+1} = max(0, Z_t + (p_t - p_ref) tau)
    p_t = clip(V2 w / ((Z_t + zeta) ln 2) - N0 w / h_t, 0, p_max)

is water-filling against a level that sinks while the robot over-spends (Z grows). We pick the
energy scale ``zeta = zeta_slots * p_ref * tau`` (over-spending by ``zeta_slots`` slots' worth
of the reference energy halves the level) and derive V2 from the level at Z = 0.

Outage skipping is a switch of its own (``decode_skip``, default on) that every law honours: a
slot whose SNR would be below the decoding threshold gets no power, since everything sent in it
would be lost. It is separate from reference tracking so that an ablation can remove one
without the other (ENACHI.md section 6).

Two-sided tracking [ours, default ``credit=3``]: ENACHI.md's queue is one-sided (max(0, .)), so
energy left unspent in deep fades is never given back; with fading correlated over ~10 slots a
window sees few independent fades, and a task that waited out a fade then under-delivers. We let
Z go down to ``-(1 - 1/(1 + credit)) zeta`` (the level can rise to (1 + credit) x its Z = 0
value) so the law catches up in later good slots and tracks the reference energy from both
sides; ``credit=0`` is the one-sided law of ENACHI.md.

The level at Z = 0 (``level_rule``):
- ``nominal`` (ENACHI.md): the law returns exactly p_ref at the nominal channel h_nom.
- ``ergodic`` [ours, default]: the level at which the *expected* power over Rayleigh fading
  around h_nom, with undecodable slots skipped, equals p_ref. At low target SNR the nominal rule
  spends far less than p_ref (most slots fall below the level or the threshold) and then
  delivers far less than the outer loop planned; the one-sided Z cannot push power back up. With
  the ergodic level the reference energy is met on average and Z still caps over-spending.
  Normalizing power by N0 w / h_nom, with X ~ Exp(1) and ``a = (1 + thr) / l``, the expected
  power of level ``l`` is ``l e^{-a} - E1(a)``; it is increasing in ``l`` and inverted by
  bisection once per task.

Every controller is vectorized over a batch of tasks (the simulator) and works unchanged for a
batch of one (a robot's transmitter node): ``power(h_t) -> p_t`` then ``update(p_t, used)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import exp1

from enachi_ros.core.params import RadioParams

LAWS = ("tracking", "pacing", "constant")
LEVEL_RULES = ("ergodic", "nominal")


def ergodic_level(target_snr: np.ndarray, threshold: float, iterations: int = 50) -> np.ndarray:
    """Normalized water level l with E[(l - 1/X) 1{l X - 1 >= threshold}] = target_snr, X ~ Exp(1).

    ``target_snr = p_ref h_nom / (N0 w)``; the level in watts is ``l N0 w / h_nom``."""
    target = np.maximum(np.asarray(target_snr, float), 0.0)

    def expected(level):
        a = (1.0 + threshold) / level
        return level * np.exp(-a) - exp1(a)

    lo = np.full_like(target, 1e-6)
    hi = np.maximum(2.0 * (target + 1.0 + threshold), 1.0)
    for _ in range(iterations):  # expected() is increasing in the level
        mid = 0.5 * (lo + hi)
        below = expected(mid) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(target > 0, hi, 0.0)


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
        self.spent_j = np.zeros(n)

    def _finish(self, p: np.ndarray, h: np.ndarray) -> np.ndarray:
        p = np.clip(np.where((self.w > 0) & (self.p_ref > 0), p, 0.0), 0.0, self.radio.p_max_w)
        if self.decode_skip:
            noise = self.radio.noise_psd_w_per_hz * np.maximum(self.w, 1e-30)
            p = np.where(p * h / noise >= self.radio.decode_snr, p, 0.0)
        return p

    def update(self, p_t, used_fraction=1.0) -> None:
        """Account the slot: energy actually radiated is p_t x tau x used fraction."""
        radiated = np.asarray(p_t, float) * np.asarray(used_fraction, float)
        self.spent_j += radiated * self.radio.slot_s


class PowerController(_Base):
    """The reference-tracking law (ENACHI's inner loop)."""

    def __init__(
        self,
        p_ref,
        h_nominal,
        bandwidth_hz,
        radio: RadioParams,
        *,
        zeta_slots: float = 4.0,
        decode_skip: bool = True,
        level_rule: str = "ergodic",
        credit: float = 3.0,
    ) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip)
        if zeta_slots <= 0:
            raise ValueError(f"zeta_slots: expected > 0, got {zeta_slots}")
        if credit < 0:
            raise ValueError(f"credit: expected >= 0, got {credit}")
        if level_rule not in LEVEL_RULES:
            raise ValueError(f"level_rule: expected one of {LEVEL_RULES}, got {level_rule!r}")
        h_nom = _as_batch(h_nominal, self.p_ref.size)
        if np.any(h_nom <= 0):
            raise ValueError(f"h_nominal: expected > 0, got {h_nom}")
        n0w = radio.noise_psd_w_per_hz * self.w
        if level_rule == "nominal":
            self.level0 = self.p_ref + n0w / h_nom  # returns exactly p_ref at h_nom
        else:
            unit = n0w / h_nom  # power that gives SNR 1 at the nominal channel
            with np.errstate(divide="ignore", invalid="ignore"):
                target = np.where(unit > 0, self.p_ref / np.where(unit > 0, unit, 1.0), 0.0)
            thr = radio.decode_snr if decode_skip else 0.0
            self.level0 = ergodic_level(target, thr) * unit
        self.zeta = zeta_slots * self.p_ref * radio.slot_s
        self.z_floor = -(1.0 - 1.0 / (1.0 + credit)) * self.zeta
        self.v2 = self.zeta * np.log(2.0) * self.level0 / np.maximum(self.w, 1e-30)
        self.z = np.zeros_like(self.p_ref)

    def power(self, h_t) -> np.ndarray:
        h = np.maximum(_as_batch(h_t, self.p_ref.size), 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.where(self.zeta > 0, self.level0 * self.zeta / (self.z + self.zeta), 0.0)
        p = level - self.radio.noise_psd_w_per_hz * self.w / h
        return self._finish(p, h)

    def update(self, p_t, used_fraction=1.0) -> None:
        super().update(p_t, used_fraction)
        radiated = np.asarray(p_t, float) * np.asarray(used_fraction, float)
        self.z = np.maximum(self.z_floor, self.z + (radiated - self.p_ref) * self.radio.slot_s)


class BudgetPacingController(_Base):
    """Ablation: spread the remaining reference energy over the remaining slots, weighted by
    how good this slot is relative to the running mean gain."""

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
        return self._finish(base * h / self.h_mean, h)

    def update(self, p_t, used_fraction=1.0) -> None:
        super().update(p_t, used_fraction)
        self.t += 1


class ConstantPowerController(_Base):
    """Baselines and the no-tracking ablation: p_t = p_ref in every slot, blind to the channel
    except that with ``decode_skip`` undecodable slots are left silent."""

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
