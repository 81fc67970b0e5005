"""Virtual energy queues Q_n of the outer drift-plus-penalty loop.

``Q_{m+1} = max(0, Q_m + E_m - E_bar)``: the backlog of energy spent above the long-term budget.
Keeping every Q_n stable forces the time-average energy below E_bar_n (Lyapunov optimization),
whatever the channel does. The scheduler node owns one instance and feeds it the robots'
EnergyReports; the simulator does the same with simulated reports.
"""

from __future__ import annotations

import numpy as np


class VirtualQueues:
    """Per-robot virtual queues, with running totals for the time-average energy."""

    def __init__(self, budgets_j: np.ndarray, initial: np.ndarray | float = 0.0) -> None:
        budgets = np.asarray(budgets_j, dtype=float).copy()
        if budgets.ndim != 1 or np.any(~np.isfinite(budgets)) or np.any(budgets <= 0):
            raise ValueError(f"budgets_j: expected a 1-D array of finite values > 0, got {budgets}")
        self.budgets = budgets
        self.q = np.broadcast_to(np.asarray(initial, float), budgets.shape).copy()
        if np.any(self.q < 0):
            raise ValueError(f"initial: expected >= 0, got {initial}")
        self.energy_sum = np.zeros_like(budgets)
        self.frames = 0

    def update(self, energy_reports: np.ndarray) -> np.ndarray:
        """Apply one frame's actual energies (J per robot); NaN = no report (the robot is charged
        its budget, i.e. the queue holds). Returns the new queues."""
        e = np.asarray(energy_reports, dtype=float)
        if e.shape != self.budgets.shape:
            raise ValueError(f"energy_reports: expected shape {self.budgets.shape}, got {e.shape}")
        if np.any(e[np.isfinite(e)] < 0):
            raise ValueError("energy_reports: expected energies >= 0")
        e = np.where(np.isfinite(e), e, self.budgets)
        self.q = np.maximum(0.0, self.q + e - self.budgets)
        self.energy_sum += e
        self.frames += 1
        return self.q

    @property
    def average_energy(self) -> np.ndarray:
        """Time-average energy per robot so far (J per frame)."""
        return self.energy_sum / max(self.frames, 1)
