"""Inner loop: per-slot transmit power that tracks the outer loop's reference power p_ref.

The outer loop plans with a frame-level channel estimate; inside the frame the channel fades
slot by slot. The tracking law (ENACHI.md section 5)

    Z_{t+1} = max(0, Z_t + (p_t - p_ref) tau)
    p_t = clip(V2 w / ((Z_t + zeta) ln 2) - N0 w / h_t, 0, p_max)

is water-filling against a level that sinks while the robot over-spends (Z grows). ``zeta`` is
set so that at the nominal channel and Z = 0 the law returns exactly p_ref; we pick the energy
scale ``zeta = zeta_slots * p_ref * tau`` (over-spending by ``zeta_slots`` slots' worth of the
reference energy halves the level) and derive V2 from it. Optionally a slot whose SNR would be
below the decoding threshold gets no power: everything sent in it would be lost.

Every controller is vectorized over a batch of tasks (the simulator) and works unchanged for a
batch of one (a robot's transmitter node): ``power(h_t) -> p_t`` then ``update(p_t, used)``.
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.params import RadioParams

LAWS = ("tracking", "pacing", "constant", "constant_skip")


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
    ) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip)
        if zeta_slots <= 0:
            raise ValueError(f"zeta_slots: expected > 0, got {zeta_slots}")
        h_nom = _as_batch(h_nominal, self.p_ref.size)
        if np.any(h_nom <= 0):
            raise ValueError(f"h_nominal: expected > 0, got {h_nom}")
        n0w = radio.noise_psd_w_per_hz * self.w
        self.level0 = self.p_ref + n0w / h_nom  # water level at Z = 0: returns p_ref at h_nom
        self.zeta = zeta_slots * self.p_ref * radio.slot_s
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
        self.z = np.maximum(0.0, self.z + (radiated - self.p_ref) * self.radio.slot_s)


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
    """Baselines and the no-inner-loop ablation: p_t = p_ref in every slot, channel-blind.
    With ``decode_skip`` (the hindsight oracle, law ``constant_skip``) undecodable slots are
    left silent."""

    def __init__(self, p_ref, bandwidth_hz, radio: RadioParams, decode_skip: bool = False) -> None:
        super().__init__(p_ref, bandwidth_hz, radio, decode_skip=decode_skip)

    def power(self, h_t) -> np.ndarray:
        h = np.maximum(_as_batch(h_t, self.p_ref.size), 1e-300)
        return self._finish(self.p_ref.copy(), h)


def make_power_controller(  # noqa: PLR0917 (called positionally by core.link)
    law: str,
    p_ref,
    h_nominal,
    bandwidth_hz,
    window_slots,
    radio: RadioParams,
    *,
    zeta_slots: float = 4.0,
):
    """The controller for a decision's ``power_law`` (one of ``LAWS``)."""
    if law == "tracking":
        return PowerController(p_ref, h_nominal, bandwidth_hz, radio, zeta_slots=zeta_slots)
    if law == "pacing":
        return BudgetPacingController(p_ref, h_nominal, bandwidth_hz, window_slots, radio)
    if law in ("constant", "constant_skip"):
        return ConstantPowerController(p_ref, bandwidth_hz, radio, law == "constant_skip")
    raise ValueError(f"power_law: expected one of {LAWS}, got {law!r}")
