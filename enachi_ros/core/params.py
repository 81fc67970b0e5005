"""Physical parameters of the radio and of the robots, as plain frozen dataclasses.

Why a module of its own: the same numbers are read by the outer solver (planning), the inner
power law and the progressive sender (per slot), the simulator and the ROS nodes, so they are
defined once, validated once (``ValueError`` naming the field), and carry their units in the
field names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BOLTZMANN_DBM_PER_HZ = -174.0  # thermal noise density at 290 K


def _require(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


def db_to_linear(db: float) -> float:
    return 10.0 ** (db / 10.0)


@dataclass(frozen=True)
class RadioParams:
    """Uplink shared by all robots (OFDMA shares of ``bandwidth_hz``) and its slot structure.

    ``noise_psd_w_per_hz`` is N0 (noise power N0 * w in a share w). ``decode_snr_db`` is the SNR
    below which every packet sent in a slot is lost; ``residual_loss`` an extra independent
    per-packet loss probability. ``feedback_s`` is the edge -> robot result/feedback latency
    T_fb that the transmission window leaves free. ``granularity_hz``: the smallest share the
    uplink can grant (a Wi-Fi 6 26-tone resource unit, a 5G NR physical resource block);
    shares are rounded to whole units, 0 = continuous.
    """

    bandwidth_hz: float = 500e3
    noise_psd_w_per_hz: float = 10 ** ((BOLTZMANN_DBM_PER_HZ + 10.0 - 30.0) / 10.0)
    slot_s: float = 1e-3
    p_max_w: float = 0.2
    decode_snr_db: float = 3.0
    residual_loss: float = 0.0
    feedback_s: float = 1e-3
    granularity_hz: float = 0.0  # shares come in whole units of this (RU, PRB); 0: continuous

    def __post_init__(self) -> None:
        _require(self.bandwidth_hz > 0, "bandwidth_hz", "> 0", self.bandwidth_hz)
        _require(
            self.noise_psd_w_per_hz > 0, "noise_psd_w_per_hz", "> 0", self.noise_psd_w_per_hz
        )
        _require(self.slot_s > 0, "slot_s", "> 0", self.slot_s)
        _require(self.p_max_w > 0, "p_max_w", "> 0", self.p_max_w)
        _require(0 <= self.residual_loss < 1, "residual_loss", "in [0, 1)", self.residual_loss)
        _require(self.feedback_s >= 0, "feedback_s", ">= 0", self.feedback_s)
        _require(math.isfinite(self.granularity_hz) and self.granularity_hz >= 0,
                 "granularity_hz", "a finite value >= 0", self.granularity_hz)
        _require(
            math.isfinite(self.decode_snr_db), "decode_snr_db", "finite dB", self.decode_snr_db
        )

    @property
    def decode_snr(self) -> float:
        """Decoding threshold as a linear SNR."""
        return db_to_linear(self.decode_snr_db)


@dataclass(frozen=True)
class DeviceParams:
    """How measured latencies become robot/edge times and device energy.

    The profile's latencies are measured on the build machine; a robot-class CPU is
    ``device_slowdown`` times slower and draws ``device_active_power_w`` while computing. The edge
    is ``edge_speedup`` times faster than the build machine.
    """

    device_slowdown: float = 10.0
    device_active_power_w: float = 3.0
    edge_speedup: float = 1.0

    def __post_init__(self) -> None:
        _require(self.device_slowdown > 0, "device_slowdown", "> 0", self.device_slowdown)
        _require(
            self.device_active_power_w >= 0,
            "device_active_power_w",
            ">= 0",
            self.device_active_power_w,
        )
        _require(self.edge_speedup > 0, "edge_speedup", "> 0", self.edge_speedup)


@dataclass(frozen=True)
class ChannelParams:
    """Large-scale path loss and small-scale Rayleigh fading correlated across slots.

    Path loss ``PL(d) = pl_ref_db + 10 * exponent * log10(d / 1 m)``. The slot-to-slot
    correlation of the complex fading coefficient is Jakes' ``rho = J0(2 pi f_D tau)`` with
    Doppler ``f_D = speed / wavelength``, unless ``rho`` is given explicitly.
    """

    pl_ref_db: float = 47.7  # free space at 1 m, 5.8 GHz
    pl_exponent: float = 3.5
    carrier_hz: float = 5.8e9
    speed_mps: float = 2.0
    rho: float | None = None

    def __post_init__(self) -> None:
        _require(self.pl_exponent > 0, "pl_exponent", "> 0", self.pl_exponent)
        _require(self.carrier_hz > 0, "carrier_hz", "> 0", self.carrier_hz)
        _require(self.speed_mps >= 0, "speed_mps", ">= 0", self.speed_mps)
        if self.rho is not None:
            _require(0 <= self.rho <= 1, "rho", "in [0, 1]", self.rho)
