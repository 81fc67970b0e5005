"""ENACHI (outer drift-plus-penalty plan over split, bandwidth share and reference power; the
inner power law and the entropy stop run on the robots) and its task-level variant ``task_dpp``."""

from __future__ import annotations

import numpy as np

from enachi_ros.core.policies.interface import (
    Decisions,
    FrameState,
    Policy,
    make_decisions,
)
from enachi_ros.core.solver import solve_outer
from enachi_ros.core.split_table import SplitTable


class Enachi(Policy):
    """ENACHI: the outer DPP solver each frame, the inner tracking power law each slot,
    importance-ordered progressive transmission with the entropy stop.

    Ablation switches: ``inner`` ('tracking' | 'pacing' | 'constant'), ``decode_skip``,
    ``early_stop``, ``importance``, ``energy_plan`` ('plain' | 'stop_aware'), ``theta`` (None =
    calibrated). ``codecs``: the codec options (the frame as JPEG or WebP at each calibrated
    quality, all or nothing) are options of the plan beside the cuts of the network
    (``enachi_codec``); without, ENACHI chooses among the cuts only, as the paper's method.
    """

    uses_queues = True

    def __init__(
        self,
        v: float = 1.0,
        *,
        inner: str = "tracking",
        decode_skip: bool = True,
        early_stop: bool = True,
        importance: bool = True,
        energy_plan: str = "plain",
        theta: float | None = None,
        codecs: bool = False,
        name: str = "enachi",
    ) -> None:
        if not v > 0:
            raise ValueError(f"v: expected > 0, got {v}")
        if inner not in ("tracking", "pacing", "constant"):
            raise ValueError(f"inner: expected 'tracking', 'pacing' or 'constant', got {inner!r}")
        if energy_plan not in ("plain", "stop_aware"):
            raise ValueError(f"energy_plan: expected 'plain' or 'stop_aware', got {energy_plan!r}")
        self.v, self.inner, self.early_stop, self.decode_skip = v, inner, early_stop, decode_skip
        self.importance, self.energy_plan, self.theta, self.name = (
            importance, energy_plan, theta, name)
        self.codecs = codecs

    def _phi(self, st: SplitTable) -> np.ndarray | None:
        if self.energy_plan == "stop_aware" and self.early_stop:
            return st.stop_fraction(self.theta)
        return None

    def decide(self, state: FrameState) -> Decisions:
        phi = self._phi(state.splits)
        st = state.splits
        sol = solve_outer(state.gains, state.queues, self.v, state.bandwidth_hz, st,
                          radio=state.radio, deadline_s=state.deadline_s, phi=phi,
                          allowed=np.ones(st.n_splits, bool) if self.codecs else st.network,
                          energy_scale_j=state.energy_scale_j, delivery=state.delivery_rate)
        return make_decisions(self.name, state, sol.split, sol.bandwidth_hz, sol.p_ref,
                          power_law=self.inner, progressive=self.early_stop, partial_ok=True,
                          importance=self.importance, decode_skip=self.decode_skip,
                          theta=self.theta, phi=phi, price=sol.price, run=sol.run)


class TaskDpp(Enachi):
    """Task-level DPP: ENACHI's outer loop, constant power p_ref for the whole window (with the
    same outage skipping as ENACHI), no early stop (the granularity-mismatch baseline). The tail
    still answers at the window end."""

    def __init__(self, v: float = 1.0) -> None:
        super().__init__(v=v, inner="constant", early_stop=False, name="task_dpp")
