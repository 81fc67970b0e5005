"""Surrogate accuracy A_hat(s, beta) = -1 / (a0 beta - a1) + a2 and the deliverable fraction beta.

The scheduler needs accuracy as a smooth, concave function of the fraction beta of the feature
map that can be delivered in the window; the paper's form is fitted per split on calibration
data. It is only the scheduler's belief: the simulator never uses it to decide an outcome.
Concave and increasing on [0, 1] iff a0 > 0 and a1 < 0 (the denominator stays positive).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit


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


def fit_surrogate(fraction: np.ndarray, accuracy: np.ndarray) -> tuple[float, float, float, float]:
    """Least-squares fit of (a0, a1, a2) to an accuracy-vs-fraction curve; returns + rmse.

    Parametrized as a0 = exp(u), a1 = -exp(v) so the fit is increasing-concave by construction.
    """
    x = np.asarray(fraction, dtype=float)
    y = np.asarray(accuracy, dtype=float)

    def model(b, u, v, a2):
        return a2 - 1.0 / (np.exp(u) * b + np.exp(v))

    span = max(float(y.max() - y.min()), 1e-3)
    p0 = (np.log(4.0 / span), np.log(1.0 / span), float(y.max()) + span / 4)
    try:
        (u, v, a2), _ = curve_fit(model, x, y, p0=p0, maxfev=20000)
    except RuntimeError:
        u, v, a2 = p0
    rmse = float(np.sqrt(np.mean((model(x, u, v, a2) - y) ** 2)))
    return float(np.exp(u)), float(-np.exp(v)), float(a2), rmse


def deliverable_fraction(bandwidth_hz, window_s, gain, power_w, *, noise_psd, bits) -> np.ndarray:
    """beta = w T log2(1 + h p / (N0 w)) / bits, capped at 1 (0 where nothing is sent)."""
    from enachi_ros.core.channel import rate_bps

    bits = np.asarray(bits, dtype=float)
    delivered = rate_bps(bandwidth_hz, power_w, gain, noise_psd) * np.asarray(window_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bits > 0, np.minimum(1.0, delivered / np.where(bits > 0, bits, 1.0)), 1.0)
