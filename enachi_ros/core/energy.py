"""Device energy and compute-time model (ENACHI.md section 7b).

Two ways to get the head's time and energy on the robot, both per split point (arrays over S):
- measured (default): latency measured on the build machine x ``device_slowdown`` (the robot's
  cores or accelerator), energy = ``device_active_power_w`` x that time: the network runs on
  the whole board;
- CMOS: ``E = kappa f^2 C`` and ``T = C / f`` with ``C = cycles_per_flop x flops``.
A single-threaded image codec runs on one CPU core: latency x ``cpu_slowdown``, charged at
``cpu_core_power_w`` (``codec_time_s``, ``codec_energy_j``). Every figure is above the robot's
idle power, which it draws whatever the scheduler decides (``base_energy_j``). The radio's draw
is ``core.radio_power``'s.
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


def codec_time_s(encode_latency_s: np.ndarray, device: DeviceParams) -> np.ndarray:
    """Encode time of a single-threaded codec on one of the robot's cores."""
    return np.asarray(encode_latency_s, dtype=float) * device.cpu_slowdown


def codec_energy_j(encode_latency_s: np.ndarray, device: DeviceParams) -> np.ndarray:
    """Encode energy: one core's active power x the robot's encode time."""
    return device.cpu_core_power_w * codec_time_s(encode_latency_s, device)


def base_power_w(device: DeviceParams, radio_sleep_w: float) -> float:
    """What a robot draws whatever the scheduler decides: its idle board and dozing radio."""
    return float(device.idle_power_w + radio_sleep_w)
