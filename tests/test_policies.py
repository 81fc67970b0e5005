"""Every policy honours the interface and the physical invariants for any frame state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import CHANNEL, RADIO, synthetic_table

from enachi_ros.core.channel import path_gain
from enachi_ros.core.deadline import feasible
from enachi_ros.core.policies import POLICY_NAMES, FrameState, Hindsight, make_policy

DEADLINE_AWARE = ("enachi", "enachi_no_inner", "enachi_no_stop", "enachi_no_importance",
                  "enachi_pacing", "enachi_stop_aware", "task_dpp", "oracle")


def state(n: int, seed: int, deadline: float, bandwidth: float) -> FrameState:
    rng = np.random.default_rng(seed)
    splits = synthetic_table()
    gains = path_gain(rng.uniform(20, 200, n), CHANNEL) * rng.exponential(1.0, n)
    k1 = splits.packet_bits.shape[1] + 1
    hind = Hindsight(gains[:, None] * rng.exponential(1.0, (n, 60)),
                     rng.random((n, splits.n_splits, k1)) < 0.7)
    return FrameState(gains, rng.uniform(0, 1.0, n), np.full(n, 0.01), deadline, bandwidth,
                      splits, RADIO, hindsight=hind)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 1000), deadline=st.floats(0.004, 0.06),
       bandwidth=st.floats(2e4, 3e6), name=st.sampled_from(POLICY_NAMES))
def test_policy_invariants(n, seed, deadline, bandwidth, name) -> None:
    s = state(n, seed, deadline, bandwidth)
    d = make_policy(name, v=0.1).decide(s)
    assert d.policy == name
    for key in ("split", "bandwidth_hz", "p_ref", "window_slots", "entropy_threshold",
                "predicted_accuracy", "predicted_energy_j"):
        assert np.shape(getattr(d, key)) == (n,), key
    assert d.bandwidth_hz.sum() <= bandwidth * (1 + 1e-9)
    assert np.all((d.p_ref >= 0) & (d.p_ref <= RADIO.p_max_w))
    assert np.all(d.window_slots >= 0)
    if name in DEADLINE_AWARE:
        ok = feasible(np.full(n, deadline), s.splits, RADIO.slot_s, RADIO.feedback_s)
        assert np.all(ok[np.arange(n), d.split] | ~ok.any(axis=1))


def test_baselines_follow_their_definitions() -> None:
    s = state(4, 0, 0.03, 4e5)
    edge = make_policy("edge_only").decide(s)
    assert np.all(edge.split == 0) and np.allclose(edge.bandwidth_hz, 1e5)
    assert np.allclose(edge.p_ref, RADIO.p_max_w) and not edge.partial_ok.any()
    dev = make_policy("device_only").decide(s)
    assert np.all(dev.split == s.splits.device_index) and np.all(dev.bandwidth_hz == 0)
    prog = make_policy("progressive_fixed").decide(s)
    assert len(set(prog.split)) == 1 and prog.progressive.all()
    dpp = make_policy("task_dpp").decide(s)
    assert dpp.power_law == "constant" and not dpp.progressive.any()
    assert make_policy("enachi").decide(s).power_law == "tracking"
    assert make_policy("enachi_pacing").decide(s).power_law == "pacing"


def test_oracle_needs_hindsight_and_unknown_names_fail() -> None:
    s = state(2, 0, 0.03, 4e5)
    with pytest.raises(ValueError, match="hindsight"):
        make_policy("oracle").decide(FrameState(s.gains, s.queues, s.budgets_j, 0.03, 4e5,
                                                s.splits, RADIO))
    with pytest.raises(ValueError, match="policy"):
        make_policy("magic")
    with pytest.raises(ValueError, match="queues"):
        FrameState(s.gains, np.zeros(3), s.budgets_j, 0.03, 4e5, s.splits, RADIO)
