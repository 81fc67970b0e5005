"""Paired comparisons over seeds: mean difference, 95% confidence interval, win / tie / loss.

Every policy runs on the same channels, samples and losses for a seed (common random numbers),
so the per-seed difference between two policies is the paired sample; its Student-t interval is
far tighter than comparing two independent means. A difference whose interval contains 0 is a
tie (ENACHI.md section 7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Paired:
    """Mean of the per-seed differences ``a - b`` and the half-width of its interval."""

    mean: float
    half_width: float
    n: int

    @property
    def verdict(self) -> str:
        """'win' (interval above 0), 'loss' (below) or 'tie' (contains 0, or too few seeds)."""
        if self.n < 2 or not np.isfinite(self.half_width):
            return "tie"
        if self.mean - self.half_width > 0:
            return "win"
        if self.mean + self.half_width < 0:
            return "loss"
        return "tie"

    def text(self, scale: float = 1.0, digits: int = 3) -> str:
        """``+0.123 ± 0.010`` (values times ``scale``)."""
        return f"{scale * self.mean:+.{digits}f} ± {scale * self.half_width:.{digits}f}"

    def as_dict(self) -> dict:
        return {"mean": self.mean, "half_width": self.half_width, "n": self.n,
                "verdict": self.verdict}


def paired(a, b) -> Paired:
    """Paired difference ``a - b`` over seeds (entries where either is not finite are left
    out); the interval is Student-t at ``LEVEL``."""
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return Paired(float("nan"), float("nan"), 0)
    if d.size == 1:
        return Paired(float(d[0]), float("inf"), 1)
    sem = float(np.std(d, ddof=1)) / np.sqrt(d.size)
    return Paired(float(d.mean()), float(stats.t.ppf(0.5 + LEVEL / 2, d.size - 1) * sem),
                  int(d.size))


def mean_ci(values) -> Paired:
    """Mean and interval half-width of one series (a difference against 0)."""
    return paired(values, np.zeros(np.shape(values)))


def proportion_ci(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion (the model's test accuracy on n frames)."""
    if trials <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(centre - half), float(centre + half)
