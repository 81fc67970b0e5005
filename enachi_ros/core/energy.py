"""Device energy and compute-time model.

Two ways to get the head's time and energy on the robot, both per split point (arrays over S):
- measured (default): latency measured on the build machine x ``device_slowdown`` (a robot-class
  CPU), energy = ``device_active_power_w`` x that time;
- CMOS: ``E = kappa f^2 C`` and ``T = C / f`` with ``C = cycles_per_flop x flops``.
Transmit energy is the sum over used slots of ``p_t tau`` (times the used fraction of a slot:
a radio that finishes its last packet early switches off).
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.params import DeviceParams


def head_time_s(head_latency_s: np.ndarray, device: DeviceParams) -> np.ndarray:
    """Head (or full-model) compute time on the robot."""
    return np.asarray(head_latency_s, dtype=float) * device.device_slowdown


def tail_time_s(tail_latency_s: np.ndarray, device: DeviceParams) -> np.ndarray:
    """Tail compute time on the edge."""
    return np.asarray(tail_latency_s, dtype=float) / device.edge_speedup


def compute_energy_j(head_latency_s: np.ndarray, device: DeviceParams) -> np.ndarray:
    """Device compute energy E_cmp(s) = active power x robot head time."""
    return device.device_active_power_w * head_time_s(head_latency_s, device)


def cmos_compute(
    flops: np.ndarray, kappa: float, freq_hz: float, cycles_per_flop: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """CMOS model: returns (time_s, energy_j) = (C / f, kappa f^2 C) with C = cycles."""
    if kappa <= 0 or freq_hz <= 0 or cycles_per_flop <= 0:
        raise ValueError(
            f"kappa, freq_hz, cycles_per_flop: expected > 0, got {kappa}, {freq_hz}, "
            f"{cycles_per_flop}"
        )
    cycles = np.asarray(flops, dtype=float) * cycles_per_flop
    return cycles / freq_hz, kappa * freq_hz**2 * cycles


def transmit_energy_j(power_w, used_fraction, slot_s: float) -> np.ndarray:
    """Energy of one slot: p_t x tau x the fraction of the slot the radio was on."""
    return np.asarray(power_w, dtype=float) * np.asarray(used_fraction, dtype=float) * slot_s
