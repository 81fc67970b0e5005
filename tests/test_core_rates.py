"""Link adaptation against hand-computed rates, the fading average against Monte Carlo, and
what the radio draws in each state."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import RADIO, WIFI6

from enachi_ros.core.params import RadioParams
from enachi_ros.core.radio_power import RadioPower
from enachi_ros.core.rates import (
    NR,
    expected_rate_bps,
    outage_snr,
    rate_bps,
    slot_capacity_bits,
    spectral_efficiency,
)
from enachi_ros.core.rates import (
    WIFI6 as WIFI6_TABLE,
)

UNIT = 2.03125e6
NR_RADIO = RadioParams(bandwidth_hz=24.8e6, granularity_hz=360e3, rate_model="nr",
                       mac_efficiency=0.92)


def at_snr_db(db: float, w: float, radio: RadioParams) -> float:
    """The radiated power that gives ``db`` of SNR on share ``w`` over a unit gain."""
    return 10 ** (db / 10) * radio.noise_psd_w_per_hz * w


@pytest.mark.parametrize("units, snr_db, expected_bps", [
    # data subcarriers x bits per symbol (modulation x code rate) / 14.4 us, one stream
    (1, 40.0, 24 * 10 * 5 / 6 / 14.4e-6),  # 26-tone RU, MCS11 (1024-QAM 5/6): 13.89 Mbit/s
    (2, 9.5, 48 * 1 * 1 / 2 / 14.4e-6),  # 52-tone RU, MCS0 (BPSK 1/2) at 9.5 dB
    (9, 27.5, 234 * 6 * 5 / 6 / 14.4e-6),  # 242-tone RU, MCS7 (64-QAM 5/6): 81.25 Mbit/s
    (4, 25.1, 102 * 6 * 2 / 3 / 14.4e-6),  # 106-tone RU, MCS5 (64-QAM 2/3) just above 25 dB
    (4, 24.9, 102 * 4 * 3 / 4 / 14.4e-6),  # ... and MCS4 (16-QAM 3/4) just below
    (3, 40.0, 48 * 10 * 5 / 6 / 14.4e-6),  # 3 units hold a 52-tone RU only
    (1, 8.9, 0.0),  # below MCS0 (-82 dBm + 101 dB - 10 dB NF = 9.0 dB): outage
])
def test_wifi6_rates_by_hand(units, snr_db, expected_bps) -> None:
    w = units * UNIT
    r = rate_bps(w, at_snr_db(snr_db, w, WIFI6), 1.0, WIFI6)
    assert r == pytest.approx(expected_bps * WIFI6.mac_efficiency, rel=1e-9)


def test_wifi6_thresholds_come_from_the_sensitivities() -> None:
    assert WIFI6_TABLE.threshold_db[0] == pytest.approx(-82 + 174 - 73.0103 - 10, abs=1e-3)
    assert WIFI6_TABLE.threshold_db[-1] == pytest.approx(-52 + 90.9897, abs=1e-3)
    assert 10 * np.log10(outage_snr(WIFI6)) == pytest.approx(8.99, abs=0.01)


def test_nr_rate_by_hand() -> None:
    w = 10 * 360e3  # 10 PRBs
    # 20 dB lies between CQI 12 (18.91 dB) and 13 (21.58 dB): 64-QAM at 666/1024
    r = rate_bps(w, at_snr_db(20.0, w, NR_RADIO), 1.0, NR_RADIO)
    assert r == pytest.approx(w * 14 / 15 * 6 * 666 / 1024 * 0.92, rel=1e-9)
    assert rate_bps(w, at_snr_db(-1.0, w, NR_RADIO), 1.0, NR_RADIO) == 0.0
    assert NR.efficiencies[-1] == pytest.approx(5.5547, abs=1e-4)  # TS 38.214 MCS 28


def test_shannon_model_and_zero_shares() -> None:
    assert rate_bps(0.0, 1.0, 1.0, RADIO) == 0.0
    w = 1e5
    p = at_snr_db(10.0, w, RADIO)
    assert rate_bps(w, p, 1.0, RADIO) == pytest.approx(w * np.log2(11.0))
    assert rate_bps(w, at_snr_db(2.0, w, RADIO), 1.0, RADIO) == 0.0  # below 3 dB


@pytest.mark.parametrize("radio, w", [(WIFI6, UNIT), (NR_RADIO, 3.6e6), (RADIO, 1e5)])
def test_expected_rate_matches_monte_carlo(radio, w) -> None:
    x = np.random.default_rng(0).exponential(1.0, 400_000)
    for mean_db in (5.0, 15.0, 30.0, 45.0):
        p = at_snr_db(mean_db, w, radio)
        mc = rate_bps(w, p, x, radio).mean()
        exp = expected_rate_bps(w, 10 ** (mean_db / 10), radio)
        assert exp == pytest.approx(mc, rel=0.02, abs=1e3)


@settings(max_examples=100, deadline=None)
@given(snr_db=st.floats(-20, 70), model=st.sampled_from(["wifi6", "nr"]))
def test_rates_never_exceed_the_top_mcs_nor_shannon(snr_db, model) -> None:
    radio = WIFI6 if model == "wifi6" else NR_RADIO
    s = 10 ** (snr_db / 10)
    se = spectral_efficiency(s, radio)
    assert 0 <= se <= np.log2(1 + s) + 1e-12  # an MCS never beats the Shannon bound
    assert se <= (WIFI6_TABLE if model == "wifi6" else NR).efficiencies[-1]


def test_slot_capacity_is_zero_in_outage_and_flags_the_loss() -> None:
    w = UNIT
    cap, lost = slot_capacity_bits(np.full(2, w), np.array([at_snr_db(5.0, w, WIFI6),
                                                            at_snr_db(30.0, w, WIFI6)]),
                                   1.0, WIFI6)
    assert lost.tolist() == [True, False] and cap[0] == 0 and cap[1] > 0


def test_radio_power_states() -> None:
    pw = RadioPower(tx_circuit_w=0.4, pa_efficiency=0.1, listen_w=0.4, sleep_w=0.01,
                    listen_mode="twt", twt_wake_s=2e-4)
    assert pw.transmit_w(0.1) == pytest.approx(0.4 + 1.0 - 0.01)
    tx, listen = pw.slot_energy_j(np.array([0.1, 0.0]), np.array([0.25, 0.0]),
                                  np.array([True, False]), 1e-3)
    assert tx == pytest.approx([0.25 * 1.39e-3, 0.0])
    # the rest of a transmitting slot is awake; a silent slot only for the trigger (TWT)
    assert listen == pytest.approx([0.75 * 0.39e-3, 0.2 * 0.39e-3])
    always = replace(pw, listen_mode="always")
    assert always.slot_energy_j(0.0, 0.0, False, 1e-3)[1] == pytest.approx(0.39e-3)
    assert pw.result_wait_s(5e-3) == pytest.approx(2e-4)
    assert always.result_wait_s(5e-3) == pytest.approx(5e-3)
    for bad in ({"pa_efficiency": 0.0}, {"listen_mode": "sometimes"}, {"sleep_w": 1.0},
                {"tx_circuit_w": float("nan")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            RadioPower(**bad)


def test_radio_params_check_the_rate_model() -> None:
    with pytest.raises(ValueError, match="rate_model"):
        RadioParams(rate_model="lte")
    with pytest.raises(ValueError, match="granularity_hz"):
        RadioParams(rate_model="wifi6", granularity_hz=1e6)
    with pytest.raises(ValueError, match="mac_efficiency"):
        RadioParams(mac_efficiency=1.5)
