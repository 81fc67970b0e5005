"""Physical parameters shared by the scheduler (planning) and the robots (emulated radio).

Declared on every node that needs them from the same specs, given to every node from the same
file (the workload's ``config/physical*.yaml``, a plain mapping that the launch files pass as
inline parameters: ``ros/launch_args.physical_params``), and turned into the core's validated
dataclasses, so the scheduler plans with exactly the radio the transmitters emulate.
"""

from __future__ import annotations

from typing import Any

from enachi_ros.core.params import RATE_MODELS, ChannelParams, DeviceParams, RadioParams
from enachi_ros.core.radio_power import LISTEN_MODES, RadioPower
from enachi_ros.ros.params import Param

_R, _D, _P = RadioParams(), DeviceParams(), RadioPower()

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
        "SNR below which a slot's packets are lost (dB); the shannon rate model's only (an MCS "
        "table has its own)",
        low=-30.0,
        high=60.0,
    ),
    Param("rate_model", _R.rate_model, "how a share's SNR becomes a rate (core/rates.py)",
          choices=RATE_MODELS),
    Param("mac_efficiency", _R.mac_efficiency, "share of a slot's airtime that carries data",
          low=1e-3, high=1.0),
    Param("spatial_streams", _R.spatial_streams, "uplink spatial streams", low=1, high=8),
    Param("tx_circuit_w", _P.tx_circuit_w, "radio draw while transmitting, without the PA (W)",
          low=0.0, high=100.0),
    Param("pa_efficiency", _P.pa_efficiency, "power amplifier efficiency (radiated / drawn)",
          low=1e-3, high=1.0),
    Param("listen_w", _P.listen_w, "radio draw while awake without transmitting (W)", low=0.0,
          high=100.0),
    Param("sleep_w", _P.sleep_w, "radio draw while dozing (W)", low=0.0, high=100.0),
    Param("listen_mode", _P.listen_mode, "when the radio is awake waiting for the edge",
          choices=LISTEN_MODES),
    Param("twt_wake_s", _P.twt_wake_s, "awake time per window slot without a transmission, and "
          "for the result (twt) (s)", low=0.0, high=1.0),
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
    Param("cpu_slowdown", _D.cpu_slowdown, "one robot core's time / one core's here (codecs)",
          low=1e-3, high=1e4),
    Param("cpu_core_power_w", _D.cpu_core_power_w, "one robot core's power while it computes, "
          "above idle (W)", low=0.0, high=1e3),
    Param("idle_power_w", _D.idle_power_w, "the robot's idle power, its base (W)", low=0.0,
          high=1e4),
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


_POWER_FIELDS = ("tx_circuit_w", "pa_efficiency", "listen_w", "sleep_w", "listen_mode",
                 "twt_wake_s")


def radio_from(values: dict[str, Any], bandwidth_hz: float) -> RadioParams:
    power = RadioPower(**{k: values[k] for k in _POWER_FIELDS})
    return RadioParams(bandwidth_hz=bandwidth_hz, power=power,
                       **{p.name: values[p.name] for p in RADIO_PARAMS
                          if p.name not in _POWER_FIELDS})


def device_from(values: dict[str, Any]) -> DeviceParams:
    return DeviceParams(**{p.name: values[p.name] for p in DEVICE_PARAMS})


def channel_from(values: dict[str, Any]) -> ChannelParams:
    return ChannelParams(**{p.name: values[p.name] for p in CHANNEL_PARAMS})
