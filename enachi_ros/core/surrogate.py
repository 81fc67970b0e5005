"""Surrogate accuracy A_hat(s, beta) = -1 / (a0 beta - a1) + a2 and the deliverable fraction beta.

The scheduler needs accuracy as a smooth, concave function of the fraction beta of the feature
map that can be delivered in the window; the paper's form is fitted per split on calibration
data. It is only the scheduler's belief: the simulator never uses it to decide an outcome.
Concave and increasing on [0, 1] iff a0 > 0 and a1 < 0 (the denominator stays positive).

The one definition of the curve (:func:`surrogate_accuracy`), of a fitted surrogate
(:class:`Surrogate`, what ``profile.json`` stores per split) and of its fit
(:func:`fit_surrogate`, used by ``enachi calibrate`` and by the split table's refit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def surrogate_accuracy(beta, a0, a1, a2) -> np.ndarray:
    """A_hat(beta) for beta clipped to [0, 1]; broadcasts over robots and splits."""
    b = np.clip(np.asarray(beta, dtype=float), 0.0, 1.0)
    return a2 - 1.0 / (np.asarray(a0) * b - np.asarray(a1))


def check_surrogate(a0: np.ndarray, a1: np.ndarray, names: list[str]) -> None:
    """ValueError naming the split when the fit is not increasing-concave on [0, 1]."""
    for name, x0, x1 in zip(names, np.atleast_1d(a0), np.atleast_1d(a1), strict=True):
        if not (x0 > 0 and x1 < 0):
            raise ValueError(
                f"surrogate of split {name!r}: expected a0 > 0 and a1 < 0 (increasing, concave "
                f"on [0, 1]), got a0={x0}, a1={x1}"
            )


@dataclass(frozen=True)
class Surrogate:
    """A fitted surrogate: coefficients, fit residual, what it was fitted on and how."""

    a0: float
    a1: float
    a2: float
    rmse: float
    fit_on: str = "calibration"
    method: str = ""  # constant | two_point_exact | curve_fit | curve_fit_failed_initial_guess

    def __call__(self, beta) -> np.ndarray:
        return surrogate_accuracy(beta, self.a0, self.a1, self.a2)

    @property
    def coeffs(self) -> tuple[float, float, float]:
        return self.a0, self.a1, self.a2

    def to_json(self) -> dict:
        """The ``surrogate`` entry of a split in ``profile.json``."""
        return {"a0": self.a0, "a1": self.a1, "a2": self.a2, "rmse": self.rmse,
                "fit_on": self.fit_on, "method": self.method}


def fit_surrogate(fraction: np.ndarray, accuracy: np.ndarray,
                  fit_on: str = "calibration") -> Surrogate:
    """Least-squares fit of the surrogate with a0 > 0 and a1 < 0 (pole outside [0, 1]).

    With one point (or two equal ones) the curve is a constant (a0 = 0, not increasing); with
    two it passes through both exactly (a0 = 1); with three or more ``scipy.optimize.curve_fit``
    is used, bounded to a0 in [1e-6, 1e4] and a1 in [-1e3, -1e-6].
    """
    beta = np.asarray(fraction, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    if beta.shape != acc.shape or beta.size == 0:
        raise ValueError(
            f"fraction and accuracy must be equal-length, got {beta.shape}, {acc.shape}"
        )
    lo, hi = float(acc[np.argmin(beta)]), float(acc[np.argmax(beta)])
    if beta.size == 1 or (beta.size == 2 and hi - lo < 1e-6):
        params, method = (0.0, -1.0, float(acc.mean()) + 1.0), "constant"
    elif beta.size == 2:
        d = hi - lo
        u = (-1.0 + math.sqrt(1.0 + 4.0 / d)) / 2.0  # a1 = -u solves A(1) - A(0) = d
        params, method = (1.0, -u, lo + 1.0 / u), "two_point_exact"
    else:
        from scipy.optimize import curve_fit

        guess = (5.0, -0.5, float(acc.max()) + 0.2)
        try:
            popt, _ = curve_fit(
                surrogate_accuracy, beta, acc, p0=guess, maxfev=20000,
                bounds=([1e-6, -1e3, -1e3], [1e4, -1e-6, 1e3]),
            )
            params, method = tuple(float(v) for v in popt), "curve_fit"
        except RuntimeError:
            params, method = guess, "curve_fit_failed_initial_guess"
    rmse = float(np.sqrt(np.mean((surrogate_accuracy(beta, *params) - acc) ** 2)))
    return Surrogate(*params, rmse=rmse, fit_on=fit_on, method=method)


def deliverable_fraction(bandwidth_hz, window_s, gain, power_w, *, noise_psd, bits) -> np.ndarray:
    """beta = w T log2(1 + h p / (N0 w)) / bits, capped at 1 (0 where nothing is sent)."""
    from enachi_ros.core.channel import rate_bps

    bits = np.asarray(bits, dtype=float)
    delivered = rate_bps(bandwidth_hz, power_w, gain, noise_psd) * np.asarray(window_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bits > 0, np.minimum(1.0, delivered / np.where(bits > 0, bits, 1.0)), 1.0)
