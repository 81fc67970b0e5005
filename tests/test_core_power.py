"""Inner loop: the tracking law spends p_ref in expectation, never overshoots the reference
energy by more than zeta, tracks it under fading, radiates only powers that reach an MCS, stays
silent where a slot's bits do not pay for the transmit circuit, and stays in [0, p_max]."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import RADIO, WIFI6

from enachi_ros.core.channel import RayleighChannel, path_gain
from enachi_ros.core.params import ChannelParams
from enachi_ros.core.power import (
    BudgetPacingController,
    ConstantPowerController,
    PowerController,
    make_power_controller,
)
from enachi_ros.core.radio_power import RadioPower
from enachi_ros.core.rates import outage_snr

H_NOM = float(path_gain(80.0, ChannelParams()))
# the Wi-Fi radio on one 26-tone unit at 30 m: mean SNR ~40 dB at p_max
W_UNIT = 2.03125e6
H_WIFI = float(path_gain(30.0, ChannelParams(pl_ref_db=47.8, pl_exponent=2.55)))


def run(ctrl, gains: np.ndarray) -> np.ndarray:
    for t in range(gains.shape[1]):
        p = ctrl.power(gains[:, t])
        ctrl.update(p)
    return ctrl.spent_j


@pytest.mark.parametrize("radio, h, w, refs", [
    (RADIO, H_NOM, 1e5, (0.001, 0.01, 0.1)),
    (WIFI6, H_WIFI, W_UNIT, (0.002, 0.01, 0.05)),
])
def test_mean_power_over_fading_is_p_ref(radio, h, w, refs) -> None:
    """Over i.i.d. Rayleigh slots (no queue feedback) the mean radiated power equals p_ref."""
    gains = h * np.random.default_rng(0).exponential(1.0, 100_000)
    for p_ref in refs:
        ctrl = PowerController(np.full(gains.size, p_ref), h, w, radio)
        assert np.mean(ctrl.power(gains)) == pytest.approx(p_ref, rel=0.05)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.985])
@pytest.mark.parametrize("radio, h, w, p_ref", [(RADIO, H_NOM, 1e5, 0.02), (RADIO, H_NOM, 1e5, 0.1),
                                                (WIFI6, H_WIFI, W_UNIT, 0.01)])
def test_tracking_law_tracks_reference_energy_under_fading(rho, radio, h, w, p_ref) -> None:
    n, slots = 200, 300
    dist = 80.0 if radio is RADIO else 30.0
    params = ChannelParams(rho=rho) if radio is RADIO else ChannelParams(
        pl_ref_db=47.8, pl_exponent=2.55, rho=rho)
    gains = RayleighChannel(np.full(n, dist), params, radio.slot_s,
                            np.random.default_rng(1)).slots(slots)
    ctrl = PowerController(np.full(n, p_ref), h, w, radio)
    ratio = run(ctrl, gains) / (p_ref * slots * radio.slot_s)
    # overshoot bounded by zeta (4 slots' worth) and one slot at the largest MCS power
    assert ratio.max() <= 1.0 + (4.0 + radio.p_max_w / p_ref) / slots
    assert ratio.mean() >= 0.9  # credit for unspent energy: tracked from both sides


def test_good_slots_get_more_power_or_a_higher_mcs() -> None:
    ctrl = PowerController(np.full(3, 0.05), H_NOM, 1e5, RADIO)
    p = ctrl.power(np.array([0.5, 1.0, 2.0]) * H_NOM)
    assert p[0] < p[1] < p[2]
    ctrl = PowerController(np.full(5, 0.01), H_WIFI, W_UNIT, WIFI6)
    h = np.array([0.05, 0.3, 1.0, 3.0, 10.0]) * H_WIFI
    p = ctrl.power(h)
    snr = p * h / (WIFI6.noise_psd_w_per_hz * W_UNIT)
    assert np.all(np.diff(snr) >= 0)


def test_the_law_radiates_only_powers_that_just_reach_an_mcs() -> None:
    """Power between two MCS thresholds buys nothing: every power is an MCS's least."""
    from enachi_ros.core.rates import WIFI6 as TABLE

    gains = H_WIFI * np.random.default_rng(3).exponential(1.0, 5000)
    ctrl = PowerController(np.full(gains.size, 0.02), H_WIFI, W_UNIT, WIFI6)
    p = ctrl.power(gains)
    snr = p[p > 0] * gains[p > 0] / (WIFI6.noise_psd_w_per_hz * W_UNIT)
    nearest = TABLE.thresholds[np.argmin(np.abs(snr[:, None] / TABLE.thresholds - 1), axis=1)]
    assert np.allclose(snr, nearest, rtol=1e-6)


def test_circuit_power_keeps_the_radio_silent_in_poor_slots() -> None:
    """The same law with a costly transmit circuit transmits in fewer slots: a slot's bits must
    pay for the circuit, not only for the radiated power."""
    gains = H_WIFI * np.random.default_rng(4).exponential(1.0, 20_000)
    cheap = replace(WIFI6, power=RadioPower(tx_circuit_w=0.0, listen_w=0.0, sleep_w=0.0))
    costly = replace(WIFI6, power=RadioPower(tx_circuit_w=2.0, listen_w=0.0, sleep_w=0.0))
    on = [np.mean(PowerController(np.full(gains.size, 0.005), H_WIFI, W_UNIT, r).power(gains) > 0)
          for r in (cheap, costly)]
    assert on[1] < on[0]


def test_one_sided_queue_never_credits_underspending() -> None:
    ctrl = PowerController(np.full(1, 0.05), H_NOM, 1e5, RADIO, credit=0.0)
    ctrl.update(np.array([0.0]))  # spent nothing
    assert ctrl.z[0] == 0.0
    two = PowerController(np.full(1, 0.05), H_NOM, 1e5, RADIO)
    before = two.power(np.array([H_NOM]))[0]
    two.update(np.array([0.0]))
    assert two.z[0] < 0 and two.power(np.array([H_NOM]))[0] > before


def test_overspending_lowers_later_power() -> None:
    ctrl = PowerController(np.full(1, 0.05), H_NOM, 1e5, RADIO)
    first = ctrl.power(np.array([H_NOM]))
    ctrl.update(np.array([0.2]))  # spent far more than p_ref in one slot
    assert ctrl.power(np.array([H_NOM]))[0] < first[0]


def test_budget_pacing_spends_about_its_budget() -> None:
    gains = RayleighChannel(np.full(100, 80.0), ChannelParams(rho=0.9), RADIO.slot_s,
                            np.random.default_rng(2)).slots(200)
    ctrl = BudgetPacingController(np.full(100, 0.05), H_NOM, 1e5, 200, RADIO)
    ratio = run(ctrl, gains) / (0.05 * 200 * RADIO.slot_s)
    assert 0.85 <= ratio.mean() <= 1.0 + 1e-9


@settings(max_examples=60, deadline=None)
@given(p_ref=st.floats(0.0, 5.0), gain_scale=st.floats(1e-3, 1e3), w=st.floats(0.0, 1e7),
       law=st.sampled_from(["tracking", "pacing", "constant"]), skip=st.booleans(),
       wifi=st.booleans())
def test_power_always_in_range(p_ref, gain_scale, w, law, skip, wifi) -> None:
    radio, h0 = (WIFI6, H_WIFI) if wifi else (RADIO, H_NOM)
    ctrl = make_power_controller(law, np.full(4, p_ref), h0, np.full(4, w), 20, radio=radio,
                                 decode_skip=skip)
    for scale in (gain_scale, 1.0, 1 / gain_scale):
        h = np.full(4, h0 * scale)
        p = ctrl.power(h)
        assert np.all((p >= 0) & (p <= radio.p_max_w))
        if skip:  # outage skipping: never any power in an undecodable slot
            snr = p * h / (radio.noise_psd_w_per_hz * np.maximum(w, 1e-30))
            assert np.all((p == 0) | (snr >= outage_snr(radio) * (1 - 1e-9)))
        ctrl.update(p)


@pytest.mark.parametrize("law", ["tracking", "pacing", "constant"])
@pytest.mark.parametrize("wifi", [False, True])
def test_outage_skipping_is_a_switch_of_every_law(law: str, wifi: bool) -> None:
    """The same law with and without skipping, over a range of slot gains: with the switch on
    no slot below the outage SNR gets power; off, some do (so an ablation can remove
    reference tracking or outage skipping, not both at once)."""
    radio, h0, w = (WIFI6, H_WIFI, W_UNIT) if wifi else (RADIO, H_NOM, 1e5)
    n = 300
    gains = h0 * np.logspace(-5, 1, n)
    noise = radio.noise_psd_w_per_hz * w
    for skip in (True, False):
        ctrl = make_power_controller(law, np.full(n, 0.05), h0, w, 20, radio=radio,
                                     decode_skip=skip)
        p = ctrl.power(gains)
        undecodable = (p > 0) & (p * gains / noise < outage_snr(radio))
        assert not undecodable.any() if skip else undecodable.any()
        assert (p > 0).any()


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="p_ref"):
        ConstantPowerController(np.array([-1.0]), 1e5, RADIO)
    with pytest.raises(ValueError, match="power_law"):
        make_power_controller("nope", 0.1, H_NOM, 1e5, 10, radio=RADIO)
    with pytest.raises(ValueError, match="h_nominal"):
        PowerController(0.1, 0.0, 1e5, RADIO)
