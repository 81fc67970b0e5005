"""Physical parameters of the radio and of the robots, as plain frozen dataclasses.

Why a module of its own: the same numbers are read by the outer solver (planning), the inner
power law and the progressive sender (per slot), the simulator and the ROS nodes, so they are
defined once, validated once (``ValueError`` naming the field), and carry their units in the
field names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from enachi_ros.core.radio_power import RadioPower

BOLTZMANN_DBM_PER_HZ = -174.0  # thermal noise density at 290 K
RATE_MODELS = ("shannon", "wifi6", "nr")  # core.rates: the MCS tables and the Shannon bound
HE_UNIT_HZ = 26 * 78.125e3  # an 802.11ax 26-tone resource unit


def _require(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


def db_to_linear(db: float) -> float:
    return 10.0 ** (db / 10.0)


@dataclass(frozen=True)
class RadioParams:
    """Uplink shared by all robots (OFDMA shares of ``bandwidth_hz``) and its slot structure.

    ``noise_psd_w_per_hz`` is N0 (noise power N0 * w in a share w). ``rate_model`` is how a
    share's SNR becomes a rate (``core.rates``: the 802.11ax or 5G NR MCS table, or the Shannon
    bound), times ``spatial_streams`` and ``mac_efficiency`` (the share of a slot's airtime
    that carries data: preambles, trigger frames, acknowledgements and headers take the rest).
    Below the lowest MCS (for the Shannon model: below ``decode_snr_db``, which only that model
    reads) every packet sent in a slot is lost; ``residual_loss`` is an extra independent
    per-packet loss probability. ``feedback_s`` is the edge -> robot result/feedback latency
    T_fb that the transmission window leaves free. ``granularity_hz``: the smallest share the
    uplink can grant (a Wi-Fi 6 26-tone resource unit, a 5G NR physical resource block);
    shares are whole units, 0 = continuous. ``power``: what the radio draws
    (``core.radio_power``).
    """

    bandwidth_hz: float = 500e3
    noise_psd_w_per_hz: float = 10 ** ((BOLTZMANN_DBM_PER_HZ + 10.0 - 30.0) / 10.0)
    slot_s: float = 1e-3
    p_max_w: float = 0.2
    decode_snr_db: float = 3.0
    residual_loss: float = 0.0
    feedback_s: float = 1e-3
    granularity_hz: float = 0.0  # shares come in whole units of this (RU, PRB); 0: continuous
    rate_model: str = "shannon"
    mac_efficiency: float = 1.0
    spatial_streams: int = 1
    power: RadioPower = field(default_factory=RadioPower)

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
        _require(self.rate_model in RATE_MODELS, "rate_model", f"one of {RATE_MODELS}",
                 self.rate_model)
        _require(math.isfinite(self.mac_efficiency) and 0 < self.mac_efficiency <= 1,
                 "mac_efficiency", "in (0, 1]", self.mac_efficiency)
        _require(isinstance(self.spatial_streams, int) and 1 <= self.spatial_streams <= 8,
                 "spatial_streams", "an integer in 1..8", self.spatial_streams)
        _require(self.rate_model != "wifi6" or abs(self.granularity_hz - HE_UNIT_HZ) < 1.0,
                 "granularity_hz", f"{HE_UNIT_HZ} (one 26-tone resource unit) with the wifi6 "
                 "rate model", self.granularity_hz)
        _require(isinstance(self.power, RadioPower), "power", "a RadioPower", self.power)

    @property
    def decode_snr(self) -> float:
        """Outage threshold as a linear SNR: the lowest MCS's (``decode_snr_db`` for the
        Shannon model); a slot below it delivers nothing."""
        from enachi_ros.core.rates import outage_snr

        return outage_snr(self)


@dataclass(frozen=True)
class DeviceParams:
    """How measured latencies become robot/edge times and device energy.

    The profile's latencies are measured on the build machine; the robot runs the network
    ``device_slowdown`` times slower and draws ``device_active_power_w`` above idle meanwhile
    (the board's cores or its accelerator). A single-threaded codec runs on one CPU core,
    ``cpu_slowdown`` times slower than one core here, at ``cpu_core_power_w`` above idle. The
    robot draws ``idle_power_w`` whatever the scheduler decides (its base, reported beside every
    energy figure). The edge is ``edge_speedup`` times faster than the build machine.
    """

    device_slowdown: float = 10.0
    device_active_power_w: float = 3.0
    edge_speedup: float = 1.0
    cpu_slowdown: float = 10.0
    cpu_core_power_w: float = 1.0
    idle_power_w: float = 3.0

    def __post_init__(self) -> None:
        for name in ("device_slowdown", "edge_speedup", "cpu_slowdown"):
            v = getattr(self, name)
            _require(math.isfinite(v) and v > 0, name, "a finite value > 0", v)
        for name in ("device_active_power_w", "cpu_core_power_w", "idle_power_w"):
            v = getattr(self, name)
            _require(math.isfinite(v) and v >= 0, name, "a finite value >= 0 (W)", v)


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
