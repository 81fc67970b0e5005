"""The entropy stop threshold fitted on calibration outcomes (the accuracy surrogate and its fit
are ``core.surrogate``'s)."""

from __future__ import annotations

import numpy as np


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
