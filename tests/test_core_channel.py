"""Channel, deadline windows, virtual queues and the split table built from a profile."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import CHANNEL, DEVICE, RADIO, synthetic_dir, synthetic_table

from enachi_ros.core.channel import (
    RayleighChannel,
    TraceChannel,
    path_gain,
    slot_correlation,
)
from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import ChannelParams, RadioParams
from enachi_ros.core.queues import VirtualQueues
from enachi_ros.core.split_table import SplitTable


def test_path_gain_decreases_with_distance() -> None:
    g = path_gain(np.array([10.0, 50.0, 200.0]), CHANNEL)
    assert np.all(np.diff(g) < 0) and np.all(g > 0)
    with pytest.raises(ValueError, match="distance_m"):
        path_gain(np.array([0.0]), CHANNEL)


def test_rayleigh_is_deterministic_unit_mean_and_correlated() -> None:
    make = lambda: RayleighChannel(np.full(500, 1.0), ChannelParams(pl_ref_db=0.0, rho=0.95),  # noqa: E731
                                   1e-3, np.random.default_rng(3))
    a, b = make().slots(400), make().slots(400)
    assert np.array_equal(a, b)
    assert abs(a.mean() - 1.0) < 0.05
    lag1 = np.corrcoef(a[:, :-1].ravel(), a[:, 1:].ravel())[0, 1]
    assert lag1 > 0.8  # power correlation ~ rho^2
    assert 0.98 < slot_correlation(CHANNEL, 1e-3) < 1.0


def test_trace_replay_wraps_and_offsets() -> None:
    ch = TraceChannel(np.array([[0.0, 10.0, 20.0]]), 2, noise_psd=1.0, ref_power_w=1.0,
                      ref_bandwidth_hz=1.0, offset_slots=1)
    g = ch.slots(4)
    assert np.allclose(g[0], [1, 10, 100, 1]) and np.allclose(g[1], [10, 100, 1, 10])


def test_windows_and_feasibility() -> None:
    st = synthetic_table()
    slots = window_slots(0.02, st, RADIO.slot_s, RADIO.feedback_s)
    assert slots[st.device_index] == 0 and slots[0] == 17
    ok = feasible(np.array([0.005, 0.05]), st, RADIO.slot_s, RADIO.feedback_s)
    assert not ok[0, st.device_index] and ok[1, st.device_index] and ok[0, 0]
    with pytest.raises(ValueError, match="deadline_s"):
        window_slots(0.0, st, RADIO.slot_s, RADIO.feedback_s)


def test_virtual_queue_update() -> None:
    q = VirtualQueues(np.array([1.0, 2.0]))
    q.update(np.array([3.0, 1.0]))
    assert np.allclose(q.q, [2.0, 0.0])
    q.update(np.array([np.nan, 2.5]))  # no report: charged the budget, queue holds
    assert np.allclose(q.q, [2.0, 0.5]) and np.allclose(q.average_energy, [2.0, 1.75])
    with pytest.raises(ValueError, match="energy_reports"):
        q.update(np.array([1.0]))
    with pytest.raises(ValueError, match="budgets_j"):
        VirtualQueues(np.array([0.0]))


def test_split_table_from_profile() -> None:
    st = synthetic_table()
    assert st.kinds[0] == "edge_only" and st.kinds[st.device_index] == "device_only"
    assert st.kinds[-2:] == ("edge_codec", "edge_codec") and not st.network[-1]
    assert st.transmits[-1] and st.all_or_nothing[-1] and not st.all_or_nothing[0]
    assert st.codec_format[-2:] == ("jpeg", "webp") and st.codec_options(("webp",)).tolist() \
        == [st.n_splits - 1]
    # an encoder runs on one core: its energy is one core's power x the robot's encode time
    assert np.isclose(st.compute_j[-1], DEVICE.cpu_core_power_w * st.head_s[-1])
    assert st.payload_bits[0] == 784 * 8 and st.num_packets[st.device_index] == 0
    net = st.network
    assert np.allclose(st.compute_j[net], DEVICE.device_active_power_w * st.head_s[net])
    frac = st.stop_fraction()
    assert np.all((frac > 0) & (frac <= 1))
    profile = json.loads((synthetic_dir() / "profile.json").read_text())
    profile["splits"][1]["surrogate"]["a1"] = 0.5  # not concave: refit on the calib curve
    profile["splits"][0]["surrogate"]["a0"] = 0.0  # 'constant' fit of a one-packet split
    table = SplitTable.from_profile(profile, DEVICE)
    assert table.surrogate_source[:3] == ("endpoints", "refit", "profile")
    assert table.a0[1] > 0 and table.a1[1] < 0
    curve = profile["splits"][0]["accuracy_vs_fraction"]["accuracy_calib"]
    a0, a1, a2 = table.a0[0], table.a1[0], table.a2[0]
    assert np.isclose(a2 + 1 / a1, curve[0]) and np.isclose(a2 - 1 / (a0 - a1), curve[-1])
    with pytest.raises(ValueError, match="bandwidth_hz"):
        RadioParams(bandwidth_hz=0.0)


@settings(max_examples=100, deadline=None)
@given(shares=st.lists(st.floats(0.0, 5e6), min_size=1, max_size=30),
       model=st.sampled_from(["shannon", "nr", "wifi6"]), slack=st.floats(1.0, 2.0))
def test_shares_round_to_whole_units_within_the_total(shares, model, slack) -> None:
    """Resource units / PRBs: every share a number of units a robot may hold (an 802.11ax RU
    size), at most the asked share rounded up, the total never exceeded, no unit to a robot
    that asked none."""
    from enachi_ros.core.units import allowed_units, quantize_shares, total_units

    unit = {"shannon": 0.0, "nr": 360e3, "wifi6": 2.03125e6}[model]
    radio = RadioParams(granularity_hz=unit, rate_model=model)
    w = np.asarray(shares)
    total = max(float(w.sum()) * slack, unit)
    q = quantize_shares(w, radio, total)
    if unit == 0:
        assert np.array_equal(q, w)
        return
    units = np.round(q / unit)
    assert np.allclose(q / unit, units)
    assert np.all(np.isin(units[units > 0], allowed_units(radio, total)))
    assert units.sum() <= total_units(radio, total)
    assert np.all(units <= np.ceil(w / unit - 1e-9))
    assert np.all(q[w == 0] == 0)
