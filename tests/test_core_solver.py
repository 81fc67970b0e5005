"""Outer DPP solver: the exact knapsack over units matches brute force over every assignment
(up to 6 robots, 2-12 units, on the radio's energy model); invariants under random inputs; the
scarce-channel cases in which the Lagrangian solver handed out nothing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sim_fixtures import CHANNEL, DEVICE, RADIO, WIFI6, synthetic_table

from enachi_ros.core.channel import path_gain
from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.params import ChannelParams
from enachi_ros.core.rates import expected_rate_bps, snr
from enachi_ros.core.solver import (
    energy_price_floor,
    objective,
    plan_outcome,
    snr_grid,
    solve_outer,
)
from enachi_ros.core.units import allowed_units, total_units, unit_hz

WIFI_CHANNEL = ChannelParams(pl_ref_db=47.8, pl_exponent=2.55, carrier_hz=5.5e9, speed_mps=1.5)
NR = replace(RADIO, granularity_hz=360e3, rate_model="nr", mac_efficiency=0.92)


def per_robot_utilities(gains, queues, v, splits, radio, bandwidth, deadline, allowed=None,
                        delivery=None):
    """For each robot, the best utility with each unit count it may hold (by plan_outcome over
    every split and the solver's SNR grid) and with none (the model on board, or skipping)."""
    n = gains.size
    delivery = np.ones(n) if delivery is None else delivery
    sizes = allowed_units(radio, bandwidth)
    g = unit_hz(radio, bandwidth)
    slots = window_slots(np.full(n, deadline), splits, radio.slot_s, radio.feedback_s)
    ok = feasible(np.full(n, deadline), splits, radio.slot_s, radio.feedback_s)
    if allowed is not None:
        ok &= allowed
    gamma = snr_grid(radio)
    table = np.full((n, sizes.size), -np.inf)
    zero = np.zeros(n)
    for i in range(n):
        for s in np.flatnonzero(ok[i]):
            if not splits.transmits[s]:
                zero[i] = max(zero[i], v / n * splits.accuracy_full[s]
                              - queues[i] * splits.compute_j[s])
                continue
            for a, u in enumerate(sizes):
                w = u * g
                p = gamma * radio.noise_psd_w_per_hz * w / gains[i]
                acc, energy, beta = plan_outcome(
                    np.full(gamma.size, s), np.full(gamma.size, w), p,
                    np.full(gamma.size, gains[i]), np.full(gamma.size, slots[i, s] * radio.slot_s),
                    splits=splits, radio=radio, delivery=delivery[i])
                util = np.where((beta > 0) & (p <= radio.p_max_w * (1 + 1e-12)),
                                v / n * acc - queues[i] * energy, -np.inf)
                table[i, a] = max(table[i, a], util.max())
    return sizes, table, zero


def brute_force(sizes, table, zero, capacity: int) -> tuple[float, int]:
    """The best sum of utilities over every assignment of unit counts within the capacity, and
    how many assignments there were."""
    n = table.shape[0]
    options = [[(0, zero[i])] + [(int(u), table[i, a]) for a, u in enumerate(sizes)
                                 if np.isfinite(table[i, a])] for i in range(n)]
    best, count = -np.inf, 0

    def walk(i: int, left: int, total: float) -> None:
        nonlocal best, count
        if i == n:
            best, count = max(best, total), count + 1
            return
        for u, val in options[i]:
            if u <= left:
                walk(i + 1, left - u, total + val)

    walk(0, capacity, 0.0)
    return best, count


@settings(max_examples=40, deadline=None)
@example(n=6, units=12, seed=1, model="nr", deadline=0.03, qscale=0.0, loss=0.0)
@example(n=6, units=9, seed=2, model="wifi6", deadline=0.02, qscale=3.0, loss=0.1)
@given(n=st.integers(1, 6), units=st.integers(2, 12), seed=st.integers(0, 10_000),
       model=st.sampled_from(["wifi6", "nr"]), deadline=st.floats(0.006, 0.06),
       qscale=st.floats(0.0, 20.0), loss=st.floats(0.0, 0.5))
def test_knapsack_matches_brute_force_over_every_assignment(n, units, seed, model, deadline,
                                                            qscale, loss) -> None:
    rng = np.random.default_rng(seed)
    splits = synthetic_table()
    radio = WIFI6 if model == "wifi6" else NR
    bandwidth = units * radio.granularity_hz
    gains = path_gain(rng.uniform(5, 400, n), WIFI_CHANNEL if model == "wifi6" else CHANNEL)
    queues = qscale * rng.random(n)
    delivery = np.full(n, 1.0 - loss)
    sol = solve_outer(gains, queues, 1.0, bandwidth, splits, radio=radio, deadline_s=deadline,
                      energy_scale_j=1e-3, delivery=delivery)
    priced = queues + energy_price_floor(1.0, n, 1e-3)
    sizes, table, zero = per_robot_utilities(gains, priced, 1.0, splits, radio, bandwidth,
                                             deadline, delivery=delivery)
    best, count = brute_force(sizes, table, zero, total_units(radio, bandwidth))
    assert count >= 1
    # the solver's plan, valued at the priced queues, is the brute-force optimum
    value = objective(sol.accuracy, sol.energy_j, priced, 1.0)
    assert value == pytest.approx(best, rel=1e-9, abs=1e-12)
    assert np.isclose(objective(sol.accuracy, sol.energy_j, queues, 1.0), sol.objective)


@pytest.mark.parametrize("robots, units", [(20, 9), (10, 9), (8, 9), (5, 4), (4, 9)])
def test_units_are_handed_out_when_robots_outnumber_them(robots: int, units: int) -> None:
    """The cases in which the price bisection gave every robot 0 units at Q = 0 (issue 18):
    the knapsack fills the channel with the plans worth most, on the camera-like radio."""
    splits = synthetic_table()
    gains = path_gain(np.linspace(10, 50, robots), WIFI_CHANNEL)
    sol = solve_outer(gains, np.zeros(robots), 1.0, units * WIFI6.granularity_hz, splits,
                      radio=WIFI6, deadline_s=0.033)
    held = np.round(sol.bandwidth_hz / WIFI6.granularity_hz).astype(int)
    assert held.sum() == units or np.all(held > 0)
    assert (held > 0).sum() >= min(robots, 1)
    assert np.all(sol.accuracy[held > 0] > 0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 10_000), v=st.floats(1e-3, 10.0),
       bandwidth=st.floats(10e3, 5e6), deadline=st.floats(0.002, 0.08), qscale=st.floats(0, 10),
       model=st.sampled_from(["shannon", "nr", "wifi6"]))
def test_solver_invariants(*, n, seed, v, bandwidth, deadline, qscale, model) -> None:
    rng = np.random.default_rng(seed)
    splits = synthetic_table()
    radio = {"shannon": RADIO, "nr": NR, "wifi6": WIFI6}[model]
    if model == "wifi6":
        bandwidth = WIFI6.granularity_hz * max(1, round(bandwidth / 2e5))
    gains = path_gain(rng.uniform(10, 300, n), CHANNEL) * rng.exponential(1.0, n)
    queues = qscale * rng.random(n)
    sol = solve_outer(gains, queues, v, bandwidth, splits, radio=radio, deadline_s=deadline,
                      allowed=splits.network)
    assert sol.bandwidth_hz.sum() <= bandwidth * (1 + 1e-9)
    assert np.all(sol.bandwidth_hz >= 0)
    assert np.all((sol.p_ref >= 0) & (sol.p_ref <= radio.p_max_w * (1 + 1e-12)))
    held = sol.bandwidth_hz / unit_hz(radio, bandwidth)
    assert np.allclose(held, np.round(held))
    assert np.all(np.isin(np.round(held[held > 0]), allowed_units(radio, bandwidth)))
    ok = feasible(np.full(n, deadline), splits, radio.slot_s, radio.feedback_s)
    assert np.all(ok[np.arange(n), sol.split] | ~sol.run)  # a feasible plan, or skipped
    assert np.all(sol.bandwidth_hz[~sol.run] == 0) and np.all(sol.p_ref[~sol.run] == 0)
    assert not splits.codec[sol.split].any()  # only the splits a policy allows
    tx = splits.transmits[sol.split] & sol.run
    assert not np.any(tx & (sol.bandwidth_hz <= 0))
    assert np.all(sol.accuracy[sol.run] > 0)  # whatever runs is planned to answer


def test_solver_rejects_bad_input() -> None:
    splits = synthetic_table()
    with pytest.raises(ValueError, match="gains"):
        solve_outer(np.array([-1.0]), np.zeros(1), 1.0, 1e5, splits, radio=RADIO, deadline_s=0.02)
    with pytest.raises(ValueError, match="bandwidth_hz"):
        solve_outer(np.ones(1), np.zeros(1), 1.0, 0.0, splits, radio=RADIO, deadline_s=0.02)
    with pytest.raises(ValueError, match="deadline_s"):
        solve_outer(np.ones(1), np.zeros(1), 1.0, 1e5, splits, radio=RADIO, deadline_s=-1.0)
    with pytest.raises(ValueError, match="energy_scale_j"):
        solve_outer(np.ones(1), np.zeros(1), 1.0, 1e5, splits, radio=RADIO, deadline_s=0.02,
                    energy_scale_j=0.0)


def test_solver_trades_accuracy_for_energy_with_the_queue() -> None:
    """A large queue makes the solver pick a cheaper plan (the DPP trade-off)."""
    splits = synthetic_table()
    gains = path_gain(np.array([60.0, 120.0]), CHANNEL)
    low = solve_outer(gains, np.zeros(2), 1.0, 2e5, splits, radio=RADIO, deadline_s=0.03)
    high = solve_outer(gains, np.full(2, 50.0), 1.0, 2e5, splits, radio=RADIO, deadline_s=0.03)
    assert high.energy_j.sum() < low.energy_j.sum()
    assert high.accuracy.mean() <= low.accuracy.mean() + 1e-9


def test_a_hopeless_window_is_skipped_not_computed() -> None:
    """Robots too far to deliver one packet of any split in a 4 ms window skip the task
    (energy 0) instead of paying for a head whose output is never sent."""
    splits = synthetic_table()
    gains = path_gain(np.array([5000.0, 6000.0]), CHANNEL)
    sol = solve_outer(gains, np.zeros(2), 1.0, 2e4, splits, radio=RADIO, deadline_s=0.004)
    assert not sol.run.any() and sol.energy_j.sum() == 0


def test_codec_options_are_planned_all_or_nothing() -> None:
    """A codec frame counts only when all of it gets through; where a policy allows codec
    options the solver may pick one, and then plans every packet of it."""
    splits = synthetic_table()
    gains = path_gain(np.array([20.0, 30.0]), WIFI_CHANNEL)
    allowed = np.ones(splits.n_splits, bool)
    allowed[splits.index_of_kind("edge_only")] = False  # else the 784-byte raw input wins
    sol = solve_outer(gains, np.full(2, 5.0), 1.0, 9 * WIFI6.granularity_hz, splits,
                      radio=WIFI6, deadline_s=0.02, allowed=allowed)
    codec = splits.codec[sol.split] & sol.run
    assert codec.all()  # a few hundred bytes against heads of 12-36 mJ
    assert np.all(sol.beta[codec] == 1.0)
    assert np.allclose(sol.accuracy[codec], splits.accuracy_full[sol.split[codec]])


def test_a_wider_share_finishes_sooner_and_saves_the_circuits_energy() -> None:
    """With circuit power, delivering the same bits at the same SNR on two units costs less
    than on one: the radiated energy is the same, the transmitter is on half as long."""
    splits = synthetic_table()
    s = splits.index("stage2")
    h = path_gain(20.0, WIFI_CHANNEL)
    w = np.array([1.0, 2.0]) * WIFI6.granularity_hz
    p = 10 ** 4.0 * WIFI6.noise_psd_w_per_hz * w / h  # 40 dB on either share
    acc, energy, _ = plan_outcome(np.full(2, s), w, p, np.full(2, h), np.full(2, 0.05),
                                  splits=splits, radio=WIFI6)
    assert acc[0] == acc[1] and energy[1] < energy[0]
    radiated = replace(WIFI6, power=replace(WIFI6.power, tx_circuit_w=0.0, listen_w=0.0,
                                            sleep_w=0.0))
    _, e_rad, _ = plan_outcome(np.full(2, s), w, p, np.full(2, h), np.full(2, 0.05),
                               splits=splits, radio=radiated)
    assert e_rad[0] == pytest.approx(e_rad[1], rel=1e-6)


def test_ties_go_to_the_cheaper_plan_at_the_configurations_energy_scale() -> None:
    """Two plans of the same planned accuracy: at an empty queue the solver takes the one with
    less energy."""
    splits = synthetic_table()
    gains = path_gain(np.array([30.0]), CHANNEL)  # so close that every split gets through
    for scale in (1e-3, 3e-2):
        sol = solve_outer(gains, np.zeros(1), 1.0, 2e6, splits, radio=RADIO, deadline_s=0.05,
                          energy_scale_j=scale)
        priced = energy_price_floor(1.0, 1, scale)
        _, table, zero = per_robot_utilities(gains, np.full(1, priced), 1.0, splits, RADIO,
                                                 2e6, 0.05)
        assert objective(sol.accuracy, sol.energy_j, np.full(1, priced), 1.0) == pytest.approx(
            max(table.max(), zero[0]), rel=1e-9)


def test_a_one_packet_task_gets_enough_airtime_for_its_losses() -> None:
    """The issue-11 failure: at 50% residual loss, planning on the SNR alone gives a one-packet
    task airtime for 2 attempts (75% arrive); the loss-aware plan for 4 (94%) or another plan."""
    splits = synthetic_table()
    edge = splits.index_of_kind("edge_only")
    gains = path_gain(np.array([60.0]), CHANNEL)
    allowed = np.zeros(splits.n_splits, bool)
    allowed[edge] = True
    kw = {"radio": RADIO, "deadline_s": 0.03, "allowed": allowed}
    for d in (1.0, 0.7, 0.5):
        sol = solve_outer(gains, np.zeros(1), 1.0, 2e5, splits, delivery=np.array([d]), **kw)
        if not sol.run[0]:
            continue
        rate = expected_rate_bps(sol.bandwidth_hz,
                                 snr(sol.bandwidth_hz, sol.p_ref, gains,
                                     RADIO.noise_psd_w_per_hz), RADIO)
        attempts = (rate * sol.window_s / splits.payload_bits[edge])[0]
        assert attempts >= 2.0 / d - 1e-6, (d, attempts)


def test_device_parameters_reach_the_plans() -> None:
    """Compute energy is the device's: a table built with a hungrier board costs more."""
    from sim_fixtures import synthetic_dir

    from enachi_ros.core.artifact import load_artifact
    from enachi_ros.core.split_table import SplitTable

    profile = load_artifact(synthetic_dir()).profile
    hungry = SplitTable.from_profile(profile, replace(DEVICE, device_active_power_w=30.0))
    base = synthetic_table()
    net = base.network & base.transmits
    assert np.all(hungry.compute_j[net] >= base.compute_j[net])
