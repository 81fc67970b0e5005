"""Hard deadlines: transmission windows, feasible splits, and whether a task met its deadline.

A task released at frame start must have its result by ``T_d``. For a split that transmits, the
robot computes the head, then sends during the window ``T_tr(s) = T_d - T_head(s) - T_tail(s) -
T_fb``, rounded down to whole slots (the radio works in slots); the edge's last tail run and the
result message fit in what is left. ``device_only`` is feasible iff the whole model runs on the
robot within ``T_d``. Deadlines may differ per robot (arrays broadcast over ``[N, S]``).
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.split_table import SplitTable


def window_slots(deadline_s, splits: SplitTable, slot_s: float, feedback_s: float) -> np.ndarray:
    """Whole slots available for transmission, ``[N, S]`` (or ``[S]`` for a scalar deadline).

    0 for device_only and for splits whose head + tail + feedback already exceed the deadline.
    """
    d = np.asarray(deadline_s, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"deadline_s: expected finite values > 0, got {deadline_s}")
    window = d[..., None] - splits.head_s - splits.tail_s - feedback_s
    slots = np.floor(window / slot_s + 1e-9).astype(int)
    return np.where(splits.transmits, np.maximum(slots, 0), 0)


def feasible(deadline_s, splits: SplitTable, slot_s: float, feedback_s: float) -> np.ndarray:
    """Boolean ``[..., S]``: transmitting splits need >= 1 slot; device_only needs T_head <= T_d."""
    d = np.asarray(deadline_s, dtype=float)
    slots = window_slots(d, splits, slot_s, feedback_s)
    device_ok = splits.head_s <= d[..., None] + 1e-12
    return np.where(splits.transmits, slots >= 1, device_ok)


def deadline_met(
    feasible_split: np.ndarray,
    transmits: np.ndarray,
    partial_ok: np.ndarray,
    packets_received: np.ndarray,
    num_packets: np.ndarray,
) -> np.ndarray:
    """Per task: a result exists by T_d.

    A feasible device_only task always meets it. A transmitting task meets it when the edge can
    produce a result at the window end: always if the tail accepts partial features (mean fill,
    progressive family), otherwise only if every packet arrived.
    """
    complete = np.asarray(packets_received) >= np.asarray(num_packets)
    ok_tx = np.asarray(partial_ok) | complete
    return np.asarray(feasible_split) & np.where(transmits, ok_tx, True)
