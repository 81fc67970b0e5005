"""Uplink channel: path loss, correlated Rayleigh fading, SNR-trace replay, the scheduler's
estimate (rates and outages from the SNR: ``core.rates``).

Power gain ``h_{n,t} = G_n * g_{n,t}``: ``G_n`` from distance (log-distance path loss), ``g`` the
squared magnitude of a unit-power complex Gauss-Markov process ``x_{t+1} = rho x_t +
sqrt(1 - rho^2) e_t`` (first-order approximation of Jakes' correlation), so slots close in time
fade together. Every generator advances all robots at once (arrays ``[N, slots]``); the process
state carries across frames, so a frame-level estimate taken at the end of one frame is
informative, but not perfect, for the next.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import j0

from enachi_ros.core.params import ChannelParams

SPEED_OF_LIGHT = 299_792_458.0


def path_gain(distance_m: np.ndarray | float, params: ChannelParams) -> np.ndarray:
    """Large-scale power gain G (linear, < 1) at ``distance_m`` (clipped below at 1 m)."""
    d = np.asarray(distance_m, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"distance_m: expected finite values > 0, got {d}")
    loss_db = params.pl_ref_db + 10.0 * params.pl_exponent * np.log10(np.maximum(d, 1.0))
    return 10.0 ** (-loss_db / 10.0)


def slot_correlation(params: ChannelParams, slot_s: float) -> float:
    """Slot-to-slot correlation rho of the fading coefficient (Jakes: J0(2 pi f_D tau))."""
    if params.rho is not None:
        return float(params.rho)
    doppler_hz = params.speed_mps * params.carrier_hz / SPEED_OF_LIGHT
    return float(np.clip(j0(2.0 * np.pi * doppler_hz * slot_s), 0.0, 1.0))


class RayleighChannel:
    """Per-slot power gains of N robots: path loss x Gauss-Markov Rayleigh fading.

    ``slots(n)`` returns the next ``n`` slots ``[N, n]`` and advances the state, so consecutive
    calls form one continuous, correlated trace. Deterministic for a given ``rng``.
    """

    def __init__(
        self,
        distances_m: np.ndarray,
        params: ChannelParams,
        slot_s: float,
        rng: np.random.Generator,
    ) -> None:
        self.large_scale = path_gain(distances_m, params)
        self.rho = slot_correlation(params, slot_s)
        self._rng = rng
        n = self.large_scale.size
        self._x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2.0)

    def slots(self, n_slots: int) -> np.ndarray:
        if n_slots < 1:
            raise ValueError(f"n_slots: expected >= 1, got {n_slots}")
        n = self.large_scale.size
        noise = (
            self._rng.standard_normal((n, n_slots)) + 1j * self._rng.standard_normal((n, n_slots))
        ) / np.sqrt(2.0)
        innovation = np.sqrt(max(0.0, 1.0 - self.rho**2)) * noise
        out = np.empty((n, n_slots), dtype=complex)
        x = self._x
        for t in range(n_slots):  # a short recursion over slots, vectorized over robots
            x = self.rho * x + innovation[:, t]
            out[:, t] = x
        self._x = x
        return self.large_scale[:, None] * np.abs(out) ** 2


class TraceChannel:
    """Replays recorded per-slot SNR traces (dB, measured at a reference power and bandwidth).

    ``gain = 10^(snr_db/10) * N0 * ref_bandwidth_hz / ref_power_w``. Robot ``n`` plays trace
    ``n % n_traces`` starting at offset ``n * offset_slots``; traces wrap around.
    """

    def __init__(
        self,
        snr_db: np.ndarray,
        n_robots: int,
        *,
        noise_psd: float,
        ref_power_w: float,
        ref_bandwidth_hz: float,
        offset_slots: int = 997,
    ) -> None:
        traces = np.atleast_2d(np.asarray(snr_db, dtype=float))
        if traces.size == 0 or not np.all(np.isfinite(traces)):
            raise ValueError("snr_db: expected a non-empty finite array [traces, slots]")
        if n_robots < 1:
            raise ValueError(f"n_robots: expected >= 1, got {n_robots}")
        self._gain = 10.0 ** (traces / 10.0) * noise_psd * ref_bandwidth_hz / ref_power_w
        self._rows = np.arange(n_robots) % traces.shape[0]
        self._pos = (np.arange(n_robots) * offset_slots) % traces.shape[1]

    def slots(self, n_slots: int) -> np.ndarray:
        length = self._gain.shape[1]
        cols = (self._pos[:, None] + np.arange(n_slots)[None, :]) % length
        self._pos = (self._pos + n_slots) % length
        return self._gain[self._rows[:, None], cols]


class ChannelEstimator:
    """The scheduler's frame-level channel estimate from the robots' per-frame reports.

    The outer loop plans against the fading *distribution* (ergodic rate, ergodic water level),
    so it needs the local mean gain, not the fade the last frame happened to see: an exponential
    moving average in the log domain of the reported mean gains (``smoothing`` = weight of the
    newest report; 1 = no smoothing). Missing reports (NaN) keep the previous estimate."""

    def __init__(self, initial: np.ndarray, smoothing: float = 0.2) -> None:
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing: expected in (0, 1], got {smoothing}")
        init = np.asarray(initial, dtype=float)
        if np.any(~np.isfinite(init)) or np.any(init <= 0):
            raise ValueError(f"initial: expected finite gains > 0, got {init}")
        self.smoothing = smoothing
        self._log = np.log(init)

    def update(self, reported_gains: np.ndarray) -> np.ndarray:
        g = np.asarray(reported_gains, dtype=float)
        ok = np.isfinite(g) & (g > 0)
        new = np.log(np.where(ok, g, 1.0))
        self._log = np.where(ok, self._log + self.smoothing * (new - self._log), self._log)
        return self.estimate

    @property
    def estimate(self) -> np.ndarray:
        return np.exp(self._log)


def load_snr_traces(path: str | Path) -> np.ndarray:
    """SNR traces in dB as ``[traces, slots]`` from ``.npy``, ``.npz`` (key ``snr_db``) or CSV."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.atleast_2d(np.load(path))
    if path.suffix == ".npz":
        with np.load(path) as data:
            if "snr_db" not in data:
                raise ValueError(f"{path}: expected an array named 'snr_db'")
            return np.atleast_2d(data["snr_db"])
    return np.atleast_2d(np.loadtxt(path, delimiter=",", ndmin=2))
