"""The measured delivery rate (core.delivery): a pooled, bit-weighted ratio of lost over sent
packets, forgotten per frame towards a permanent prior; unbiased (up to the prior's weight)
where the mean of per-task ratios is not; the scheduler's per-report path and the simulator's
per-frame path give the same estimate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enachi_ros.core.delivery import (
    DELIVERY_FLOOR,
    DeliveryEstimator,
    report_bits_sent,
    report_loss_rate,
)


def one_packet_tasks(rng: np.random.Generator, loss: float, tasks: int, attempts: int = 50):
    """Lost / sent of one-packet tasks re-sent until it arrives (or ``attempts`` run out)."""
    sent = np.minimum(rng.geometric(1.0 - loss, tasks), attempts)
    lost = sent - 1 + (sent == attempts) * (rng.random(tasks) < loss)
    return report_loss_rate(lost, sent), sent


def test_prior_before_any_report_and_validation() -> None:
    est = DeliveryEstimator(3, prior_loss=0.2)
    assert np.allclose(est.delivery, 0.8)
    for bad in ({"n_robots": 0}, {"prior_loss": 1.0}, {"smoothing": 0.0},
                {"prior_reports": 0.0}, {"floor": 0.0}):
        kw = {"n_robots": 2, **bad}
        with pytest.raises(ValueError, match=next(iter(bad))):
            DeliveryEstimator(**kw)


@settings(max_examples=30, deadline=None)
@given(loss=st.floats(0.05, 0.8), seed=st.integers(0, 10_000))
def test_pooled_estimate_is_unbiased_under_resending_where_the_mean_of_ratios_is_not(
        loss, seed) -> None:
    """One-packet tasks with re-sending report (N - 1) / N; their mean is far below the loss
    (0.31 at 0.5), the estimator's bit-weighted pooled ratio is not."""
    rng = np.random.default_rng(seed)
    rates, sent = one_packet_tasks(rng, loss, 4000)
    bits = 6272.0 * sent
    est = DeliveryEstimator(1, 0.01, smoothing=1e-3)  # long memory: the pooled ratio
    for r, b in zip(rates, bits, strict=True):
        est.update(r, b)
    assert 1.0 - est.delivery[0] == pytest.approx(loss, abs=0.05)
    d = 1.0 - loss
    assert rates.mean() == pytest.approx(1.0 + d * np.log(d) / (1.0 - d), abs=0.03)


def test_default_smoothing_tracks_the_loss_within_a_few_seconds_of_reports() -> None:
    rng = np.random.default_rng(1)
    est = DeliveryEstimator(1, prior_loss=0.01)
    errors = []
    for loss in (0.5, 0.3):
        rates, sent = one_packet_tasks(rng, loss, 60)  # 12 s of one robot's tasks at 5 Hz
        for k, (r, s) in enumerate(zip(rates, sent, strict=True)):
            est.update(r, 6272.0 * s)
            if k >= 30:
                errors.append(abs(1.0 - est.delivery[0] - loss))
    assert np.mean(errors) < 0.1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e6))
def test_invariant_to_the_unit_of_the_weights_and_robots_are_independent(seed, scale) -> None:
    rng = np.random.default_rng(seed)
    a, b = DeliveryEstimator(3, 0.1), DeliveryEstimator(3, 0.1)
    for _ in range(20):
        loss = rng.random(3)
        bits = rng.uniform(0, 1e4, 3) * (rng.random(3) < 0.8)
        loss[rng.random(3) < 0.2] = np.nan  # robots that did not report
        a.update(loss, bits)
        b.update(loss, bits * scale)
    assert np.allclose(a.delivery, b.delivery)
    c = DeliveryEstimator(3, 0.1)
    c.note(1, 0.9, 100.0)  # prior 10 bits at 0.1, report 10 bits at 0.9
    assert c.delivery[[0, 2]] == pytest.approx([0.9, 0.9]) and c.delivery[1] < 0.9


@settings(max_examples=50, deadline=None)
@given(reports=st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                                  st.floats(allow_nan=True, allow_infinity=True)),
                        max_size=30),
       prior=st.floats(0.0, 0.99))
def test_estimate_is_always_a_rate_in_floor_one(reports, prior) -> None:
    """Whatever arrives (NaN, out of range, negative or infinite weights are ignored), the
    planned delivery is finite in [floor, 1]."""
    est = DeliveryEstimator(1, prior)
    for loss, bits in reports:
        d = est.update(loss, bits)
        assert np.all(np.isfinite(d)) and np.all((d >= DELIVERY_FLOOR) & (d <= 1.0))
    lost = DeliveryEstimator(1, 0.99)
    for _ in range(200):
        lost.update(1.0, 1e3)  # every packet lost: the floor, never zero
    assert lost.delivery[0] == pytest.approx(DELIVERY_FLOOR)


def test_reports_that_sent_nothing_carry_no_information() -> None:
    est = DeliveryEstimator(2, 0.05)
    est.update([0.0, 0.0], [0.0, 0.0])  # nothing sent (every slot in outage): loss 0 / 1
    assert np.allclose(est.delivery, 0.95)
    assert report_bits_sent(0.0, 15, 0.005) == 0.0
    assert report_bits_sent(float("nan"), 15, 0.005) == 0.0
    assert report_bits_sent(8 * 784 / (15 * 0.005), 15, 0.005) == pytest.approx(8 * 784)
    assert report_loss_rate(0, 0) == 0.0 and report_loss_rate(3, 4) == 0.75


def test_the_prior_counts_as_prior_reports_reports() -> None:
    """The prior weighs as one report of the robot's first report's size and is never
    forgotten; the reports are forgotten per frame."""
    est = DeliveryEstimator(1, prior_loss=0.1, smoothing=0.5, prior_reports=1.0)
    est.update(0.5, 1000.0)  # prior 0.5 * 1000, the report 0.5 * 1000
    assert 1.0 - est.delivery[0] == pytest.approx((0.1 * 500 + 0.5 * 500) / 1000)
    est.step()  # the report now weighs 250, the prior still 500
    assert 1.0 - est.delivery[0] == pytest.approx((0.1 * 500 + 0.5 * 250) / 750)


def test_a_robot_that_stops_sending_drifts_back_to_the_prior() -> None:
    """A pessimistic estimate must not freeze: once a robot's plans stop transmitting it
    reports nothing, and its estimate returns to the prior frame by frame."""
    est = DeliveryEstimator(2)  # prior: no residual loss
    for _ in range(30):
        est.update([0.9, 0.9], [6272.0, 6272.0])
    low = est.delivery.copy()
    assert np.all(low < 0.25)
    seen = [low[0]]
    for _ in range(60):
        est.update([np.nan, 0.9], [0.0, 6272.0])  # robot 0 silent, robot 1 still reporting
        seen.append(est.delivery[0])
    assert np.all(np.diff(seen) >= 0) and seen[-1] > 0.95
    assert est.delivery[1] == pytest.approx(low[1], abs=0.01)  # steady, reporting


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), frames=st.integers(1, 40))
def test_scheduler_and_simulator_paths_agree(seed, frames) -> None:
    """The simulator: per frame ``update`` (step, then the frame's reports). The scheduler:
    ``note`` each report as it arrives, ``step`` right after each decision. The estimate each
    decision reads is the same."""
    rng = np.random.default_rng(seed)
    sim, node = DeliveryEstimator(3), DeliveryEstimator(3)
    for _ in range(frames):
        assert np.allclose(sim.delivery, node.delivery)  # what frame m is decided with
        node.step()  # right after the scheduler's decision
        loss = rng.random(3)
        bits = rng.uniform(0, 1e4, 3) * (rng.random(3) < 0.7)
        sim.update(loss, bits)
        for i in rng.permutation(3):  # reports arrive one by one, in any order
            if bits[i] > 0:
                node.note(i, loss[i], bits[i])
    assert np.allclose(sim.delivery, node.delivery)
