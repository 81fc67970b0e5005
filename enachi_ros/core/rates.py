"""Link adaptation: the bits a share carries at a received SNR (ENACHI.md section 7b).

The rate of a share is that of the highest modulation and coding scheme (MCS) whose SNR
threshold the slot meets, times the share's data symbols per second, the spatial streams and a
MAC/protocol efficiency (``RadioParams.mac_efficiency``); below the lowest MCS the slot is in
outage and delivers nothing. Tables (``RadioParams.rate_model``):

- ``wifi6``: IEEE 802.11ax HE MCS 0-11 (BPSK 1/2 ... 1024-QAM 5/6). A share is one resource unit
  (RU) of 26, 52, 106, 242, 484, 996 or 2x996 tones, i.e. 1, 2, 4, 9, 18, 37 or 74 26-tone units,
  carrying 24, 48, 102, 234, 468, 980 or 1960 data subcarriers; an HE symbol lasts 12.8 us plus
  a 1.6 us guard interval (the shortest an HE TB PPDU, the uplink OFDMA frame, may use). The
  thresholds are the standard's receiver minimum input sensitivities at 20 MHz (IEEE
  802.11ax-2021 Table 27-51: -82 ... -52 dBm at 10% PER) converted to SNR with the thermal noise
  of 20 MHz and the 10 dB noise figure these figures are derived with: 9 ... 39 dB. They hold
  the standard's 5 dB implementation margin, so they describe a receiver that just meets the
  standard (ns-3's AWGN tables for an ideal LDPC receiver need 5-10 dB less). Values checked in
  ns-3 (``src/wifi/model/he/he-phy.cc``: subcarriers, symbol, guard intervals) and two copies of
  the sensitivity table.
- ``nr``: 5G NR, the modulation and code rate of CQI table 1 (TS 38.214 Table 5.2.2.1-2, CQI 2-15,
  each an MCS of Table 5.1.3.1-1: QPSK 120/1024 ... 64QAM 948/1024, 0.23-5.55 bit per symbol),
  with the SINR at which each reaches 10% BLER in AWGN in MathWorks' "5G NR CQI reporting"
  example (-0.82 ... 29.32 dB); 14 OFDM symbols per slot on every subcarrier of the share, i.e.
  0.933 data symbols per second per Hz after the cyclic prefix, at any numerology.
- ``shannon``: ``log2(1 + SNR)`` above ``decode_snr_db``: an upper bound no radio reaches, kept
  as an explicit model (and for the core's tests).

Planning against Rayleigh fading uses the expected rate at a mean SNR (slots in outage deliver
nothing): for a table ``sum_m se_m (exp(-t_m / g) - exp(-t_{m+1} / g))``, in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

RATE_MODELS = ("shannon", "wifi6", "nr")


@dataclass(frozen=True)
class McsTable:
    """An MCS table: per MCS, the SNR threshold (dB, ascending) and the data bits per
    subcarrier-symbol and spatial stream (modulation bits x code rate)."""

    name: str
    threshold_db: tuple[float, ...]
    bits_per_symbol: tuple[float, ...]

    @cached_property
    def thresholds(self) -> np.ndarray:
        """Linear SNR thresholds, ascending."""
        return 10.0 ** (np.asarray(self.threshold_db) / 10.0)

    @cached_property
    def efficiencies(self) -> np.ndarray:
        return np.asarray(self.bits_per_symbol, float)


_SENSITIVITY_20MHZ_DBM = (-82, -79, -77, -74, -70, -66, -65, -64, -59, -57, -54, -52)
_NOISE_20MHZ_DBM = -174.0 + 10.0 * np.log10(20e6) + 10.0  # thermal noise + the 10 dB NF
WIFI6 = McsTable(
    "wifi6",
    tuple(float(s - _NOISE_20MHZ_DBM) for s in _SENSITIVITY_20MHZ_DBM),
    # BPSK 1/2, QPSK 1/2, QPSK 3/4, 16QAM 1/2, 16QAM 3/4, 64QAM 2/3, 64QAM 3/4, 64QAM 5/6,
    # 256QAM 3/4, 256QAM 5/6, 1024QAM 3/4, 1024QAM 5/6
    (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5, 5.0, 6.0, 20.0 / 3.0, 7.5, 25.0 / 3.0),
)
NR = McsTable(
    "nr",
    (-0.82, 0.95, 2.95, 4.90, 7.39, 8.89, 11.02, 13.32, 14.68, 16.62, 18.91, 21.58, 24.88,
     29.32),
    tuple(q * r / 1024.0 for q, r in ((2, 120), (2, 193), (2, 308), (2, 449), (2, 602),
                                      (4, 378), (4, 490), (4, 616), (6, 466), (6, 567),
                                      (6, 666), (6, 772), (6, 873), (6, 948))),
)
TABLES = {"wifi6": WIFI6, "nr": NR}

HE_SUBCARRIER_HZ = 78.125e3
HE_UNIT_HZ = 26 * HE_SUBCARRIER_HZ  # one 26-tone resource unit: 2.03125 MHz
HE_SYMBOL_S = 12.8e-6 + 1.6e-6  # HE symbol + the 1.6 us guard interval of an HE TB PPDU
# 26-tone units of each RU size -> its data subcarriers (26, 52, 106, 242, 484, 996, 2x996 tones)
HE_RU_DATA_SUBCARRIERS = {1: 24, 2: 48, 4: 102, 9: 234, 18: 468, 37: 980, 74: 1960}
# 26-tone units in the standard channel widths (the 80 MHz channel has 37, not 4 x 9)
HE_CHANNEL_UNITS = {20e6: 9, 40e6: 18, 80e6: 37, 160e6: 74}
NR_SYMBOLS_PER_S_PER_HZ = 14.0 / 15.0  # 14 symbols per slot of 1 ms / 2^mu at 15 kHz x 2^mu


def table_of(radio) -> McsTable | None:
    """The radio's MCS table (None for the Shannon model)."""
    return TABLES.get(radio.rate_model)


def outage_snr(radio) -> float:
    """Linear SNR below which a slot delivers nothing (the lowest MCS, or the Shannon model's
    decoding threshold)."""
    table = table_of(radio)
    return float(table.thresholds[0]) if table is not None else 10.0 ** (radio.decode_snr_db / 10)


def snr(bandwidth_hz, power_w, gain, noise_psd: float) -> np.ndarray:
    """Received SNR p h / (N0 w); zero where the share or the power is zero."""
    w = np.asarray(bandwidth_hz, dtype=float)
    num = np.asarray(power_w, dtype=float) * np.asarray(gain, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, num / (noise_psd * np.where(w > 0, w, 1.0)), 0.0)


def mcs_index(snr_linear, table: McsTable) -> np.ndarray:
    """Index of the highest MCS whose threshold the SNR meets; -1 in outage."""
    return np.searchsorted(table.thresholds, np.asarray(snr_linear, float), side="right") - 1


def spectral_efficiency(snr_linear, radio) -> np.ndarray:
    """Data bits per symbol (per subcarrier and stream) at this SNR; 0 in outage."""
    s = np.asarray(snr_linear, float)
    table = table_of(radio)
    if table is None:
        return np.where(s >= outage_snr(radio), np.log2(1.0 + np.maximum(s, 0.0)), 0.0)
    m = mcs_index(s, table)
    return np.where(m >= 0, table.efficiencies[np.maximum(m, 0)], 0.0)


_RU_SIZES = np.array(sorted(HE_RU_DATA_SUBCARRIERS))
_RU_DATA = np.array([HE_RU_DATA_SUBCARRIERS[int(u)] for u in _RU_SIZES], float)


def ru_units(units) -> np.ndarray:
    """The largest 802.11ax RU (in 26-tone units) that fits in ``units`` units (0 if none)."""
    idx = np.searchsorted(_RU_SIZES, np.floor(np.asarray(units, float) + 1e-9), side="right") - 1
    return np.where(idx >= 0, _RU_SIZES[np.maximum(idx, 0)], 0)


def symbol_rate(bandwidth_hz, radio) -> np.ndarray:
    """Data symbols per second (per spatial stream) a share of ``bandwidth_hz`` carries (an
    802.11ax share: the largest RU it holds)."""
    w = np.maximum(np.asarray(bandwidth_hz, float), 0.0)
    if radio.rate_model == "wifi6":
        idx = np.searchsorted(_RU_SIZES, np.floor(w / HE_UNIT_HZ + 1e-9), side="right") - 1
        return np.where(idx >= 0, _RU_DATA[np.maximum(idx, 0)], 0.0) / HE_SYMBOL_S
    if radio.rate_model == "nr":
        return w * NR_SYMBOLS_PER_S_PER_HZ
    return w


def rate_scale(bandwidth_hz, radio) -> np.ndarray:
    """bit/s per bit/symbol of a share: symbols/s x streams x MAC efficiency."""
    return symbol_rate(bandwidth_hz, radio) * radio.spatial_streams * radio.mac_efficiency


def rate_bps(bandwidth_hz, power_w, gain, radio) -> np.ndarray:
    """The rate (bit/s) a share carries at radiated ``power_w`` over channel ``gain``: the
    link-adapted MCS's; 0 in outage, for w = 0 or p = 0."""
    s = snr(bandwidth_hz, power_w, gain, radio.noise_psd_w_per_hz)
    return rate_scale(bandwidth_hz, radio) * spectral_efficiency(s, radio)


_SE_TABLE_DB = np.arange(-30.0, 70.0, 0.05)
_SHANNON_CACHE: dict[float, np.ndarray] = {}


def _shannon_expected(mean_snr, threshold: float) -> np.ndarray:
    """E[log2(1 + g X) 1{g X >= threshold}], X ~ Exp(1), interpolated (in dB) from a table built
    once per threshold by midpoint quadrature in u = exp(-x); relative error below 1e-3."""
    if threshold not in _SHANNON_CACHE:
        x = -np.log((np.arange(2000) + 0.5) / 2000.0)[None, :]
        g = 10.0 ** (_SE_TABLE_DB / 10.0)[:, None]
        _SHANNON_CACHE[threshold] = np.mean(
            np.where(g * x >= threshold, np.log2(1.0 + g * x), 0.0), axis=1)
    snr_db = 10.0 * np.log10(np.maximum(np.asarray(mean_snr, float), 1e-30))
    return np.interp(snr_db, _SE_TABLE_DB, _SHANNON_CACHE[threshold], left=0.0)


def expected_spectral_efficiency(mean_snr, radio) -> np.ndarray:
    """Bits per symbol a Rayleigh-faded slot carries on average at mean SNR ``mean_snr`` (slots
    below the lowest MCS deliver nothing): what the planner expects of a window."""
    g = np.maximum(np.asarray(mean_snr, float), 1e-300)
    table = table_of(radio)
    if table is None:
        return _shannon_expected(g, outage_snr(radio))
    t = table.thresholds
    se = table.efficiencies
    with np.errstate(over="ignore"):
        p_above = np.exp(-t[:, None] / g.reshape(1, -1))  # P(g X >= t_m)
    p_band = p_above - np.vstack([p_above[1:], np.zeros((1, p_above.shape[1]))])
    return (se[:, None] * p_band).sum(axis=0).reshape(g.shape)


def transmit_probability(mean_snr, radio) -> np.ndarray:
    """Fraction of Rayleigh-faded slots above the outage SNR at mean SNR ``mean_snr``."""
    g = np.maximum(np.asarray(mean_snr, float), 1e-300)
    return np.exp(-outage_snr(radio) / g)


def expected_rate_bps(bandwidth_hz, mean_snr, radio) -> np.ndarray:
    """The rate a share carries on average over Rayleigh fading at mean SNR ``mean_snr``."""
    return rate_scale(bandwidth_hz, radio) * expected_spectral_efficiency(mean_snr, radio)


def slot_capacity_bits(bandwidth_hz, power_w, gain, radio) -> tuple[np.ndarray, np.ndarray]:
    """Bits a slot delivers and whether it was lost, per task: ``(capacity, lost)``.

    Link-layer segmentation [ours]: a packet longer than a slot goes out as per-slot segments
    (transport blocks). A slot below the outage SNR delivers nothing (its segment is re-sent by
    the link layer), but the radio was on and paid for the whole slot; the segments already
    delivered are kept. For packets that fit in one slot this is exactly "a packet sent in a
    slot below the threshold is lost". Residual packet loss is drawn separately."""
    s = snr(bandwidth_hz, power_w, gain, radio.noise_psd_w_per_hz)
    lost = (np.asarray(power_w) > 0) & (s < outage_snr(radio))
    rate = rate_scale(bandwidth_hz, radio) * spectral_efficiency(s, radio)
    return np.where(lost, 0.0, rate * radio.slot_s), lost
