"""Physical parameters shared by the scheduler (planning) and the robots (emulated radio).

Declared on every node that needs them from the same specs, given to every node from the same
file (the workload's ``config/physical*.yaml``, a plain mapping that the launch files pass as
inline parameters: ``ros/launch_args.physical_params``), and turned into the core's validated
dataclasses, so the scheduler plans with exactly the radio the transmitters emulate.
"""

from __future__ import annotations

from typing import Any

from enachi_ros.core.params import ChannelParams, DeviceParams, RadioParams
from enachi_ros.ros.params import Param

_R, _D = RadioParams(), DeviceParams()

RADIO_PARAMS = (
    Param("slot_s", _R.slot_s, "radio slot length tau (s)", low=1e-5, high=0.1),
    Param("p_max_w", _R.p_max_w, "maximum transmit power (W)", low=1e-6, high=10.0),
    Param(
        "noise_psd_w_per_hz",
        _R.noise_psd_w_per_hz,
        "noise power spectral density N0 (W/Hz)",
        low=1e-30,
        high=1e-10,
    ),
    Param(
        "decode_snr_db",
        _R.decode_snr_db,
        "SNR below which a slot's packets are lost (dB)",
        low=-30.0,
        high=60.0,
    ),
    Param(
        "residual_loss",
        _R.residual_loss,
        "extra i.i.d. packet loss probability",
        low=0.0,
        high=0.99,
    ),
    Param(
        "feedback_s",
        _R.feedback_s,
        "edge -> robot feedback/result latency T_fb (s)",
        low=0.0,
        high=1.0,
    ),
    Param(
        "granularity_hz",
        _R.granularity_hz,
        "smallest uplink share (Wi-Fi RU, 5G PRB) in Hz; 0: continuous",
        low=0.0,
        high=1e10,
    ),
)
DEVICE_PARAMS = (
    Param(
        "device_slowdown",
        _D.device_slowdown,
        "robot CPU time / this machine's time",
        low=1e-3,
        high=1e4,
    ),
    Param(
        "device_active_power_w",
        _D.device_active_power_w,
        "robot power while computing (W)",
        low=0.0,
        high=1e3,
    ),
    Param("edge_speedup", _D.edge_speedup, "edge speed / this machine's speed", low=1e-3, high=1e4),
)
CHANNEL_PARAMS = (
    Param("pl_ref_db", ChannelParams().pl_ref_db, "path loss at 1 m (dB)", low=0.0, high=200.0),
    Param("pl_exponent", ChannelParams().pl_exponent, "path-loss exponent", low=0.5, high=8.0),
    Param("carrier_hz", ChannelParams().carrier_hz, "carrier frequency (Hz)", low=1e6, high=1e12),
    Param(
        "speed_mps",
        ChannelParams().speed_mps,
        "robot speed for the Doppler of the fading",
        low=0.0,
        high=100.0,
    ),
)


def radio_from(values: dict[str, Any], bandwidth_hz: float) -> RadioParams:
    return RadioParams(bandwidth_hz=bandwidth_hz, **{p.name: values[p.name] for p in RADIO_PARAMS})


def device_from(values: dict[str, Any]) -> DeviceParams:
    return DeviceParams(**{p.name: values[p.name] for p in DEVICE_PARAMS})


def channel_from(values: dict[str, Any]) -> ChannelParams:
    return ChannelParams(**{p.name: values[p.name] for p in CHANNEL_PARAMS})
