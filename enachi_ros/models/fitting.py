"""Fits on calibration outcomes: the accuracy surrogate and the entropy stop threshold."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import curve_fit


def surrogate(beta: np.ndarray, a0: float, a1: float, a2: float) -> np.ndarray:
    """A_hat(beta) = -1 / (a0 * beta - a1) + a2 (ENACHI section 3)."""
    return -1.0 / (a0 * np.asarray(beta, dtype=np.float64) - a1) + a2


def fit_surrogate(fraction: np.ndarray, accuracy: np.ndarray) -> dict:
    """Least-squares fit of ``surrogate`` with a0 > 0 and a1 < 0 (pole outside [0, 1]).

    With one point the curve is a constant (a0 = 0); with two it passes through both exactly
    (a0 = 1); with three or more ``scipy.optimize.curve_fit`` is used.
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
        guess = (5.0, -0.5, float(acc.max()) + 0.2)
        try:
            popt, _ = curve_fit(
                surrogate, beta, acc, p0=guess, maxfev=20000,
                bounds=([1e-6, -1e3, -1e3], [1e4, -1e-6, 1e3]),
            )
            params, method = tuple(float(v) for v in popt), "curve_fit"
        except RuntimeError:
            params, method = guess, "curve_fit_failed_initial_guess"
    rmse = float(np.sqrt(np.mean((surrogate(beta, *params) - acc) ** 2)))
    a0, a1, a2 = params
    return {"a0": a0, "a1": a1, "a2": a2, "rmse": rmse, "fit_on": "calibration", "method": method}


def early_stop(entropy: np.ndarray, theta: float) -> np.ndarray:
    """Packets used per sample: first k >= 1 with entropy <= theta, else K (columns 0..K)."""
    k_max = entropy.shape[1] - 1
    if k_max == 0:
        return np.zeros(entropy.shape[0], dtype=np.int64)
    below = entropy[:, 1:] <= theta
    return np.where(below.any(axis=1), below.argmax(axis=1) + 1, k_max)


def entropy_thresholds(
    entropy: np.ndarray, correct: np.ndarray, thetas: np.ndarray, tolerance: float = 0.01
) -> dict:
    """Accuracy and mean packets of the early-stop rule for each theta; choose the loosest
    (largest) theta whose accuracy is within ``tolerance`` of full-feature accuracy."""
    rows = np.arange(entropy.shape[0])
    full = float(correct[:, -1].mean())
    acc, used = [], []
    for theta in thetas:
        k = early_stop(entropy, float(theta))
        acc.append(float(correct[rows, k].mean()))
        used.append(float(k.mean()))
    ok = [float(t) for t, a in zip(thetas, acc, strict=True) if a >= full - tolerance]
    return {
        "theta": [float(t) for t in thetas], "accuracy": acc, "mean_packets": used,
        "chosen": max(ok), "full_accuracy": full, "tolerance": tolerance, "fit_on": "calibration",
    }
