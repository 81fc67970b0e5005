"""Inner loop: the tracking law returns p_ref at the nominal channel, never overshoots the
reference energy, tracks it closely under fading, and stays in [0, p_max]."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import RADIO

from enachi_ros.core.channel import RayleighChannel, path_gain
from enachi_ros.core.params import ChannelParams
from enachi_ros.core.power import (
    BudgetPacingController,
    ConstantPowerController,
    PowerController,
    make_power_controller,
)

H_NOM = float(path_gain(80.0, ChannelParams()))


def run(ctrl, gains: np.ndarray) -> np.ndarray:
    for t in range(gains.shape[1]):
        p = ctrl.power(gains[:, t])
        ctrl.update(p)
    return ctrl.spent_j


def test_nominal_rule_gives_exactly_p_ref_at_the_nominal_channel() -> None:
    ctrl = PowerController(np.array([0.01, 0.05, 0.2]), H_NOM, 1e5, RADIO, level_rule="nominal",
                           credit=0.0)
    spent = run(ctrl, np.full((3, 50), H_NOM))
    assert np.allclose(spent, np.array([0.01, 0.05, 0.2]) * 50 * RADIO.slot_s)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.985])
@pytest.mark.parametrize("p_ref", [0.02, 0.1])
def test_tracking_law_tracks_reference_energy_under_fading(rho: float, p_ref: float) -> None:
    n, slots = 200, 300
    gains = RayleighChannel(np.full(n, 80.0), ChannelParams(rho=rho), RADIO.slot_s,
                            np.random.default_rng(1)).slots(slots)
    ctrl = PowerController(np.full(n, p_ref), H_NOM, 1e5, RADIO)
    ratio = run(ctrl, gains) / (p_ref * slots * RADIO.slot_s)
    assert ratio.max() <= 1.0 + 4.0 / slots  # overshoot bounded by zeta (4 slots' worth)
    assert ratio.mean() >= 0.95  # credit for unspent energy: tracked from both sides


def test_good_slots_get_more_power() -> None:
    for rule in ("nominal", "ergodic"):
        ctrl = PowerController(np.full(3, 0.05), H_NOM, 1e5, RADIO, level_rule=rule)
        p = ctrl.power(np.array([0.5, 1.0, 2.0]) * H_NOM)
        assert p[0] < p[1] < p[2]


def test_ergodic_level_meets_p_ref_in_expectation() -> None:
    """Over i.i.d. Rayleigh slots (no queue feedback) the mean power equals p_ref."""
    rng = np.random.default_rng(0)
    gains = H_NOM * rng.exponential(1.0, 200_000)
    for p_ref in (0.001, 0.01, 0.1):
        ctrl = PowerController(np.full(gains.size, p_ref), H_NOM, 1e5, RADIO)
        assert np.mean(ctrl.power(gains)) == pytest.approx(p_ref, rel=0.02)


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


@settings(max_examples=50, deadline=None)
@given(p_ref=st.floats(0.0, 5.0), gain_scale=st.floats(1e-3, 1e3), w=st.floats(0.0, 1e6),
       law=st.sampled_from(["tracking", "pacing", "constant"]), skip=st.booleans())
def test_power_always_in_range(p_ref: float, gain_scale: float, w: float, law: str,
                               skip: bool) -> None:
    ctrl = make_power_controller(law, np.full(4, p_ref), H_NOM, np.full(4, w), 20, radio=RADIO,
                                 decode_skip=skip)
    for scale in (gain_scale, 1.0, 1 / gain_scale):
        h = np.full(4, H_NOM * scale)
        p = ctrl.power(h)
        assert np.all((p >= 0) & (p <= RADIO.p_max_w))
        if skip:  # outage skipping: never any power in an undecodable slot
            snr = p * h / (RADIO.noise_psd_w_per_hz * np.maximum(w, 1e-30))
            assert np.all((p == 0) | (snr >= RADIO.decode_snr))
        ctrl.update(p)


@pytest.mark.parametrize("law", ["tracking", "pacing", "constant"])
def test_outage_skipping_is_a_switch_of_every_law(law: str) -> None:
    """The same law with and without skipping, over a range of slot gains: with the switch on
    no slot below the decoding SNR gets power; off, some do (so an ablation can remove
    reference tracking or outage skipping, not both at once)."""
    w, n = 1e5, 300
    gains = H_NOM * np.logspace(-3, 1, n)
    noise = RADIO.noise_psd_w_per_hz * w
    for skip in (True, False):
        ctrl = make_power_controller(law, np.full(n, 0.05), H_NOM, w, 20, radio=RADIO,
                                     decode_skip=skip)
        p = ctrl.power(gains)
        undecodable = (p > 0) & (p * gains / noise < RADIO.decode_snr)
        assert not undecodable.any() if skip else undecodable.any()
        assert (p > 0).any()


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="p_ref"):
        ConstantPowerController(np.array([-1.0]), 1e5, RADIO)
    with pytest.raises(ValueError, match="power_law"):
        make_power_controller("nope", 0.1, H_NOM, 1e5, 10, radio=RADIO)
    with pytest.raises(ValueError, match="h_nominal"):
        PowerController(0.1, 0.0, 1e5, RADIO)
